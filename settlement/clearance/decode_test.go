package clearance

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// jsonFixtureOrders returns the JSON twins of the CEB311 fixture's orders.
func jsonFixtureOrders(t *testing.T) []json.RawMessage {
	t.Helper()
	data, err := os.ReadFile("testdata/ceb311-orders.json")
	if err != nil {
		t.Fatal(err)
	}
	var docs []json.RawMessage
	if err := json.Unmarshal(data, &docs); err != nil {
		t.Fatal(err)
	}
	return docs
}

func TestXMLAndJSONDecodeToIdenticalValues(t *testing.T) {
	t.Parallel()
	fromXML := readFixture(t, "ceb311-orders.xml").Documents
	fromJSON := jsonFixtureOrders(t)
	if len(fromXML) != 2 || len(fromJSON) != 2 {
		t.Fatalf("%d XML and %d JSON orders, want 2 and 2", len(fromXML), len(fromJSON))
	}
	for i, raw := range fromJSON {
		doc, err := DecodeJSON(raw, KindOrder)
		if err != nil {
			t.Fatalf("order %d: %v", i, err)
		}
		if !reflect.DeepEqual(doc, fromXML[i]) {
			t.Errorf("order %d differs:\nJSON %+v\nXML  %+v", i, doc, fromXML[i])
		}
	}
	o := fromXML[0].(*Order)
	if o.Currency != "CNY" || o.AppTime.String() != "2015-11-11 01:30:15 +0000 UTC" || o.BuyerIDNumber.Reveal() != "44030519900101123X" {
		t.Errorf("decoded currency %s time %s: want CNY and 09:30:15 China time in UTC", o.Currency, o.AppTime)
	}
}

// orderBlock is the first ceb:Order element of the CEB311 fixture.
func orderBlock(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("testdata/ceb311-orders.xml")
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	start := strings.Index(s, "<ceb:Order>")
	end := strings.Index(s, "</ceb:Order>") + len("</ceb:Order>")
	return s[start:end]
}

