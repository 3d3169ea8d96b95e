package clearance

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
)

func fixtureText(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestDecodeXMLRefusesBadMessages(t *testing.T) {
	t.Parallel()
	const transfer = "<ceb:BaseTransfer>"
	tests := []struct {
		name string
		body func(t *testing.T) string
		want Kind
		err  error
	}{
		{"empty body", func(*testing.T) string { return "" }, KindOrder, ErrXMLMalformed},
		{"truncated", func(t *testing.T) string { return fixtureText(t, "ceb311-orders.xml")[:900] }, KindOrder, ErrXMLMalformed},
		{"not XML", func(*testing.T) string { return `{"orderNo": "1"}` }, KindOrder, ErrXMLMalformed},
		{"mismatched tags", func(t *testing.T) string {
			return strings.Replace(fixtureText(t, "ceb311-orders.xml"), "</ceb:orderNo>", "</ceb:orderN>", 1)
		}, KindOrder, ErrXMLMalformed},
		{"a DTD", func(t *testing.T) string {
			return strings.Replace(fixtureText(t, "ceb311-orders.xml"), "?>", "?><!DOCTYPE x [<!ENTITY a \"b\">]>", 1)
		}, KindOrder, ErrXMLMalformed},
		{"content after the root", func(t *testing.T) string { return fixtureText(t, "ceb311-orders.xml") + "<x/>" }, KindOrder, ErrXMLMalformed},
		{"wrong namespace", func(t *testing.T) string {
			return strings.Replace(fixtureText(t, "ceb311-orders.xml"), Namespace, "http://example.com/ceb", 1)
		}, KindOrder, ErrXMLNamespace},
		{"no namespace", func(t *testing.T) string {
			s := strings.ReplaceAll(fixtureText(t, "ceb311-orders.xml"), "ceb:", "")
			return strings.Replace(s, `xmlns:ceb="`+Namespace+`"`, "", 1)
		}, KindOrder, ErrXMLNamespace},
		{"a foreign field", func(t *testing.T) string {
			return strings.Replace(fixtureText(t, "ceb311-orders.xml"), "<ceb:orderNo>", `<x:orderNo xmlns:x="urn:x">1</x:orderNo><ceb:orderNo>`, 1)
		}, KindOrder, ErrXMLNamespace},
		{"payments sent to the order endpoint", func(t *testing.T) string { return fixtureText(t, "ceb411-payments.xml") }, KindOrder, ErrXMLRoot},
		{"not a CEB root", func(t *testing.T) string {
			return strings.ReplaceAll(fixtureText(t, "ceb311-orders.xml"), "CEB311Message", "CEB999Message")
		}, "", ErrXMLRoot},
		{"no guid", func(t *testing.T) string {
			return strings.Replace(fixtureText(t, "ceb311-orders.xml"), ` guid="4CDE1CFD-EDED-46B1-946C-B8022E42FC94"`, "", 1)
		}, KindOrder, ErrXMLStructure},
		{"no documents", func(t *testing.T) string { return orderMessage(t, 0) }, KindOrder, ErrNoDocuments},
		{"101 documents", func(t *testing.T) string { return orderMessage(t, 101) }, KindOrder, ErrTooManyDocuments},
		{"no BaseTransfer", func(t *testing.T) string {
			s := fixtureText(t, "ceb311-orders.xml")
			return s[:strings.Index(s, transfer)] + "</ceb:CEB311Message>"
		}, KindOrder, ErrXMLStructure},
		{"a document after BaseTransfer", func(t *testing.T) string {
			return strings.Replace(orderMessage(t, 1), "</ceb:CEB311Message>", orderBlock(t)+"</ceb:CEB311Message>", 1)
		}, KindOrder, ErrXMLStructure},
		{"an order without head", func(t *testing.T) string {
			s := fixtureText(t, "ceb311-orders.xml")
			return s[:strings.Index(s, "<ceb:OrderHead>")] + s[strings.Index(s, "</ceb:OrderHead>")+len("</ceb:OrderHead>"):]
		}, KindOrder, ErrXMLStructure},
		{"two heads", func(t *testing.T) string {
			s := fixtureText(t, "ceb311-orders.xml")
			head := s[strings.Index(s, "<ceb:OrderHead>") : strings.Index(s, "</ceb:OrderHead>")+len("</ceb:OrderHead>")]
			return strings.Replace(s, head, head+head, 1)
		}, KindOrder, ErrXMLStructure},
		{"lines in a payment", func(t *testing.T) string {
			return strings.Replace(fixtureText(t, "ceb411-payments.xml"), "</ceb:PaymentHead>", "</ceb:PaymentHead><ceb:PaymentList><ceb:gnum>1</ceb:gnum></ceb:PaymentList>", 1)
		}, KindPayment, ErrXMLStructure},
		{"a field holding an element", func(t *testing.T) string {
			return strings.Replace(fixtureText(t, "ceb311-orders.xml"), "<ceb:orderNo>", "<ceb:orderNo><ceb:b/>", 1)
		}, KindOrder, ErrXMLStructure},
		{"text between fields", func(t *testing.T) string {
			return strings.Replace(fixtureText(t, "ceb311-orders.xml"), "<ceb:orderNo>", "stray<ceb:orderNo>", 1)
		}, KindOrder, ErrXMLStructure},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			msg, err := DecodeXML(strings.NewReader(tt.body(t)), tt.want)
			if tt.err == nil {
				if err != nil {
					t.Fatalf("err %v, want none", err)
				}
				return
			}
			var de *DecodeError
			if msg != nil || !errors.Is(err, tt.err) || !errors.As(err, &de) {
				t.Fatalf("msg %v, err %v; want %v", msg, err, tt.err)
			}
			if de.Message == "" {
				t.Errorf("%s without a message", de.Code)
			}
		})
	}
}

