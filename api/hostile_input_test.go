package api_test

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/xbsettle/xbsettle/api"
	"github.com/xbsettle/xbsettle/internal/apperr"
)

// hostile is one request a hostile client sends, and the refusal it must
// get: status, code and, if field is set, a field error "path:CODE" (or
// ":CODE" for that code at any path).
type hostile struct {
	family, name string
	method, path string
	key          string // defaults to the T1 payment institution
	body         string
	xml          bool     // send the body as application/xml
	hdr          []string // extra headers, name and value
	status       int
	code         string
	field        string
}

// writtenRows counts the rows of every table a request could write to.
func (b *bundle) writtenRows() map[string]int {
	b.t.Helper()
	out := map[string]int{}
	for _, table := range []string{"accounts", "entries", "postings", "holds", "clearance_documents",
		"clearance_parked_waybills", "clearance_chains", "fx_rates", "fx_quotes", "settlement_instructions",
		"settlement_items", "enterprises", "enterprise_consents", "fx_violations", "fx_reporting_gaps",
		"credit_assessments", "api_keys"} {
		var n int
		if err := b.db.Get(&n, "SELECT count(*) FROM "+table); err != nil {
			b.t.Fatalf("count %s: %v", table, err)
		}
		out[table] = n
	}
	return out
}

// nested is a JSON value of depth levels of {"a": …} around 1.
func nestedJSON(depth int) string {
	return strings.Repeat(`{"a":`, depth) + "1" + strings.Repeat("}", depth)
}

// manyMembers is a JSON object's members "f0": 1 … "f<n-1>": 1, without braces.
func manyMembers(n int) string {
	m := make([]string, n)
	for i := range m {
		m[i] = fmt.Sprintf(`"f%d":1`, i)
	}
	return strings.Join(m, ",")
}

// withMember puts a raw member before the others of a JSON object.
func withMember(obj, member string) string { return "{" + member + "," + obj[1:] }

