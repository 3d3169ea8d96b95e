package api

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/xbsettle/xbsettle/internal/apperr"
)

// TestGuardJSON: what the guard refuses and where, and what it lets pass.
func TestGuardJSON(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ body, want string }{
		{`{"a":1,"b":[1,2,{"c":"x"}],"d":-12.50,"e":true,"f":null}`, ""},
		{`{"t\u00e9":"\u00e9\ud83d\ude00"}`, ""},
		{`{"a":1,"a":2}`, "a:DUPLICATE_FIELD"},
		{`{"a":1,"\u0061":2}`, "a:DUPLICATE_FIELD"},
		{`{"o":{"x":1},"p":{"x":1}}`, ""},
		{`{"a":"\u001f"}`, "a:CONTROL_CHARACTER"},
		{`{"a":"\u007f"}`, "a:CONTROL_CHARACTER"},
		{`{"a":"` + "\u0085" + `"}`, "a:CONTROL_CHARACTER"},
		{`{"a":["ok","\r"]}`, "a[1]:CONTROL_CHARACTER"},
		{`{"a":"\u00a0\u2028"}`, ""},
		{`{"a":1e5}`, "a:NUMBER_INVALID"},
		{`{"a":1.5E+2}`, "a:NUMBER_INVALID"},
		{`{"a":` + strings.Repeat("1", 41) + `}`, "a:NUMBER_INVALID"},
		{`{"a":` + strings.Repeat("1", 40) + `}`, ""},
		{strings.Repeat(`[`, 16) + strings.Repeat(`]`, 16), ""},
		{strings.Repeat(`[`, 17) + strings.Repeat(`]`, 17), strings.Repeat("[0]", 15) + "[0]:NESTING_TOO_DEEP"},
	} {
		err := guardJSON(context.Background(), []byte(c.body))
		var ae *apperr.Error
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.body, err)
		case c.want == "":
		case !errors.As(err, &ae) || len(ae.Fields) == 0:
			t.Errorf("%s: %v, want %s", c.body, err, c.want)
		case ae.Fields[0].Field+":"+ae.Fields[0].Code != c.want:
			t.Errorf("%s: %s:%s, want %s", c.body, ae.Fields[0].Field, ae.Fields[0].Code, c.want)
		}
	}
}

// TestGuardJSONIsBounded: a body of many duplicates answers the capped list
// with every one counted; one with too many members stops with one error.
func TestGuardJSONIsBounded(t *testing.T) {
	t.Parallel()
	var ae *apperr.Error
	err := guardJSON(context.Background(), []byte(`{"a":[`+strings.Repeat(`{"k":1,"k":2},`, 999)+`{}]}`))
	if !errors.As(err, &ae) || len(ae.Fields) != apperr.MaxFields || ae.FieldsTotal != 999 {
		t.Fatalf("%v", err)
	}
	err = guardJSON(context.Background(), []byte(`{`+strings.Repeat(`"k":1,`, 5000)+`"z":1}`))
	if !errors.As(err, &ae) || len(ae.Fields) != 1 || ae.Fields[0].Code != codeTooManyFields {
		t.Fatalf("%v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := guardJSON(ctx, []byte(`[`+strings.Repeat(`["x","x","x","x","x"],`, 999)+`"x"]`)); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}

// TestSafeCell: formula starters are quoted, plain numbers and text are not.
func TestSafeCell(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"=1+1": "'=1+1", "+86 138": "'+86 138", "-2+3": "'-2+3", "@SUM(A1)": "'@SUM(A1)", "\tx": "'\tx", "\rx": "'\rx",
		"-12.50": "-12.50", "-3": "-3", "12.50": "12.50", "": "", "ORD-1": "ORD-1", "-": "'-", "-1.": "'-1.",
	} {
		if got := safeCell(in); got != want {
			t.Errorf("safeCell(%q) = %q, want %q", in, got, want)
		}
	}
}

// BenchmarkGuardJSON: the guard over a 1 MiB body of postings.
func BenchmarkGuardJSON(b *testing.B) {
	item := `{"account_id":"0190c1a8-7b2e-7c3d-9e4f-a1b2c3d4e5f6","direction":"debit","amount":"10.50","currency":"CNY"},`
	body := []byte(`{"description":"x","metadata":{"a":1},"postings":[` + strings.Repeat(item, 999) + item[:len(item)-1] + `]}`)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for range b.N {
		if err := guardJSON(context.Background(), body); err != nil {
			b.Fatal(err)
		}
	}
}
