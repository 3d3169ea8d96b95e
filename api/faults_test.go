package api_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/xbsettle/xbsettle/internal/db"
	"github.com/xbsettle/xbsettle/internal/testenv"
)

// TestDatabaseAwayAnswers503: while PostgreSQL cannot be reached, reads,
// writes and the readiness check answer 503 problem+json with Retry-After
// (DATABASE_UNAVAILABLE, NOT_READY for /readyz), not 500; once it is back
// the same requests succeed, and the write that was refused is stored once.
func TestDatabaseAwayAnswers503(t *testing.T) {
	t.Parallel()
	proxy, url := testenv.NewProxy(t, testenv.NewDatabase(t))
	pool, err := db.Open(context.Background(), url, 8)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pool.Close() })
	b := setupOn(t, pool)
	a := b.openAccount(b.pi, "reserve:CNY", "CNY", "asset")
	l := b.openAccount(b.pi, "wallet:CNY", "CNY", "liability")
	before := b.counts()

	post := req{method: "POST", path: "/v1/entries", key: b.pi, body: transfer(a.ID, l.ID, "5.00"), headers: []string{"Idempotency-Key", "during-outage"}}
	read := req{method: "GET", path: "/v1/accounts/" + a.ID + "/balance", key: b.pi}
	proxy.Stop()
	for _, r := range []req{post, read, {method: "POST", path: "/v1/accounts", key: b.pi, body: map[string]any{"code": "fee:CNY", "currency": "CNY", "kind": "income"}}} {
		got := b.do(r)
		wantProblem(t, got, http.StatusServiceUnavailable, "DATABASE_UNAVAILABLE")
		if ra := got.Header.Get("Retry-After"); ra != "2" {
			t.Errorf("%s %s: Retry-After %q, want 2", r.method, r.path, ra)
		}
	}
	ready := b.do(req{method: "GET", path: "/readyz"})
	wantProblem(t, ready, http.StatusServiceUnavailable, "NOT_READY")
	if ra := ready.Header.Get("Retry-After"); ra == "" {
		t.Error("/readyz: 503 without Retry-After")
	}

	proxy.Start()
	e := b.post(b.pi, "during-outage", transfer(a.ID, l.ID, "5.00"))
	replay := b.do(post)
	var again entry
	if replay.into(t, &again); replay.Status != http.StatusOK || again.ID != e.ID {
		t.Fatalf("replay after the outage: %d, entry %s; want 200 with %s", replay.Status, again.ID, e.ID)
	}
	if bal := b.balance(b.pi, a.ID); bal.Posted != "5.00" {
		t.Fatalf("balance after the outage: %+v, want 5.00 posted", bal)
	}
	after := b.counts()
	if after["entries"] != before["entries"]+1 || after["accounts"] != before["accounts"] {
		t.Fatalf("rows before the outage %v, after %v: want one entry more and no account", before, after)
	}
}
