package clearance

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"testing/quick"
)

// TestAppendJSONStringIsEncodingJSON: the encoder writes strings byte for
// byte as encoding/json does, so fingerprints do not depend on the encoder.
func TestAppendJSONStringIsEncodingJSON(t *testing.T) {
	t.Parallel()
	same := func(s string) bool {
		want, _ := json.Marshal(s)
		return bytes.Equal(appendJSONString(nil, s), want)
	}
	for _, s := range []string{"", "plain", `"quoted" \ back`, "<a href='x'>&amp;</a>", "tab\tnew\nline\r\b\f\x00\x1f\x7f",
		"中文 地址", "\u2028\u2029", "bad \xff\xfe utf-8", "\xe4\xb8", "emoji 😀"} {
		if !same(s) {
			t.Errorf("%q: %s, encoding/json %s", s, appendJSONString(nil, s), func() []byte { b, _ := json.Marshal(s); return b }())
		}
	}
	if err := quick.Check(same, &quick.Config{MaxCount: 5000}); err != nil {
		t.Error(err)
	}
}

// TestDecodeJSONSpacingAndEscapes: white space anywhere, escaped and
// non-ASCII text, and invalid UTF-8 (replaced by U+FFFD, as encoding/json
// does) decode to the same document as the plain form.
func TestDecodeJSONSpacingAndEscapes(t *testing.T) {
	t.Parallel()
	plain := orderJSON(t, func(m map[string]any) { m["buyerName"] = "张三"; m["note"] = "a \"quoted\" note" })
	var spaced bytes.Buffer
	if err := json.Indent(&spaced, plain, " \r\n", "\t "); err != nil {
		t.Fatal(err)
	}
	escaped := bytes.Replace(spaced.Bytes(), []byte(`"张三"`), []byte(`"\u5f20\u4e09"`), 1)
	escaped = bytes.Replace(escaped, []byte(`"orderNo"`), []byte(`"order\u004eo"`), 1)
	want, err := DecodeJSON(plain, KindOrder)
	if err != nil {
		t.Fatal(err)
	}
	for _, body := range [][]byte{spaced.Bytes(), escaped} {
		got, err := DecodeJSON(body, KindOrder)
		if err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		if !documentsEqual(got, want) {
			t.Errorf("%s decoded to\n%+v\nwant\n%+v", body, got, want)
		}
	}
	bad := bytes.Replace(plain, []byte(`"张三"`), []byte("\"\xffSan\""), 1)
	got, err := DecodeJSON(bad, KindOrder)
	if err != nil {
		t.Fatal(err)
	}
	if name := got.(*Order).BuyerName; name != "\uFFFDSan" {
		t.Errorf("invalid UTF-8 decoded to %q", name)
	}
}

// TestDecodeStoredRefusesBrokenJSON: a stored body that does not parse is
// an error, never a panic or a half-read document.
func TestDecodeStoredRefusesBrokenJSON(t *testing.T) {
	t.Parallel()
	body, err := EncodeStored(fixtureChain(t, order1).Order)
	if err != nil {
		t.Fatal(err)
	}
	for _, cut := range []int{0, 1, len(body) / 3, len(body) / 2, len(body) - 1} {
		if _, err := DecodeStored(CEB311, body[:cut], StoredID{}); err == nil {
			t.Errorf("%d bytes of %d decoded", cut, len(body))
		}
	}
	if _, err := DecodeStored(CEB311, []byte(strings.Replace(string(body), `"lines":[`, `"lines":[7,`, 1)), StoredID{}); err == nil {
		t.Error("a line that is not an object decoded")
	}
}

// TestDecodeJSONBatch: a batch reads each document as DecodeJSON does,
// errors included, and leaves every other body to the long way.
func TestDecodeJSONBatch(t *testing.T) {
	t.Parallel()
	var items [][]byte
	for _, d := range fixtureDocs(t, order1) {
		b, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, b)
	}
	items = append(items, orderJSON(t, func(m map[string]any) { m["goodsValue"] = json.Number("1") }), []byte(` "not a document" `),
		orderJSON(t, func(m map[string]any) { m["buyerName"] = "张三 <\"x\">" }))
	body := append([]byte(" {\n \"documents\" : [ "), bytes.Join(items, []byte(" ,\n"))...)
	body = append(body, " ] } "...)
	docs, errs, ok := DecodeJSONBatch(body)
	if !ok || len(docs) != len(items) || len(errs) != len(items) {
		t.Fatalf("ok %v, %d documents, %d errors for %d items", ok, len(docs), len(errs), len(items))
	}
	for i, item := range items {
		want, wantErr := DecodeJSON(item, "")
		if fmt.Sprint(errs[i]) != fmt.Sprint(wantErr) || (want == nil) != (docs[i] == nil) || want != nil && !documentsEqual(docs[i], want) {
			t.Errorf("item %d: %v %v, want %v %v", i, docs[i], errs[i], want, wantErr)
		}
	}
	for _, other := range []string{``, `[]`, `{}`, `{"documents": null}`, `{"Documents": []}`, `{"documents": {}}`,
		`{"documents": [], "more": 1}`, `{"documents": [], "documents": []}`, `{"documents": [`, `{"documents": []} {}`} {
		if _, _, ok := DecodeJSONBatch([]byte(other)); ok {
			t.Errorf("%s read as a batch", other)
		}
	}
	if docs, errs, ok := DecodeJSONBatch([]byte(`{"documents":[]}`)); !ok || len(docs) != 0 || len(errs) != 0 {
		t.Errorf("empty batch: %v %v %v", docs, errs, ok)
	}
}
