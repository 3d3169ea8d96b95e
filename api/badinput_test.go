package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// TestBadInput: each bad request gets its documented status and code, and
// afterwards not one row was added to the ledger's tables.
func TestBadInput(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cny := b.openAccount(b.pi, "cash:CNY", "CNY", "asset")
	cny2 := b.openAccount(b.pi, "payable:CNY", "CNY", "liability", "debits_must_not_exceed_credits")
	jpy := b.openAccount(b.pi, "cash:JPY", "JPY", "asset")
	jpy2 := b.openAccount(b.pi, "payable:JPY", "JPY", "liability")
	usd := b.openAccount(b.pi, "cash:USD", "USD", "asset")
	frozen := b.openAccount(b.pi, "frozen:CNY", "CNY", "liability")
	theirs := b.openAccount(b.piOther, "cash:CNY", "CNY", "asset")
	if r := b.do(req{method: "PATCH", path: "/v1/accounts/" + frozen.ID, key: b.admin, headers: []string{"X-Tenant-ID", "T1"},
		body: map[string]string{"status": "frozen"}}); r.Status != http.StatusOK {
		t.Fatalf("freeze: %d %s", r.Status, r.Body)
	}
	// One real entry, so replays and conflicts have something to meet.
	b.post(b.pi, "taken", transfer(cny.ID, cny2.ID, "5.00"))
	before := b.counts()

	// entry builds a raw entry body from postings written as
	// "account direction amount" triples; amount is put in verbatim.
	entry := func(lines ...string) string {
		var ps []string
		for _, l := range lines {
			f := strings.Fields(l)
			ps = append(ps, fmt.Sprintf(`{"account_id":%q,"direction":%q,"amount":%s}`, f[0], f[1], f[2]))
		}
		return `{"postings":[` + strings.Join(ps, ",") + `]}`
	}
	ok := entry(cny.ID+` debit "1.00"`, cny2.ID+` credit "1.00"`)
	pair := func(amount string) string { return entry(cny.ID+" debit "+amount, cny2.ID+" credit "+amount) }
	bigBatch := func(n int) string {
		items := make([]string, n)
		for i := range items {
			items[i] = fmt.Sprintf(`{"idempotency_key":"b%d","postings":[{"account_id":%q,"direction":"debit","amount":"1.00"},{"account_id":%q,"direction":"credit","amount":"1.00"}]}`, i, cny.ID, cny2.ID)
		}
		return `{"entries":[` + strings.Join(items, ",") + `]}`
	}

	type tc struct {
		name   string
		method string
		path   string
		key    string // defaults to the T1 payment institution
		body   string
		hdr    []string // extra headers; Idempotency-Key defaults to a fresh one on POST /v1/entries and /v1/holds
		status int
		code   string
		field  string // a field error expected in errors[], as "field:CODE"
	}
	cases := []tc{
		// The entry's arithmetic.
		{name: "unbalanced", body: entry(cny.ID+` debit "1.00"`, cny2.ID+` credit "0.99"`), status: 422, code: "UNBALANCED"},
		{name: "single posting", body: entry(cny.ID + ` debit "1.00"`), status: 422, code: "VALIDATION_FAILED", field: "postings:TOO_FEW_POSTINGS"},
		{name: "no postings", body: `{"postings":[]}`, status: 422, code: "VALIDATION_FAILED", field: "postings:REQUIRED"},
		{name: "too many postings", body: entry(strings.Split(strings.Repeat(cny.ID+` debit "1.00"|`, 65), "|")[:65]...), status: 422, code: "VALIDATION_FAILED", field: "postings:TOO_MANY_POSTINGS"},
		{name: "zero amount", body: pair(`"0.00"`), status: 422, code: "VALIDATION_FAILED", field: "postings[0].amount:AMOUNT_NOT_POSITIVE"},
		{name: "negative amount", body: pair(`"-1.00"`), status: 422, code: "VALIDATION_FAILED", field: "postings[1].amount:AMOUNT_NOT_POSITIVE"},
		{name: "non-numeric amount", body: pair(`"ten"`), status: 422, code: "VALIDATION_FAILED", field: "postings[0].amount:AMOUNT_INVALID"},
		{name: "empty amount", body: pair(`""`), status: 422, code: "VALIDATION_FAILED", field: "postings[0].amount:AMOUNT_INVALID"},
		{name: "amount as JSON number", body: pair(`1.00`), status: 422, code: "VALIDATION_FAILED", field: "postings[0].amount:AMOUNT_NOT_STRING"},
		{name: "amount missing", body: `{"postings":[{"account_id":"` + cny.ID + `","direction":"debit"},{"account_id":"` + cny2.ID + `","direction":"credit","amount":"1"}]}`, status: 422, code: "VALIDATION_FAILED", field: "postings[0].amount:REQUIRED"},
		{name: "three decimals in CNY", body: pair(`"1.005"`), status: 422, code: "AMOUNT_PRECISION"},
		{name: "decimals in JPY", body: entry(jpy.ID+` debit "100.5"`, jpy2.ID+` credit "100.5"`), status: 422, code: "AMOUNT_PRECISION"},
		{name: "exponent beyond NUMERIC", body: pair(`"1e40"`), status: 422, code: "VALIDATION_FAILED", field: "postings[0].amount:AMOUNT_INVALID"},
		{name: "50-digit amount", body: pair(`"` + strings.Repeat("9", 50) + `"`), status: 422, code: "VALIDATION_FAILED", field: "postings[0].amount:AMOUNT_OUT_OF_RANGE"},
		{name: "amount at 10^18", body: pair(`"1000000000000000000"`), status: 422, code: "VALIDATION_FAILED", field: "postings[0].amount:AMOUNT_OUT_OF_RANGE"},
		// The accounts it names.
		{name: "unknown account", body: entry(uuid.NewString()+` debit "1.00"`, cny2.ID+` credit "1.00"`), status: 404, code: "ACCOUNT_NOT_FOUND"},
		{name: "frozen account", body: entry(cny.ID+` debit "1.00"`, frozen.ID+` credit "1.00"`), status: 422, code: "ACCOUNT_FROZEN"},
		{name: "another tenant's account", body: entry(theirs.ID+` debit "1.00"`, cny2.ID+` credit "1.00"`), status: 404, code: "ACCOUNT_NOT_FOUND"},
		{name: "currency mismatch between accounts", body: entry(usd.ID+` debit "1.00"`, cny2.ID+` credit "1.00"`), status: 422, code: "UNBALANCED"},
		{name: "currency mismatch with the account", body: `{"postings":[{"account_id":"` + cny.ID + `","direction":"debit","amount":"1.00","currency":"USD"},{"account_id":"` + cny2.ID + `","direction":"credit","amount":"1.00"}]}`, status: 422, code: "CURRENCY_MISMATCH"},
		{name: "unknown currency", body: `{"postings":[{"account_id":"` + cny.ID + `","direction":"debit","amount":"1.00","currency":"XXX"},{"account_id":"` + cny2.ID + `","direction":"credit","amount":"1.00"}]}`, status: 422, code: "VALIDATION_FAILED", field: "postings[0].currency:CURRENCY_INVALID"},
		{name: "overdraw a limited account", body: entry(cny2.ID+` debit "5.01"`, cny.ID+` credit "5.01"`), status: 422, code: "INSUFFICIENT_FUNDS"},
		{name: "bad account uuid", body: entry(`not-a-uuid debit "1.00"`, cny2.ID+` credit "1.00"`), status: 422, code: "VALIDATION_FAILED", field: "postings[0].account_id:UUID_INVALID"},
		{name: "bad direction", body: entry(cny.ID+` sideways "1.00"`, cny2.ID+` credit "1.00"`), status: 422, code: "VALIDATION_FAILED", field: "postings[0].direction:DIRECTION_INVALID"},
		{name: "effective_at not RFC 3339", body: `{"effective_at":"yesterday","postings":` + ok[len(`{"postings":`):], status: 422, code: "VALIDATION_FAILED", field: "effective_at:TIME_INVALID"},
		{name: "effective_at in the future", body: `{"effective_at":"` + time.Now().Add(time.Hour).UTC().Format(time.RFC3339) + `","postings":` + ok[len(`{"postings":`):], status: 422, code: "EFFECTIVE_AT_IN_FUTURE"},
		{name: "metadata not an object", body: `{"metadata":[1],"postings":` + ok[len(`{"postings":`):], status: 422, code: "VALIDATION_FAILED", field: "metadata:METADATA_INVALID"},
		// The JSON itself.
		{name: "malformed JSON", body: `{"postings": [}`, status: 400, code: "MALFORMED_JSON"},
		{name: "truncated JSON", body: ok[:len(ok)-7], status: 400, code: "MALFORMED_JSON"},
		{name: "trailing garbage", body: ok + ` xyz`, status: 400, code: "MALFORMED_JSON"},
		{name: "two objects", body: ok + ok, status: 400, code: "MALFORMED_JSON"},
		{name: "array body", body: `[` + ok + `]`, status: 400, code: "MALFORMED_JSON"},
		{name: "empty body", body: ``, status: 400, code: "MALFORMED_JSON"},
		{name: "extra field", body: `{"amount_total":"1.00","postings":` + ok[len(`{"postings":`):], status: 422, code: "VALIDATION_FAILED", field: "amount_total:UNKNOWN_FIELD"},
		{name: "extra posting field", body: `{"postings":[{"account_id":"` + cny.ID + `","direction":"debit","amount":"1.00","memo":"x"},{"account_id":"` + cny2.ID + `","direction":"credit","amount":"1.00"}]}`, status: 422, code: "VALIDATION_FAILED", field: "memo:UNKNOWN_FIELD"},
		{name: "wrong JSON type", body: `{"description":5,"postings":` + ok[len(`{"postings":`):], status: 422, code: "VALIDATION_FAILED", field: "description:TYPE_INVALID"},
		{name: "not JSON content type", body: ok, hdr: []string{"Content-Type", "text/plain"}, status: 415, code: "UNSUPPORTED_MEDIA_TYPE"},
		{name: "body over 1 MiB", body: `{"description":"` + strings.Repeat("x", 1<<20) + `"}`, status: 413, code: "BODY_TOO_LARGE"},
		// Headers.
		{name: "missing Idempotency-Key", body: ok, hdr: []string{"Idempotency-Key", ""}, status: 400, code: "IDEMPOTENCY_KEY_REQUIRED"},
		{name: "Idempotency-Key too long", body: ok, hdr: []string{"Idempotency-Key", strings.Repeat("k", 256)}, status: 422, code: "VALIDATION_FAILED", field: "Idempotency-Key:TOO_LONG"},
		{name: "reused Idempotency-Key", body: pair(`"2.00"`), hdr: []string{"Idempotency-Key", "taken"}, status: 409, code: "IDEMPOTENCY_CONFLICT"},
		// Keys the service derives for its own work are not a client's to take.
		{name: "Idempotency-Key of a settlement", body: ok, hdr: []string{"Idempotency-Key", "settle:PAY1:TX1"}, status: 422, code: "IDEMPOTENCY_KEY_RESERVED"},
		{name: "Idempotency-Key of a hold expiry", path: "/v1/holds", body: ok, hdr: []string{"Idempotency-Key", "hold_expire:" + uuid.NewString()}, status: 422, code: "IDEMPOTENCY_KEY_RESERVED"},
		{name: "Idempotency-Key of a reversal", path: "/v1/entries/" + uuid.NewString() + "/reverse", hdr: []string{"Idempotency-Key", "reverse:x"}, status: 422, code: "IDEMPOTENCY_KEY_RESERVED"},
		{name: "wrong role", key: b.platform, body: ok, status: 403, code: "FORBIDDEN"},
		{name: "no key", key: "-", body: ok, status: 401, code: "UNAUTHENTICATED"},
		{name: "admin without tenant", key: b.admin, body: ok, status: 400, code: "TENANT_REQUIRED"},
		{name: "payment institution naming another tenant", body: ok, hdr: []string{"X-Tenant-ID", "T2"}, status: 403, code: "FORBIDDEN"},
		// Batches.
		{name: "over-sized batch", path: "/v1/entries/batch", body: bigBatch(1001), status: 422, code: "BATCH_TOO_LARGE"},
		{name: "empty batch", path: "/v1/entries/batch", body: `{"entries":[]}`, status: 422, code: "VALIDATION_FAILED", field: "entries:REQUIRED"},
		{name: "batch with unknown field", path: "/v1/entries/batch", body: `{"entries":[{"idempotency_key":"u","postings":[],"bogus":1}]}`, status: 422, code: "VALIDATION_FAILED", field: "bogus:UNKNOWN_FIELD"},
		// Holds.
		{name: "hold expiring in the past", path: "/v1/holds", body: `{"expires_at":"2001-01-01T00:00:00Z","postings":` + ok[len(`{"postings":`):], status: 422, code: "VALIDATION_FAILED", field: "expires_at:EXPIRES_AT_IN_PAST"},
		{name: "hold without Idempotency-Key", path: "/v1/holds", body: ok, hdr: []string{"Idempotency-Key", ""}, status: 400, code: "IDEMPOTENCY_KEY_REQUIRED"},
		{name: "hold over the balance", path: "/v1/holds", body: entry(cny2.ID+` debit "5.01"`, cny.ID+` credit "5.01"`), status: 422, code: "INSUFFICIENT_FUNDS"},
		{name: "post an unknown hold", path: "/v1/holds/" + uuid.NewString() + "/post", status: 404, code: "HOLD_NOT_FOUND"},
		{name: "post a hold with a numeric amount", path: "/v1/holds/" + uuid.NewString() + "/post", body: `{"amount":1}`, status: 422, code: "VALIDATION_FAILED", field: "amount:AMOUNT_NOT_STRING"},
		{name: "void with a body", path: "/v1/holds/" + uuid.NewString() + "/void", body: `{"reason":"x"}`, status: 422, code: "VALIDATION_FAILED", field: "reason:UNKNOWN_FIELD"},
		// Accounts.
		{name: "account with bad currency, kind and flag", path: "/v1/accounts", body: `{"code":"x","currency":"ABC","kind":"cash","flags":["never_negative"]}`, status: 422, code: "VALIDATION_FAILED", field: "flags[0]:FLAG_INVALID"},
		{name: "account without code", path: "/v1/accounts", body: `{"currency":"CNY","kind":"asset"}`, status: 422, code: "VALIDATION_FAILED", field: "code:REQUIRED"},
		{name: "account with both flags", path: "/v1/accounts", body: `{"code":"x","currency":"CNY","kind":"asset","flags":["debits_must_not_exceed_credits","credits_must_not_exceed_debits"]}`, status: 422, code: "VALIDATION_FAILED", field: "flags:FLAGS_CONFLICT"},
		{name: "account code taken", path: "/v1/accounts", body: `{"code":"cash:CNY","currency":"CNY","kind":"asset"}`, status: 409, code: "ACCOUNT_EXISTS"},
		{name: "account by admin without tenant", path: "/v1/accounts", key: b.admin, body: `{"code":"y","currency":"CNY","kind":"asset"}`, status: 400, code: "TENANT_REQUIRED"},
		{name: "bad status", method: "PATCH", path: "/v1/accounts/" + cny.ID, key: b.admin, hdr: []string{"X-Tenant-ID", "T1"}, body: `{"status":"deleted"}`, status: 422, code: "VALIDATION_FAILED", field: "status:STATUS_INVALID"},
		{name: "close an account with a balance", method: "PATCH", path: "/v1/accounts/" + cny.ID, key: b.admin, hdr: []string{"X-Tenant-ID", "T1"}, body: `{"status":"closed"}`, status: 409, code: "INVALID_STATUS_CHANGE"},
		// Reads.
		{name: "bad uuid in path", method: "GET", path: "/v1/accounts/12345", status: 422, code: "VALIDATION_FAILED", field: "id:UUID_INVALID"},
		{name: "bad as_of", method: "GET", path: "/v1/accounts/" + cny.ID + "/balance?as_of=2024-13-45", status: 422, code: "VALIDATION_FAILED", field: "as_of:TIME_INVALID"},
		{name: "limit too large", method: "GET", path: "/v1/accounts?limit=501", status: 422, code: "VALIDATION_FAILED", field: "limit:LIMIT_INVALID"},
		{name: "limit not a number", method: "GET", path: "/v1/accounts/" + cny.ID + "/postings?limit=ten", status: 422, code: "VALIDATION_FAILED", field: "limit:LIMIT_INVALID"},
		{name: "bad accounts cursor", method: "GET", path: "/v1/accounts?cursor=zzz", status: 400, code: "BAD_CURSOR"},
		{name: "unknown entry", method: "GET", path: "/v1/entries/" + uuid.NewString(), status: 404, code: "ENTRY_NOT_FOUND"},
		{name: "reverse an unknown entry", path: "/v1/entries/" + uuid.NewString() + "/reverse", status: 404, code: "ENTRY_NOT_FOUND"},
	}
	if len(cases) < 30 {
		t.Fatalf("only %d cases", len(cases))
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.method == "" {
				c.method = "POST"
			}
			if c.path == "" {
				c.path = "/v1/entries"
			}
			switch c.key {
			case "":
				c.key = b.pi
			case "-":
				c.key = ""
			}
			r := req{method: c.method, path: c.path, key: c.key}
			if c.body != "" {
				r.body = c.body
			}
			if c.method == "POST" && (c.path == "/v1/entries" || c.path == "/v1/holds") {
				r.headers = []string{"Idempotency-Key", fmt.Sprintf("bad-%d", i)}
			}
			r.headers = append(r.headers, c.hdr...)
			resp := b.do(r)
			p := wantProblem(t, resp, c.status, c.code)
			if c.field != "" {
				name, code, _ := strings.Cut(c.field, ":")
				if !hasField(p, name, code) {
					t.Fatalf("errors [%s] lack %s", fieldList(p), c.field)
				}
			}
		})
	}

	// A batch answers per entry: the entry with a reserved key is refused.
	resp := b.do(req{method: "POST", path: "/v1/entries/batch", key: b.pi,
		body: `{"entries":[{"idempotency_key":"payout:E1:CNY:2024-01-02","postings":` + ok[len(`{"postings":`):len(ok)-1] + `}]}`})
	if resp.Status != http.StatusOK || !strings.Contains(string(resp.Body), `"field":"entries[0].idempotency_key","code":"IDEMPOTENCY_KEY_RESERVED"`) {
		t.Fatalf("batch with a reserved key: %d %s", resp.Status, resp.Body)
	}

	after := b.counts()
	for table, n := range before {
		if after[table] != n {
			t.Errorf("%s: %d rows after the bad requests, want %d", table, after[table], n)
		}
	}
	raw, _ := json.Marshal(after)
	t.Logf("%d bad requests; rows unchanged: %s", len(cases), raw)
}
