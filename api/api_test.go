package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/xbsettle/xbsettle/api"
)

// TestProblemShape: every kind of error, ours, the ledger's and Echo's,
// leaves as problem+json with a request id.
func TestProblemShape(t *testing.T) {
	t.Parallel()
	b := setup(t)
	wantProblem(t, b.do(req{method: "GET", path: "/v1/nowhere", key: b.pi}), http.StatusNotFound, "NOT_FOUND")
	wantProblem(t, b.do(req{method: "GET", path: "/nowhere"}), http.StatusNotFound, "NOT_FOUND")
	wantProblem(t, b.do(req{method: "DELETE", path: "/v1/accounts", key: b.pi}), http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED")
	p := wantProblem(t, b.do(req{method: "POST", path: "/v1/accounts", key: b.pi, body: `{"code":""}`}),
		http.StatusUnprocessableEntity, "VALIDATION_FAILED")
	if p.Type != "urn:xbsettle:error:validation_failed" || p.Title != "Validation failed" || len(p.Errors) < 3 {
		t.Fatalf("problem %+v", p)
	}
	for _, f := range p.Errors {
		if f.Field == "" || f.Code == "" || f.Message == "" {
			t.Fatalf("incomplete field error %+v", f)
		}
	}
}

// TestRequestID: every answer has an X-Request-ID; a client's plain one is
// kept, an unsafe one replaced.
func TestRequestID(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, r := range []req{{method: "GET", path: "/healthz"}, {method: "GET", path: "/v1/accounts", key: b.pi}, {method: "GET", path: "/v1/accounts"}} {
		if id := b.do(r).Header.Get("X-Request-ID"); len(id) < 16 {
			t.Errorf("%s %s: X-Request-ID %q", r.method, r.path, id)
		}
	}
	r := b.do(req{method: "GET", path: "/healthz", headers: []string{"X-Request-ID", "client-id.42"}})
	if got := r.Header.Get("X-Request-ID"); got != "client-id.42" {
		t.Errorf("plain client id replaced by %q", got)
	}
	r = b.do(req{method: "GET", path: "/healthz", headers: []string{"X-Request-ID", "evil id\t" + strings.Repeat("x", 200)}})
	if got := r.Header.Get("X-Request-ID"); strings.ContainsAny(got, " \t") || len(got) > 128 || got == "" {
		t.Errorf("unsafe client id kept: %q", got)
	}
}

// TestHealth: /healthz is up; /readyz pings PostgreSQL and Redis and names
// the one that fails.
func TestHealth(t *testing.T) {
	t.Parallel()
	b := setup(t)
	if r := b.do(req{method: "GET", path: "/healthz"}); r.Status != http.StatusOK {
		t.Fatalf("healthz %d", r.Status)
	}
	r := b.do(req{method: "GET", path: "/readyz"})
	if r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"postgres":"ok"`) || !strings.Contains(string(r.Body), `"redis":"ok"`) {
		t.Fatalf("readyz %d %s", r.Status, r.Body)
	}

	down := api.New(api.Deps{Ledger: b.svc, Keys: b.keys, Checks: []api.Check{
		{Name: "postgres", Ping: b.db.PingContext},
		{Name: "redis", Ping: func(ctx context.Context) error { return fmt.Errorf("dial tcp: connection refused") }},
	}, Logger: slog.New(slog.NewTextHandler(testWriter{t}, nil))})
	w := serveOnce(t, down, "GET", "/readyz")
	p := wantProblem(t, w, http.StatusServiceUnavailable, "NOT_READY")
	if p.Checks["redis"] != "unreachable" || p.Checks["postgres"] != "ok" || strings.Contains(string(w.Body), "refused") {
		t.Fatalf("readyz with redis down: %s", w.Body)
	}
}

// TestMetrics: /metrics has the request counter by route template, the
// latency histogram and the Go runtime.
func TestMetrics(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := b.openAccount(b.pi, "cash:CNY", "CNY", "asset")
	b.do(req{method: "GET", path: "/v1/accounts/" + a.ID, key: b.pi})
	b.do(req{method: "GET", path: "/no/such/" + a.ID})
	r := b.do(req{method: "GET", path: "/metrics"})
	body := string(r.Body)
	for _, want := range []string{
		`xbsettle_http_requests_total{method="GET",route="/v1/accounts/:id",status="200"} 1`,
		`xbsettle_http_requests_total{method="POST",route="/v1/accounts",status="201"} 1`,
		`xbsettle_http_request_duration_seconds_bucket{method="GET",route="/v1/accounts/:id",le="+Inf"} 1`,
		`route="unmatched"`,
		"go_goroutines",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(body, a.ID) {
		t.Error("metrics label a raw path")
	}
}

// TestLedgerFlow walks the ledger routes: amounts keep the currency's minor
// units, balances are signed on the normal side, holds, reversals, batches,
// pages and the audit report.
func TestLedgerFlow(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cash := b.openAccount(b.pi, "cash:CNY", "CNY", "asset")
	merchant := b.openAccount(b.pi, "merchant:CNY", "CNY", "liability", "debits_must_not_exceed_credits")
	if len(merchant.Flags) != 1 || merchant.Status != "open" || merchant.Kind != "liability" {
		t.Fatalf("account %+v", merchant)
	}
	yenCash := b.openAccount(b.pi, "cash:JPY", "JPY", "asset")
	yenDue := b.openAccount(b.pi, "due:JPY", "JPY", "liability")

	e := b.post(b.pi, "fund", transfer(cash.ID, merchant.ID, "10.5"))
	if e.Postings[0].Amount != "10.50" || e.Postings[0].Currency != "CNY" || e.Postings[0].Phase != "posted" {
		t.Fatalf("posting %+v", e.Postings[0])
	}
	y := b.post(b.pi, "yen", transfer(yenCash.ID, yenDue.ID, "1200"))
	if y.Postings[1].Amount != "1200" {
		t.Fatalf("JPY amount %q", y.Postings[1].Amount)
	}
	if bal := b.balance(b.pi, merchant.ID); bal.Posted != "10.50" || bal.Available != "10.50" || bal.PostedCredits != "10.50" {
		t.Fatalf("merchant balance %+v", bal)
	}
	if bal := b.balance(b.pi, cash.ID); bal.Posted != "10.50" || bal.PostedDebits != "10.50" {
		t.Fatalf("cash balance %+v", bal)
	}

	// A hold reserves, a partial post moves part and gives the rest back.
	r := b.do(req{method: "POST", path: "/v1/holds", key: b.pi, body: transfer(merchant.ID, cash.ID, "4.00"),
		headers: []string{"Idempotency-Key", "hold-1"}})
	var h hold
	if r.Status != http.StatusCreated {
		t.Fatalf("hold: %d %s", r.Status, r.Body)
	}
	r.into(t, &h)
	if bal := b.balance(b.pi, merchant.ID); bal.Available != "6.50" || bal.Posted != "10.50" || bal.PendingDebits != "4.00" {
		t.Fatalf("balance under hold %+v", bal)
	}
	r = b.do(req{method: "POST", path: "/v1/holds/" + h.ID + "/post", key: b.pi, body: `{"amount":"1.25"}`})
	if r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"status":"posted"`) {
		t.Fatalf("partial post: %d %s", r.Status, r.Body)
	}
	if bal := b.balance(b.pi, merchant.ID); bal.Available != "9.25" || bal.Posted != "9.25" || bal.PendingDebits != "0.00" {
		t.Fatalf("balance after partial post %+v", bal)
	}
	wantProblem(t, b.do(req{method: "POST", path: "/v1/holds/" + h.ID + "/void", key: b.pi}), http.StatusConflict, "HOLD_ALREADY_RESOLVED")
	if r := b.do(req{method: "GET", path: "/v1/holds/" + h.ID, key: b.pi}); r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"resolution":{`) {
		t.Fatalf("get hold: %d %s", r.Status, r.Body)
	}

	// Reversal, once; a retry without a key replays.
	rev := req{method: "POST", path: "/v1/entries/" + y.ID + "/reverse", key: b.pi, body: `{"description":"refund"}`}
	r = b.do(rev)
	if r.Status != http.StatusCreated || !strings.Contains(string(r.Body), `"reverses_entry_id":"`+y.ID) {
		t.Fatalf("reverse: %d %s", r.Status, r.Body)
	}
	if r := b.do(rev); r.Status != http.StatusOK || r.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("reverse replay: %d %s", r.Status, r.Body)
	}
	rev.headers = []string{"Idempotency-Key", "other"}
	wantProblem(t, b.do(rev), http.StatusConflict, "ALREADY_REVERSED")
	if bal := b.balance(b.pi, yenDue.ID); bal.Posted != "0" || bal.PostedDebits != "1200" {
		t.Fatalf("JPY balance after reversal %+v", bal)
	}
	// Reversing the funding would overdraw the merchant: refused, not forced.
	wantProblem(t, b.do(req{method: "POST", path: "/v1/entries/" + e.ID + "/reverse", key: b.pi}), http.StatusUnprocessableEntity, "INSUFFICIENT_FUNDS")

	// Batch: one good, one broken at the edge, one refused by the ledger, one replay.
	r = b.do(req{method: "POST", path: "/v1/entries/batch", key: b.pi, body: map[string]any{"entries": []map[string]any{
		{"idempotency_key": "b1", "postings": transfer(cash.ID, merchant.ID, "1.00")["postings"]},
		{"idempotency_key": "b2", "postings": []posting{{AccountID: cash.ID, Direction: "debit", Amount: "x"}}},
		{"idempotency_key": "b3", "postings": transfer(cash.ID, merchant.ID, "1.001")["postings"]},
		{"idempotency_key": "fund", "postings": transfer(cash.ID, merchant.ID, "10.5")["postings"]},
	}}})
	var batch struct {
		Results []struct {
			Index  int          `json:"index"`
			Status int          `json:"status"`
			Entry  *entry       `json:"entry"`
			Error  *api.Problem `json:"error"`
		} `json:"results"`
	}
	if r.Status != http.StatusOK {
		t.Fatalf("batch: %d %s", r.Status, r.Body)
	}
	r.into(t, &batch)
	wantStatus := []int{201, 422, 422, 200}
	wantCode := []string{"", "VALIDATION_FAILED", "AMOUNT_PRECISION", ""}
	for i, res := range batch.Results {
		code := ""
		if res.Error != nil {
			code = res.Error.Code
		}
		if res.Index != i || res.Status != wantStatus[i] || code != wantCode[i] || (res.Entry == nil) == (code == "") {
			t.Errorf("batch result %d: %+v (error %+v)", i, res, res.Error)
		}
	}
	if batch.Results[3].Entry != nil && batch.Results[3].Entry.ID != e.ID {
		t.Errorf("batch replay gave %s, want %s", batch.Results[3].Entry.ID, e.ID)
	}

	// The same batch again, preferring a minimal answer: every posted item is
	// now a replay, answered with its entry's id only.
	r = b.do(req{method: "POST", path: "/v1/entries/batch", key: b.pi, headers: []string{"Prefer", "return=minimal"}, body: map[string]any{"entries": []map[string]any{
		{"idempotency_key": "b1", "postings": transfer(cash.ID, merchant.ID, "1.00")["postings"]},
		{"idempotency_key": "b3", "postings": transfer(cash.ID, merchant.ID, "1.001")["postings"]},
		{"idempotency_key": "fund", "postings": transfer(cash.ID, merchant.ID, "10.5")["postings"]},
		{"idempotency_key": "b4", "postings": transfer(cash.ID, merchant.ID, "0.25")["postings"]},
	}}})
	var minimal struct {
		Results []struct {
			Status  int             `json:"status"`
			EntryID string          `json:"entry_id"`
			Entry   json.RawMessage `json:"entry"`
		} `json:"results"`
	}
	r.into(t, &minimal)
	if r.Header.Get("Preference-Applied") != "return=minimal" {
		t.Errorf("minimal batch: Preference-Applied = %q", r.Header.Get("Preference-Applied"))
	}
	replayedB1 := batch.Results[0].Entry
	for i, want := range []struct {
		status int
		id     string
	}{{200, replayedB1.ID}, {422, ""}, {200, e.ID}, {201, ""}} {
		got := minimal.Results[i]
		if got.Status != want.status || got.Entry != nil || (want.id != "" && got.EntryID != want.id) || (want.status < 300) == (got.EntryID == "") {
			t.Errorf("minimal batch result %d: %+v, want status %d and entry_id %q", i, got, want.status, want.id)
		}
	}

	// Pages: the accounts and the postings walk to the end with cursors.
	var ids []string
	for cursor := ""; ; {
		r := b.do(req{method: "GET", path: "/v1/accounts?limit=1&cursor=" + cursor, key: b.pi})
		var l struct {
			Data []account `json:"data"`
			Next *string   `json:"next_cursor"`
		}
		r.into(t, &l)
		for _, a := range l.Data {
			ids = append(ids, a.ID)
		}
		if l.Next == nil {
			break
		}
		cursor = *l.Next
	}
	if len(ids) != 4 {
		t.Fatalf("paged accounts %v, want 4", ids)
	}
	r = b.do(req{method: "GET", path: "/v1/accounts/" + merchant.ID + "/postings?limit=2", key: b.pi})
	var pl struct {
		Data []struct {
			EntryID string `json:"entry_id"`
			Amount  string `json:"amount"`
		} `json:"data"`
		Next *string `json:"next_cursor"`
	}
	r.into(t, &pl)
	if len(pl.Data) != 2 || pl.Next == nil || pl.Data[0].Amount != "10.50" {
		t.Fatalf("postings page: %s", r.Body)
	}
	wantProblem(t, b.do(req{method: "GET", path: "/v1/accounts/" + merchant.ID + "/postings?cursor=garbage", key: b.pi}), http.StatusBadRequest, "BAD_CURSOR")

	// The audit chain: seal, then verify through the API. The sealer only
	// takes transactions older than every one still running in the cluster,
	// and parallel tests share the cluster, so it may take a few rounds.
	hashed := regexp.MustCompile(`"hash":"[0-9a-f]{64}"`)
	for attempt := 0; ; attempt++ {
		if err := b.svc.SealAll(context.Background()); err != nil {
			t.Fatal(err)
		}
		r = b.do(req{method: "GET", path: "/v1/entries/" + e.ID, key: b.pi})
		if hashed.Match(r.Body) {
			break
		}
		if attempt == 100 {
			t.Fatalf("entry still not sealed: %s", r.Body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	r = b.do(req{method: "GET", path: "/v1/audit/verify", key: b.pi})
	if r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"ok":true`) || !strings.Contains(string(r.Body), `"tenant_id":"T1"`) {
		t.Fatalf("verify: %d %s", r.Status, r.Body)
	}
}

// TestBalanceAsOf: a back-dated entry counts from its effective time.
func TestBalanceAsOf(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cash := b.openAccount(b.pi, "cash:USD", "USD", "asset")
	equity := b.openAccount(b.pi, "equity:USD", "USD", "equity")
	then := time.Now().Add(-48 * time.Hour).UTC().Truncate(time.Second)
	body := transfer(cash.ID, equity.ID, "100.00")
	body["effective_at"] = then.Format(time.RFC3339)
	b.post(b.pi, "old", body)
	b.post(b.pi, "new", transfer(cash.ID, equity.ID, "0.99"))

	for _, c := range []struct {
		at   time.Time
		want string
	}{{then.Add(-time.Second), "0.00"}, {then, "100.00"}, {time.Now().Add(-time.Hour), "100.00"}, {time.Time{}, "100.99"}} {
		path := "/v1/accounts/" + equity.ID + "/balance"
		if !c.at.IsZero() {
			path += "?as_of=" + c.at.Format(time.RFC3339)
		}
		r := b.do(req{method: "GET", path: path, key: b.pi})
		var bal balance
		r.into(t, &bal)
		if bal.Posted != c.want {
			t.Errorf("equity as of %v: %s, want %s", c.at, bal.Posted, c.want)
		}
	}
}

// serveOnce answers one request with srv's handler, without a listener.
func serveOnce(t testing.TB, srv *api.Server, method, path string) response {
	t.Helper()
	w := httptest.NewRecorder()
	srv.Handler().ServeHTTP(w, httptest.NewRequest(method, path, nil))
	return response{Status: w.Code, Header: w.Header(), Body: w.Body.Bytes()}
}
