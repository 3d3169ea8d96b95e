package clearance

import (
	"errors"
	"strings"
	"testing"
)

func TestParseMessageType(t *testing.T) {
	t.Parallel()
	for _, mt := range []MessageType{CEB311, CEB411, CEB511, CEB621, CEB303, CEB403, CEB505, CEB603, CEB623, CEB625} {
		byName, err1 := ParseMessageType(mt.Name())
		byCode, err2 := ParseMessageType(strings.ToLower(string(mt)))
		if byName != mt || byCode != mt || err1 != nil || err2 != nil {
			t.Errorf("%s: by name %s %v, by code %s %v", mt, byName, err1, byCode, err2)
		}
		doc, err := NewDocument(mt)
		if err != nil || doc.Kind() != mt.Kind() || doc.Direction() != mt.Direction() {
			t.Errorf("NewDocument(%s) = %T %v", mt, doc, err)
		}
	}
	if _, err := ParseMessageType("CEB999"); err == nil {
		t.Error("CEB999 accepted")
	}
}

func TestFormatDecimal(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"123.06000": "123.06", "100": "100.00", "0.12345": "0.12345", "33.3330": "33.333", "-1.5": "-1.50"} {
		if got := formatDecimal(dec(in)); got != want {
			t.Errorf("formatDecimal(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestErrorTexts(t *testing.T) {
	t.Parallel()
	_, err := DecodeJSON([]byte(`{"type": "order", "buyerIdNumber": "44030519900101123", "goodsValue": 1}`), KindOrder)
	var ve *ValidationError
	if !errors.As(err, &ve) || !strings.HasPrefix(err.Error(), "VALIDATION_FAILED: ") || strings.Contains(err.Error(), "0519900101") {
		t.Errorf("validation error text %q", err)
	}
	if got := ve.Prefix("documents[2].").Errors[0].Field; !strings.HasPrefix(got, "documents[2].") {
		t.Errorf("prefixed field %q", got)
	}
	_, err = DecodeXML(strings.NewReader("<a/>"), KindOrder)
	if !errors.Is(err, ErrXMLNamespace) || !strings.HasPrefix(err.Error(), "XML_NAMESPACE: ") {
		t.Errorf("decode error text %q", err)
	}
	if errors.Is(err, ErrXMLRoot) {
		t.Error("an XML_NAMESPACE error matches ErrXMLRoot")
	}
	if s := ParsePersonalID("44030519900101123X").String(); s != "4403**********123X" {
		t.Errorf("String() = %q", s)
	}
}