// jsonOf encodes v, for building bodies from maps.
func jsonOf(t testing.TB, v any) string {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

// TestHostileInput: requests a hostile client sends to every endpoint
// family — oversized, deeply nested, too many members, elements or lines,
// control characters, huge exponents, duplicate keys, look-alike letters —
// are each refused 4xx with problem+json and a stable code, never 5xx, and
// afterwards not one row was written anywhere.
func TestHostileInput(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cny := b.openAccount(b.pi, "cash:CNY", "CNY", "asset")
	cny2 := b.openAccount(b.pi, "payable:CNY", "CNY", "liability")
	bank := b.key(api.RoleBank, "T1")
	before := b.writtenRows()

	entry := func(extra string) string {
		body := fmt.Sprintf(`{"postings":[{"account_id":%q,"direction":"debit","amount":"1.00"},{"account_id":%q,"direction":"credit","amount":"1.00"}]}`, cny.ID, cny2.ID)
		if extra == "" {
			return body
		}
		return withMember(body, extra)
	}
	account := func(extra string) string { return withMember(`{"code":"x:1","currency":"CNY","kind":"asset"}`, extra) }
	batchOf := func(n int, item string) string {
		items := make([]string, n)
		for i := range items {
			items[i] = withMember(item, fmt.Sprintf(`"idempotency_key":"h%d"`, i))
		}
		return `{"entries":[` + strings.Join(items, ",") + `]}`
	}
	s := spec{orderNo: "HOSTILE1", buyer: 900, goods: "100.00"}
	order := func(change func(map[string]any)) string {
		o := s.order()
		if change != nil {
			change(o)
		}
		return jsonOf(t, o)
	}
	manyLines := func(n int) []map[string]any {
		lines := make([]map[string]any, n)
		for i := range lines {
			lines[i] = map[string]any{"gnum": i + 1, "itemName": "Item", "qty": "1", "price": "1.00", "totalPrice": "1.00"}
		}
		return lines
	}
	orderXML := func(change func(map[string]any)) string {
		o := s.order()
		if change != nil {
			change(o)
		}
		return cebXML("CEB311", "Order", "http://www.chinaport.gov.cn/ceb", []map[string]any{o})
	}
	docBatch := func(docs ...string) string { return `{"documents":[` + strings.Join(docs, ",") + `]}` }
	rate := func(pair, extra string) string {
		r := fmt.Sprintf(`{"pair":%q,"date":"2024-03-01","unit":100,"parity":"710.00","buy":"709.00","sell":"711.00","source":"CFETS"}`, pair)
		if extra != "" {
			r = withMember(r, extra)
		}
		return `{"rates":[` + r + `]}`
	}
	item := func(extra string) string {
		it := `{"ebpCode":"4403960001","orderNo":"O1","payTransactionId":"P1","enterprise":"4403100001","currency":"CNY","amount":"10.00","payout_currency":"CNY"}`
		if extra != "" {
			it = withMember(it, extra)
		}
		return it
	}
	enterprise := func(extra string) string {
		e := jsonOf(t, enterpriseBody("4403100099", "seller", "2020-01-01", nil))
		if extra != "" {
			e = withMember(e, extra)
		}
		return e
	}
	thousandAndOne := func(elem string) string { return strings.TrimSuffix(strings.Repeat(elem+",", 1001), ",") }

	cases := []hostile{
		// Accounts.
		{family: "accounts", name: "Cyrillic а in a code", path: "/v1/accounts", body: `{"code":"cаsh:CNY","currency":"CNY","kind":"asset"}`, status: 422, code: "VALIDATION_FAILED", field: "code:CODE_INVALID"},
		{family: "accounts", name: "full-width letters in a code", path: "/v1/accounts", body: `{"code":"ｃａｓｈ","currency":"CNY","kind":"asset"}`, status: 422, code: "VALIDATION_FAILED", field: "code:CODE_INVALID"},
		{family: "accounts", name: "NUL in a code", path: "/v1/accounts", body: `{"code":"cash\u0000","currency":"CNY","kind":"asset"}`, status: 422, code: "VALIDATION_FAILED", field: "code:CONTROL_CHARACTER"},
		{family: "accounts", name: "Latin long s in a currency", path: "/v1/accounts", body: `{"code":"x:2","currency":"uſd","kind":"asset"}`, status: 422, code: "VALIDATION_FAILED", field: "currency:CURRENCY_INVALID"},
		{family: "accounts", name: "Cyrillic С in a currency", path: "/v1/accounts", body: `{"code":"x:3","currency":"СNY","kind":"asset"}`, status: 422, code: "VALIDATION_FAILED", field: "currency:CURRENCY_INVALID"},
		{family: "accounts", name: "duplicate code", path: "/v1/accounts", body: account(`"code":"y:1"`), status: 422, code: "VALIDATION_FAILED", field: "code:DUPLICATE_FIELD"},
		{family: "accounts", name: "duplicate key spelt with an escape", path: "/v1/accounts", body: account(`"c\u006fde":"y:1"`), status: 422, code: "VALIDATION_FAILED", field: "code:DUPLICATE_FIELD"},
		{family: "accounts", name: "metadata 1e1000000", path: "/v1/accounts", body: account(`"metadata":{"n":1e1000000}`), status: 422, code: "VALIDATION_FAILED", field: "metadata.n:NUMBER_INVALID"},
		{family: "accounts", name: "metadata 1e131000", path: "/v1/accounts", body: account(`"metadata":{"n":1e131000}`), status: 422, code: "VALIDATION_FAILED", field: "metadata.n:NUMBER_INVALID"},
		{family: "accounts", name: "metadata 41-digit number", path: "/v1/accounts", body: account(`"metadata":{"n":` + strings.Repeat("9", 41) + `}`), status: 422, code: "VALIDATION_FAILED", field: "metadata.n:NUMBER_INVALID"},
		{family: "accounts", name: "metadata 5 levels deep", path: "/v1/accounts", body: account(`"metadata":` + nestedJSON(5)), status: 422, code: "VALIDATION_FAILED", field: "metadata:METADATA_INVALID"},
		{family: "accounts", name: "metadata 65 members", path: "/v1/accounts", body: account(`"metadata":{` + manyMembers(65) + `}`), status: 422, code: "VALIDATION_FAILED", field: "metadata:METADATA_INVALID"},
		{family: "accounts", name: "metadata string of 501 characters", path: "/v1/accounts", body: account(`"metadata":{"s":"` + strings.Repeat("é", 501) + `"}`), status: 422, code: "VALIDATION_FAILED", field: "metadata:METADATA_INVALID"},
		{family: "accounts", name: "NUL in a metadata string", path: "/v1/accounts", body: account(`"metadata":{"s":"a\u0000b"}`), status: 422, code: "VALIDATION_FAILED", field: "metadata.s:CONTROL_CHARACTER"},
		{family: "accounts", name: "control character in a member name", path: "/v1/accounts", body: account(`"metadata":{"a\u0001":1}`), status: 422, code: "VALIDATION_FAILED", field: ":CONTROL_CHARACTER"},
		{family: "accounts", name: "body nested 17 deep", path: "/v1/accounts", body: account(`"metadata":` + nestedJSON(17)), status: 422, code: "VALIDATION_FAILED", field: ":NESTING_TOO_DEEP"},
		{family: "accounts", name: "object of 101 members", path: "/v1/accounts", body: account(`"metadata":{` + manyMembers(101) + `}`), status: 422, code: "VALIDATION_FAILED", field: "metadata.f100:TOO_MANY_FIELDS"},
		{family: "accounts", name: "status with a NUL", method: "PATCH", path: "/v1/accounts/" + cny.ID, key: b.admin, hdr: []string{"X-Tenant-ID", "T1"}, body: `{"status":"frozen\u0000"}`, status: 422, code: "VALIDATION_FAILED", field: "status:CONTROL_CHARACTER"},
		{family: "accounts", name: "look-alike tenant header", method: "GET", path: "/v1/accounts", key: b.admin, hdr: []string{"X-Tenant-ID", "Т1"}, status: 422, code: "VALIDATION_FAILED", field: "X-Tenant-ID:TENANT_INVALID"},

		{family: "accounts", name: "NUL in a query parameter", method: "GET", path: "/v1/accounts?code=cash%00", status: 422, code: "VALIDATION_FAILED", field: "code:CONTROL_CHARACTER"},
		{family: "accounts", name: "query parameter not UTF-8", method: "GET", path: "/v1/accounts?code=%ff%fe", status: 422, code: "VALIDATION_FAILED", field: "code:UTF8_INVALID"},
		{family: "documents", name: "NUL in a chain's path", method: "GET", path: "/v1/chains/4403960001/O%00", key: b.admin, status: 422, code: "VALIDATION_FAILED", field: "orderNo:CONTROL_CHARACTER"},

		// Entries.
		{family: "entries", name: "NUL in a description", body: entry(`"description":"pay\u0000"`), status: 422, code: "VALIDATION_FAILED", field: "description:CONTROL_CHARACTER"},
		{family: "entries", name: "newline in a description", body: entry(`"description":"line 1\nline 2"`), status: 422, code: "VALIDATION_FAILED", field: "description:CONTROL_CHARACTER"},
		{family: "entries", name: "tab in a description", body: entry(`"description":"a\tb"`), status: 422, code: "VALIDATION_FAILED", field: "description:CONTROL_CHARACTER"},
		{family: "entries", name: "raw DEL in a description", body: entry("\"description\":\"a\x7fb\""), status: 422, code: "VALIDATION_FAILED", field: "description:CONTROL_CHARACTER"},
		{family: "entries", name: "C1 NEL in a description", body: entry(`"description":"a` + "\u0085" + `b"`), status: 422, code: "VALIDATION_FAILED", field: "description:CONTROL_CHARACTER"},
		{family: "entries", name: "duplicate postings", body: entry(`"postings":[]`), status: 422, code: "VALIDATION_FAILED", field: "postings:DUPLICATE_FIELD"},
		{family: "entries", name: "duplicate member in a posting", body: fmt.Sprintf(`{"postings":[{"amount":"9.00","account_id":%q,"direction":"debit","amount":"1.00"},{"account_id":%q,"direction":"credit","amount":"1.00"}]}`, cny.ID, cny2.ID), status: 422, code: "VALIDATION_FAILED", field: "postings[0].amount:DUPLICATE_FIELD"},
		{family: "entries", name: "Latin long s in a posting currency", body: fmt.Sprintf(`{"postings":[{"account_id":%q,"direction":"debit","amount":"1.00","currency":"cnſ"},{"account_id":%q,"direction":"credit","amount":"1.00"}]}`, cny.ID, cny2.ID), status: 422, code: "VALIDATION_FAILED", field: "postings[0].currency:CURRENCY_INVALID"},
		{family: "entries", name: "metadata 1e1000000", body: entry(`"metadata":{"x":1e1000000}`), status: 422, code: "VALIDATION_FAILED", field: "metadata.x:NUMBER_INVALID"},
		{family: "entries", name: "metadata -1E-5 exponent", body: entry(`"metadata":{"x":-1E-5}`), status: 422, code: "VALIDATION_FAILED", field: "metadata.x:NUMBER_INVALID"},
		{family: "entries", name: "NUL in metadata", body: entry(`"metadata":{"x":["ok","\u0000"]}`), status: 422, code: "VALIDATION_FAILED", field: "metadata.x[1]:CONTROL_CHARACTER"},
		{family: "entries", name: "1001 postings", body: `{"postings":[` + thousandAndOne(`{}`) + `]}`, status: 422, code: "VALIDATION_FAILED", field: "postings:TOO_MANY_ELEMENTS"},
		{family: "entries", name: "reverse with a NUL description", path: "/v1/entries/" + uuid.NewString() + "/reverse", body: `{"description":"\u0000"}`, status: 422, code: "VALIDATION_FAILED", field: "description:CONTROL_CHARACTER"},
		{family: "entries", name: "non-ASCII Idempotency-Key", body: entry(""), hdr: []string{"Idempotency-Key", "kéy"}, status: 422, code: "VALIDATION_FAILED", field: "Idempotency-Key:KEY_INVALID"},

		// Ledger batches.
		{family: "entries/batch", name: "1001 entries", path: "/v1/entries/batch", body: batchOf(1001, entry("")), status: 422, code: "BATCH_TOO_LARGE"},
		{family: "entries/batch", name: "duplicate entries", path: "/v1/entries/batch", body: `{"entries":[],"entries":[]}`, status: 422, code: "VALIDATION_FAILED", field: "entries:DUPLICATE_FIELD"},
		{family: "entries/batch", name: "NUL in an item", path: "/v1/entries/batch", body: batchOf(2, entry(`"description":"\u0000"`)), status: 422, code: "VALIDATION_FAILED", field: "entries[1].description:CONTROL_CHARACTER"},
		{family: "entries/batch", name: "metadata 1e131000 in an item", path: "/v1/entries/batch", body: batchOf(1, entry(`"metadata":{"n":1e131000}`)), status: 422, code: "VALIDATION_FAILED", field: "entries[0].metadata.n:NUMBER_INVALID"},
		{family: "entries/batch", name: "body over 8 MiB", path: "/v1/entries/batch", body: `{"entries":["` + strings.Repeat("x", 8<<20) + `"]}`, status: 413, code: "BODY_TOO_LARGE"},

		// Holds.
		{family: "holds", name: "NUL in a hold's description", path: "/v1/holds", body: entry(`"description":"\u0000"`), status: 422, code: "VALIDATION_FAILED", field: "description:CONTROL_CHARACTER"},
		{family: "holds", name: "duplicate expires_at", path: "/v1/holds", body: entry(`"expires_at":"2999-01-01T00:00:00Z","expires_at":"2001-01-01T00:00:00Z"`), status: 422, code: "VALIDATION_FAILED", field: "expires_at:DUPLICATE_FIELD"},
		{family: "holds", name: "duplicate amount when posting", path: "/v1/holds/" + uuid.NewString() + "/post", body: `{"amount":"1.00","amount":"100.00"}`, status: 422, code: "VALIDATION_FAILED", field: "amount:DUPLICATE_FIELD"},
		{family: "holds", name: "void with a NUL member", path: "/v1/holds/" + uuid.NewString() + "/void", body: `{"\u0000":1}`, status: 422, code: "VALIDATION_FAILED", field: ":CONTROL_CHARACTER"},

		// Documents, JSON.
		{family: "documents", name: "NUL in buyerName", path: "/v1/orders", key: b.admin, body: order(func(o map[string]any) { o["buyerName"] = "A\x00B" }), status: 422, code: "VALIDATION_FAILED", field: "buyerName:CONTROL_CHARACTER"},
		{family: "documents", name: "newline in consigneeAddress", path: "/v1/orders", key: b.admin, body: order(func(o map[string]any) { o["consigneeAddress"] = "1 Road\n2 Floor" }), status: 422, code: "VALIDATION_FAILED", field: "consigneeAddress:CONTROL_CHARACTER"},
		{family: "documents", name: "NUL in a line's itemName", path: "/v1/orders", key: b.admin, body: order(func(o map[string]any) { o["lines"].([]map[string]any)[0]["itemName"] = "\x00" }), status: 422, code: "VALIDATION_FAILED", field: "lines[0].itemName:CONTROL_CHARACTER"},
		{family: "documents", name: "duplicate orderNo", path: "/v1/orders", key: b.admin, body: withMember(order(nil), `"orderNo":"OTHER"`), status: 422, code: "VALIDATION_FAILED", field: "orderNo:DUPLICATE_FIELD"},
		{family: "documents", name: "100 lines", path: "/v1/orders", key: b.admin, body: order(func(o map[string]any) { o["lines"] = manyLines(100) }), status: 422, code: "VALIDATION_FAILED", field: "lines:TOO_MANY_LINES"},
		{family: "documents", name: "101 fields", path: "/v1/orders", key: b.admin, body: withMember(order(nil), manyMembers(101)), status: 422, code: "VALIDATION_FAILED", field: ":TOO_MANY_FIELDS"},
		{family: "documents", name: "look-alike currency", path: "/v1/orders", key: b.admin, body: order(func(o map[string]any) { o["currency"] = "cnʏ" }), status: 422, code: "VALIDATION_FAILED", field: "currency:INVALID_CURRENCY"},
		{family: "documents", name: "NUL in a payment", path: "/v1/payments", key: b.admin, body: jsonOf(t, func() map[string]any { p := s.payment(); p["payerName"] = "\x00"; return p }()), status: 422, code: "VALIDATION_FAILED", field: "payerName:CONTROL_CHARACTER"},
		{family: "documents", name: "tab in a waybill", path: "/v1/waybills", key: b.admin, body: jsonOf(t, func() map[string]any { w := s.waybill(); w["logisticsNo"] = "LN\t1"; return w }()), status: 422, code: "VALIDATION_FAILED", field: "logisticsNo:CONTROL_CHARACTER"},

		// Documents, XML.
		{family: "documents XML", name: "tab character reference", path: "/v1/orders", key: b.admin, xml: true, body: orderXML(func(o map[string]any) { o["buyerName"] = "A&#9;B" }), status: 422, code: "VALIDATION_FAILED", field: "documents[0].buyerName:CONTROL_CHARACTER"},
		{family: "documents XML", name: "C1 character reference", path: "/v1/orders", key: b.admin, xml: true, body: orderXML(func(o map[string]any) { o["buyerName"] = "A&#x85;B" }), status: 422, code: "VALIDATION_FAILED", field: "documents[0].buyerName:CONTROL_CHARACTER"},
		{family: "documents XML", name: "NUL character reference", path: "/v1/orders", key: b.admin, xml: true, body: orderXML(func(o map[string]any) { o["buyerName"] = "A&#0;B" }), status: 400, code: "XML_MALFORMED"},
		{family: "documents XML", name: "100 lines", path: "/v1/orders", key: b.admin, xml: true, body: orderXML(func(o map[string]any) { o["lines"] = manyLines(100) }), status: 422, code: "VALIDATION_FAILED", field: "documents[0].lines:TOO_MANY_LINES"},
		{family: "documents XML", name: "101 documents", path: "/v1/orders", key: b.admin, xml: true, body: cebXML("CEB311", "Order", "http://www.chinaport.gov.cn/ceb", func() []map[string]any {
			docs := make([]map[string]any, 101)
			for i := range docs {
				docs[i] = s.order()
			}
			return docs
		}()), status: 400, code: "TOO_MANY_DOCUMENTS"},
		{family: "documents XML", name: "101 fields in a head", path: "/v1/orders", key: b.admin, xml: true, body: orderXML(func(o map[string]any) {
			for i := range 101 {
				o[fmt.Sprintf("x%03d", i)] = 1
			}
		}), status: 422, code: "VALIDATION_FAILED", field: ":TOO_MANY_FIELDS"},
		{family: "documents XML", name: "duplicate field", path: "/v1/orders", key: b.admin, xml: true, body: strings.Replace(orderXML(nil), "<ceb:orderNo>", "<ceb:orderNo>X</ceb:orderNo><ceb:orderNo>", 1), status: 422, code: "VALIDATION_FAILED", field: "documents[0].orderNo:DUPLICATE_FIELD"},
		{family: "documents XML", name: "newline in BaseTransfer", path: "/v1/orders", key: b.admin, xml: true, body: strings.Replace(orderXML(nil), "<ceb:copName>Sender", "<ceb:copName>Sen&#10;der", 1), status: 422, code: "VALIDATION_FAILED", field: "baseTransfer.copName:CONTROL_CHARACTER"},

		// Document batches.
		{family: "documents/batch", name: "1001 documents", path: "/v1/documents/batch", key: b.admin, body: `{"documents":[` + thousandAndOne(`{}`) + `]}`, status: 422, code: "BATCH_TOO_LARGE"},
		{family: "documents/batch", name: "NUL in a document", path: "/v1/documents/batch", key: b.admin, body: docBatch(order(nil), order(func(o map[string]any) { o["buyerName"] = "\x00" })), status: 422, code: "VALIDATION_FAILED", field: "documents[1].buyerName:CONTROL_CHARACTER"},
		{family: "documents/batch", name: "duplicate documents", path: "/v1/documents/batch", key: b.admin, body: `{"documents":[],"documents":[` + order(nil) + `]}`, status: 422, code: "VALIDATION_FAILED", field: "documents:DUPLICATE_FIELD"},

		// FX.
		{family: "fx", name: "look-alike pair in a rate", path: "/v1/fx/rates", key: b.admin, body: rate("uſd/CNY", ""), status: 422, code: "VALIDATION_FAILED", field: ":CURRENCY_INVALID"},
		{family: "fx", name: "NUL in a rate's source", path: "/v1/fx/rates", key: b.admin, body: rate("USD/CNY", `"source":"\u0000"`), status: 422, code: "VALIDATION_FAILED", field: "rates[0].source:CONTROL_CHARACTER"},
		{family: "fx", name: "exponent in a rate's unit", path: "/v1/fx/rates", key: b.admin, body: strings.Replace(rate("USD/CNY", ""), `"unit":100`, `"unit":1e2`, 1), status: 422, code: "VALIDATION_FAILED", field: "rates[0].unit:NUMBER_INVALID"},
		{family: "fx", name: "1001 rates", path: "/v1/fx/rates", key: b.admin, body: `{"rates":[` + thousandAndOne(`{}`) + `]}`, status: 422, code: "BATCH_TOO_LARGE"},
		{family: "fx", name: "look-alike pair in a quote", path: "/v1/fx/quotes", body: `{"pair":"uſd/CNY","side":"customer_buys_fx"}`, status: 422, code: "VALIDATION_FAILED", field: "pair:PAIR_INVALID"},
		{family: "fx", name: "duplicate side in a quote", path: "/v1/fx/quotes", body: `{"pair":"USD/CNY","side":"customer_buys_fx","side":"customer_sells_fx"}`, status: 422, code: "VALIDATION_FAILED", field: "side:DUPLICATE_FIELD"},

		// Settlements.
		{family: "settlements", name: "1001 items", path: "/v1/settlements", hdr: []string{"Idempotency-Key", "h-items"}, body: `{"items":[` + thousandAndOne(item("")) + `]}`, status: 422, code: "BATCH_TOO_LARGE"},
		{family: "settlements", name: "NUL in an orderNo", path: "/v1/settlements", hdr: []string{"Idempotency-Key", "h-nul"}, body: `{"items":[` + item(`"orderNo":"O\u00001"`) + `]}`, status: 422, code: "VALIDATION_FAILED", field: "items[0].orderNo:CONTROL_CHARACTER"},
		{family: "settlements", name: "duplicate amount", path: "/v1/settlements", hdr: []string{"Idempotency-Key", "h-dup"}, body: `{"items":[` + item(`"amount":"99999.00"`) + `]}`, status: 422, code: "VALIDATION_FAILED", field: "items[0].amount:DUPLICATE_FIELD"},

		// Risk.
		{family: "risk/enterprises", name: "NUL in a name", path: "/v1/enterprises", key: b.admin, body: enterprise(`"name":"\u0000"`), status: 422, code: "VALIDATION_FAILED", field: "name:CONTROL_CHARACTER"},
		{family: "risk/enterprises", name: "duplicate customs_code", path: "/v1/enterprises", key: b.admin, body: enterprise(`"customs_code":"4403100098"`), status: 422, code: "VALIDATION_FAILED", field: "customs_code:DUPLICATE_FIELD"},
		{family: "risk/enterprises", name: "exponent in a tax profile", method: "PUT", path: "/v1/enterprises/4403100099/tax-profile", key: b.admin, body: `{"net_assets_cny":1e400}`, status: 422, code: "VALIDATION_FAILED", field: "net_assets_cny:NUMBER_INVALID"},
		{family: "risk/enterprises", name: "newline in a violation", path: "/v1/enterprises/4403100099/violations", key: b.admin, body: `{"ref":"V1","severity":"minor","occurred_on":"2024-01-01","description":"a\nb"}`, status: 422, code: "VALIDATION_FAILED", field: "description:CONTROL_CHARACTER"},
		{family: "risk/enterprises", name: "NUL in a consent's bank", path: "/v1/enterprises/4403100099/consents", key: b.admin, body: `{"bank":"B\u0000","valid_until":"2999-01-01T00:00:00Z"}`, status: 422, code: "VALIDATION_FAILED", field: "bank:CONTROL_CHARACTER"},
		{family: "risk/enterprises", name: "NUL in an assessment", path: "/v1/credit-assessments", key: bank, body: `{"enterprise":"4403100099\u0000"}`, status: 422, code: "VALIDATION_FAILED", field: "enterprise:CONTROL_CHARACTER"},

		// Keys: what authenticates a request.
		{family: "keys", name: "non-ASCII API key", method: "GET", path: "/v1/accounts", key: "xbs_ſecret", status: 401, code: "UNAUTHENTICATED"},
		{family: "keys", name: "10 KB API key", method: "GET", path: "/v1/accounts", key: "xbs_" + strings.Repeat("k", 10<<10), status: 401, code: "UNAUTHENTICATED"},
		{family: "keys", name: "look-alike Bearer scheme", method: "GET", path: "/v1/accounts", hdr: []string{"Authorization", "Веarer " + b.pi}, status: 401, code: "UNAUTHENTICATED"},
	}
	if len(cases) < 50 {
		t.Fatalf("only %d hostile requests", len(cases))
	}
	families := map[string]int{}
	for i, c := range cases {
		families[c.family]++
		t.Run(c.family+"/"+c.name, func(t *testing.T) {
			if c.method == "" {
				c.method = "POST"
			}
			if c.path == "" {
				c.path = "/v1/entries"
			}
			if c.key == "" {
				c.key = b.pi
			}
			r := req{method: c.method, path: c.path, key: c.key}
			if c.body != "" {
				r.body = c.body
			}
			if c.method == "POST" && (c.path == "/v1/entries" || c.path == "/v1/holds") {
				r.headers = []string{"Idempotency-Key", fmt.Sprintf("hostile-%d", i)}
			}
			if c.xml {
				r.headers = append(r.headers, "Content-Type", "application/xml")
			}
			r.headers = append(r.headers, c.hdr...)
			resp := b.do(r)
			if resp.Status >= 500 {
				t.Fatalf("answered %d: %s", resp.Status, resp.Body)
			}
			p := wantProblem(t, resp, c.status, c.code)
			if c.field != "" && !hasFieldAt(p, c.field) {
				t.Fatalf("errors [%s] lack %s", fieldList(p), c.field)
			}
			if len(p.Errors) > 0 && p.ErrorsTotal < len(p.Errors) {
				t.Fatalf("errors_total %d with %d errors listed", p.ErrorsTotal, len(p.Errors))
			}
		})
	}
	after := b.writtenRows()
	for table, n := range before {
		if after[table] != n {
			t.Errorf("%s: %d rows after the hostile requests, want %d", table, after[table], n)
		}
	}
	t.Logf("%d hostile requests across %d endpoint families %v; nothing written", len(cases), len(families), families)
}

// hasFieldAt is hasField for "path:CODE", where an empty path matches any.
func hasFieldAt(p api.Problem, want string) bool {
	name, code, _ := strings.Cut(want, ":")
	for _, f := range p.Errors {
		if f.Code == code && (name == "" || f.Field == name) {
			return true
		}
	}
	return false
}

// hostileMessage is a CEB311 message of at most size bytes that costs the
// most to refuse: 100 orders of 99 lines, every line and head as full of
// unknown fields as the byte budget allows (each one a field error), the
// remainder spread so that the message ends just under size.
func hostileMessage(size int) string {
	const head = `<?xml version="1.0" encoding="UTF-8"?><ceb:CEB311Message xmlns:ceb="http://www.chinaport.gov.cn/ceb" guid="MSG-HOSTILE" version="1.0">`
	const tail = `<ceb:BaseTransfer><ceb:copCode>4403960001</ceb:copCode><ceb:copName>S</ceb:copName><ceb:dxpMode>DXP</ceb:dxpMode><ceb:dxpId>D</ceb:dxpId></ceb:BaseTransfer></ceb:CEB311Message>`
	field := func(i int) string { return fmt.Sprintf("<ceb:u%02d>1</ceb:u%02d>", i, i) }
	line := func(fields int) string {
		var b strings.Builder
		b.WriteString("<ceb:OrderList>")
		for i := range fields {
			b.WriteString(field(i))
		}
		b.WriteString("</ceb:OrderList>")
		return b.String()
	}
	const docs, lines = 100, 99
	wrap := len("<ceb:Order><ceb:OrderHead></ceb:OrderHead></ceb:Order>")
	budget := (size-len(head)-len(tail))/docs - wrap
	perField := len(field(0))
	fields := min((budget/lines-len("<ceb:OrderList></ceb:OrderList>"))/perField, 99)
	var b strings.Builder
	b.WriteString(head)
	l := line(fields)
	for range docs {
		b.WriteString("<ceb:Order><ceb:OrderHead>")
		b.WriteString(field(0))
		b.WriteString("</ceb:OrderHead>")
		for range lines {
			b.WriteString(l)
		}
		b.WriteString("</ceb:Order>")
	}
	b.WriteString(tail)
	return b.String()
}

// TestBoundedWork: hostile bodies of the largest size an endpoint takes are
// answered with one error or at most the capped list, with the total
// counted, in a small answer.
func TestBoundedWork(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const maxDocumentsBody = 8 << 20
	msg := hostileMessage(maxDocumentsBody)
	if len(msg) > maxDocumentsBody || len(msg) < maxDocumentsBody*9/10 {
		t.Fatalf("hostile message of %d bytes, want just under %d", len(msg), maxDocumentsBody)
	}
	r := b.do(req{method: "POST", path: "/v1/orders", key: b.admin, body: msg, headers: []string{"Content-Type", "application/xml"}})
	p := wantProblem(t, r, http.StatusUnprocessableEntity, "VALIDATION_FAILED")
	if len(p.Errors) != apperr.MaxFields || p.ErrorsTotal < 100*99*10 {
		t.Fatalf("%d errors listed of %d, want %d of at least %d", len(p.Errors), p.ErrorsTotal, apperr.MaxFields, 100*99*10)
	}
	if len(r.Body) > 32<<10 {
		t.Fatalf("answer of %d bytes to a hostile message", len(r.Body))
	}
	t.Logf("message of %d bytes: %d errors, %d listed, answer %d bytes", len(msg), p.ErrorsTotal, len(p.Errors), len(r.Body))

	// One JSON document of 8 MiB of fields: one error, where reading stopped.
	doc := `{` + manyMembers(900_000)[:maxDocumentsBody-100] + `1}`
	doc = doc[:strings.LastIndex(doc, ",")] + "}"
	r = b.do(req{method: "POST", path: "/v1/orders", key: b.admin, body: doc})
	p = wantProblem(t, r, http.StatusUnprocessableEntity, "VALIDATION_FAILED")
	if p.ErrorsTotal != 1 || !hasFieldAt(p, "f100:TOO_MANY_FIELDS") {
		t.Fatalf("%d errors: %s", p.ErrorsTotal, fieldList(p))
	}

	// A ledger batch of 8 MiB with a duplicate member in every item: the
	// whole body is refused with the capped list.
	item := `{"idempotency_key":"k","idempotency_key":"k","postings":[]}`
	batch := `{"entries":[` + strings.TrimSuffix(strings.Repeat(item+",", 1000), ",") + `]}`
	r = b.do(req{method: "POST", path: "/v1/entries/batch", key: b.pi, body: batch})
	p = wantProblem(t, r, http.StatusUnprocessableEntity, "VALIDATION_FAILED")
	if len(p.Errors) != apperr.MaxFields || p.ErrorsTotal != 1000 || !hasFieldAt(p, "entries[0].idempotency_key:DUPLICATE_FIELD") {
		t.Fatalf("%d errors listed of %d: %s", len(p.Errors), p.ErrorsTotal, fieldList(p))
	}
	if n := b.writtenRows(); n["clearance_documents"]+n["entries"] != 0 {
		t.Fatalf("rows written: %v", n)
	}
}

// BenchmarkHostileMessage: what refusing the costliest CEB message of the
// largest size costs, through the API.
func BenchmarkHostileMessage(bb *testing.B) {
	b := setup(bb)
	msg := hostileMessage(8 << 20)
	bb.SetBytes(int64(len(msg)))
	bb.ReportAllocs()
	bb.ResetTimer()
	for range bb.N {
		r := b.do(req{method: "POST", path: "/v1/orders", key: b.admin, body: msg, headers: []string{"Content-Type", "application/xml"}})
		if r.Status != http.StatusUnprocessableEntity {
			bb.Fatalf("%d %s", r.Status, r.Body)
		}
	}
}

// TestReportCSVCellsAreNotFormulas: a trade whose order and payment
// numbers start like formulas is settled; in the CSV report those cells
// are quoted as text while amounts stay numbers.
func TestReportCSVCellsAreNotFormulas(t *testing.T) {
	t.Parallel()
	b := setup(t)
	pi, _, vd := b.settledAs(1, "=HYPERLINK(X)", "@SUM(A1)")
	r := b.do(req{method: "GET", path: "/v1/reports/transactions?format=csv&date=" + vd, key: pi})
	if r.Status != http.StatusOK {
		t.Fatalf("report: %d %s", r.Status, r.Body)
	}
	rows, err := csv.NewReader(strings.NewReader(string(r.Body))).ReadAll()
	if err != nil || len(rows) != 2 {
		t.Fatalf("%d rows, %v: %s", len(rows), err, r.Body)
	}
	cells := map[string]string{}
	for i, col := range rows[0] {
		cells[col] = rows[1][i]
	}
	if !strings.HasPrefix(cells["order_no"], "'=HYPERLINK(X)") || !strings.HasPrefix(cells["pay_transaction_id"], "'@SUM(A1)") {
		t.Fatalf("formula cells not neutralised: order_no %q, pay_transaction_id %q", cells["order_no"], cells["pay_transaction_id"])
	}
	for col, v := range cells {
		if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
			t.Errorf("%s: cell %q starts like a formula", col, v)
		}
	}
	if a := cells["amount"]; a == "" || a[0] == '\'' {
		t.Fatalf("amount %q is not a plain number", a)
	}
}