// orderMessage builds a CEB311 message of n copies of fixture order 1, the
// i-th with order number QH…-i.
func orderMessage(t *testing.T, n int) string {
	t.Helper()
	block := orderBlock(t)
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<ceb:CEB311Message xmlns:ceb="http://www.chinaport.gov.cn/ceb" guid="G" version="1.0">`)
	for i := range n {
		b.WriteString(strings.Replace(block, order1, fmt.Sprintf("%s-%d", order1, i), 1))
	}
	b.WriteString(`<ceb:BaseTransfer><ceb:copCode>4403960001</ceb:copCode><ceb:copName>Mall</ceb:copName>` +
		`<ceb:dxpMode>DXP</ceb:dxpMode><ceb:dxpId>DXPENT0000000001</ceb:dxpId></ceb:BaseTransfer></ceb:CEB311Message>`)
	return b.String()
}

// TestXMLMessageOfThreeHeadsEqualsJSON: a CEB311 message with 3 orders of 2
// lines gives the documents that the JSON path gives one by one.
func TestXMLMessageOfThreeHeadsEqualsJSON(t *testing.T) {
	t.Parallel()
	msg, err := DecodeXML(strings.NewReader(orderMessage(t, 3)), KindOrder)
	if err != nil {
		t.Fatal(err)
	}
	if msg.Type != CEB311 || msg.GUID != "G" || msg.Version != "1.0" || msg.Transfer.CopCode != "4403960001" || len(msg.Documents) != 3 {
		t.Fatalf("message %+v", msg)
	}
	for i, doc := range msg.Documents {
		js := strings.Replace(string(jsonFixtureOrders(t)[0]), order1, fmt.Sprintf("%s-%d", order1, i), 1)
		want, err := DecodeJSON([]byte(js), KindOrder)
		if err != nil {
			t.Fatal(err)
		}
		if len(doc.(*Order).Lines) != 2 || !reflect.DeepEqual(doc, want) {
			t.Errorf("document %d: XML %+v, JSON %+v", i, doc, want)
		}
	}
}

// orderJSON is JSON fixture order 1 changed by edit.
func orderJSON(t *testing.T, edit func(m map[string]any)) []byte {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(jsonFixtureOrders(t)[0]))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func line(m map[string]any, i int) map[string]any { return m["lines"].([]any)[i].(map[string]any) }

// fieldErrors returns "field CODE" for every field error of err.
func fieldErrors(t *testing.T, err error) []string {
	t.Helper()
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error %v, want a *ValidationError", err)
	}
	var out []string
	for _, fe := range ve.Errors {
		out = append(out, fe.Field+" "+fe.Code)
	}
	return out
}

func TestDecodeJSONFieldErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body func(t *testing.T) []byte
		want Kind
		errs []string
	}{
		{"unknown field", func(t *testing.T) []byte {
			return orderJSON(t, func(m map[string]any) { m["actualPaid"] = "316.39" })
		}, KindOrder, []string{"actualPaid UNKNOWN_FIELD"}},
		{"field names are case-sensitive", func(t *testing.T) []byte {
			return orderJSON(t, func(m map[string]any) { m["OrderNo"] = m["orderNo"]; delete(m, "orderNo") })
		}, KindOrder, []string{"OrderNo UNKNOWN_FIELD", "orderNo REQUIRED"}},
		{"amount as a JSON number", func(t *testing.T) []byte {
			return orderJSON(t, func(m map[string]any) { m["goodsValue"] = json.Number("300.00") })
		}, KindOrder, []string{"goodsValue AMOUNT_NOT_STRING"}},
		{"line amount as a JSON number", func(t *testing.T) []byte {
			return orderJSON(t, func(m map[string]any) { line(m, 1)["price"] = json.Number("100") })
		}, KindOrder, []string{"lines[1].price AMOUNT_NOT_STRING"}},
		{"amount with an exponent", func(t *testing.T) []byte {
			return orderJSON(t, func(m map[string]any) { m["goodsValue"] = "3e2" })
		}, KindOrder, []string{"goodsValue INVALID_DECIMAL"}},
		{"appType as a string", func(t *testing.T) []byte {
			return orderJSON(t, func(m map[string]any) { m["appType"] = "1" })
		}, KindOrder, []string{"appType INVALID_TYPE"}},
		{"text as an object", func(t *testing.T) []byte {
			return orderJSON(t, func(m map[string]any) { m["buyerName"] = map[string]any{"first": "San"} })
		}, KindOrder, []string{"buyerName INVALID_TYPE"}},
		{"lines not an array", func(t *testing.T) []byte {
			return orderJSON(t, func(m map[string]any) { m["lines"] = "two" })
		}, KindOrder, []string{"lines INVALID_TYPE"}},
		{"a line that is not an object", func(t *testing.T) []byte {
			return orderJSON(t, func(m map[string]any) { m["lines"].([]any)[1] = "vitamins" })
		}, KindOrder, []string{"lines[1] INVALID_TYPE"}},
		{"unknown line field", func(t *testing.T) []byte {
			return orderJSON(t, func(m map[string]any) { line(m, 0)["gcode"] = "1901101000" })
		}, KindOrder, []string{"lines[0].gcode UNKNOWN_FIELD"}},
		{"unknown currency", func(t *testing.T) []byte {
			return orderJSON(t, func(m map[string]any) { m["currency"] = "999" })
		}, KindOrder, []string{"currency INVALID_CURRENCY"}},
		{"bad time", func(t *testing.T) []byte {
			return orderJSON(t, func(m map[string]any) { m["appTime"] = "2015-11-11 09:30" })
		}, KindOrder, []string{"appTime INVALID_TIME"}},
		{"duplicate member", func(t *testing.T) []byte {
			return []byte(strings.Replace(string(orderJSON(t, func(map[string]any) {})), "{", `{"orderNo":"X",`, 1))
		}, KindOrder, []string{"orderNo DUPLICATE_FIELD"}},
		{"an order sent as a payment", func(t *testing.T) []byte {
			return orderJSON(t, func(map[string]any) {})
		}, KindPayment, []string{"type WRONG_DOCUMENT_TYPE"}},
		{"unknown type", func(t *testing.T) []byte {
			return orderJSON(t, func(m map[string]any) { m["type"] = "CEB999" })
		}, KindOrder, []string{"type INVALID_VALUE"}},
		{"batch item without a type", func(t *testing.T) []byte {
			return orderJSON(t, func(m map[string]any) { delete(m, "type") })
		}, "", []string{"type REQUIRED"}},
		{"every error at once", func(t *testing.T) []byte {
			return orderJSON(t, func(m map[string]any) {
				m["appType"] = json.Number("4")
				m["ebpCode"] = "4403-96"
				delete(m, "consignee")
				line(m, 0)["gnum"] = json.Number("2")
				line(m, 1)["qty"] = "0"
			})
		}, KindOrder, []string{"appType INVALID_VALUE", "ebpCode INVALID_ENTERPRISE_CODE", "consignee REQUIRED",
			"lines[1].gnum DUPLICATE_GNUM", "lines[1].qty NOT_POSITIVE"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			doc, err := DecodeJSON(tt.body(t), tt.want)
			if doc != nil {
				t.Errorf("a refused document was returned: %+v", doc)
			}
			if got := fieldErrors(t, err); !slices.Equal(got, tt.errs) {
				t.Errorf("errors %q, want %q", got, tt.errs)
			}
		})
	}
}

func TestDecodeJSONMalformed(t *testing.T) {
	t.Parallel()
	for _, body := range []string{``, `{`, `[]`, `"order"`, `{"orderNo": }`, `{} {}`, `{"orderNo": "1"} x`} {
		doc, err := DecodeJSON([]byte(body), KindOrder)
		if doc != nil || !errors.Is(err, ErrJSONMalformed) {
			t.Errorf("%q: doc %v, err %v; want JSON_MALFORMED", body, doc, err)
		}
	}
}

// TestJSONRoundTrip: a document written by MarshalJSON decodes to itself
// (for documents without personal IDs, which are written masked).
func TestJSONRoundTrip(t *testing.T) {
	t.Parallel()
	docs := []Document{fixtureChain(t, order1).Waybill}
	for _, d := range exportChain(t).documents() {
		docs = append(docs, d)
	}
	for _, d := range docs {
		b, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		back, err := DecodeJSON(b, "")
		if err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if !documentsEqual(back, d) {
			t.Errorf("round trip of %s changed it:\n%+v\n%+v", d.Header().Message, back, d)
		}
	}
}

// documents lists the chain's documents.
func (c Chain) documents() []Document { return []Document{c.Order, c.Payment, c.Waybill, c.Inventory} }

// documentsEqual compares through JSON, where equal amounts written with
// other trailing zeros ("2" and "2.00") look the same.
func documentsEqual(a, b Document) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb) && a.Header().Message == b.Header().Message
}