func TestDecodeXMLAcceptsOneHundredDocumentsAndASignature(t *testing.T) {
	t.Parallel()
	body := strings.Replace(orderMessage(t, MaxDocuments), "</ceb:CEB311Message>",
		`<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo/></ds:Signature></ceb:CEB311Message>`, 1)
	msg, err := DecodeXML(strings.NewReader(body), KindOrder)
	if err != nil || len(msg.Documents) != MaxDocuments {
		t.Fatalf("err %v; want %d documents", err, MaxDocuments)
	}
}

func TestDecodeXMLFieldErrorsNameTheDocument(t *testing.T) {
	t.Parallel()
	s := fixtureText(t, "ceb311-orders.xml")
	// The second order: a bad amount and an unknown field; the sender: a bad code.
	second := strings.Index(s, "QH20151111000002")
	s = s[:second] + strings.Replace(s[second:], "<ceb:goodsValue>100.00</ceb:goodsValue>",
		"<ceb:goodsValue>1OO.00</ceb:goodsValue><ceb:giftWrap>yes</ceb:giftWrap>", 1)
	s = strings.Replace(s, "<ceb:copCode>4403960001</ceb:copCode>", "<ceb:copCode>4403</ceb:copCode>", 1)
	// The first order: a resident ID that is not even 18 characters.
	s = strings.Replace(s, "44030519900101123X", "4403051990010112", 1)
	msg, err := DecodeXML(strings.NewReader(s), KindOrder)
	want := []string{
		"documents[0].buyerIdNumber INVALID_ID_NUMBER",
		"documents[1].goodsValue INVALID_DECIMAL",
		"documents[1].giftWrap UNKNOWN_FIELD",
		"baseTransfer.copCode INVALID_ENTERPRISE_CODE",
	}
	if got := fieldErrors(t, err); msg != nil || !slices.Equal(got, want) {
		t.Errorf("errors %q, want %q (and no message)", got, want)
	}
}
