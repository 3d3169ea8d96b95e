package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/hibiken/asynq"
	"github.com/jmoiron/sqlx"
	"github.com/redis/go-redis/v9"

	"github.com/xbsettle/xbsettle/api"
	"github.com/xbsettle/xbsettle/internal/testenv"
	"github.com/xbsettle/xbsettle/ledger"
	"github.com/xbsettle/xbsettle/risk"
	"github.com/xbsettle/xbsettle/settlement"
	"github.com/xbsettle/xbsettle/settlement/clearance"
)

// bundle is one test's API on a fresh database, with keys of each kind.
type bundle struct {
	t      testing.TB
	db     *sqlx.DB
	svc    *ledger.Service
	keys   *api.KeyStore
	clr    *clearance.Service
	fx     *settlement.FX
	settle *settlement.Service
	risk   *risk.Service
	redis  asynq.RedisClientOpt // the test's own Redis database, where tasks are enqueued

	workers sync.Once // startWorkers
	server  *api.Server
	url     string
	client  *http.Client

	admin    string // admin key without a tenant
	pi       string // payment_institution of tenant "T1"
	piOther  string // payment_institution of tenant "T2"
	platform string // platform of tenant "T1"
}

// setup starts the real API over a fresh database and Redis, served by
// httptest on a loopback port.
func setup(t testing.TB, opts ...ledger.Option) *bundle {
	t.Helper()
	return setupOn(t, testenv.NewDB(t, 40), opts...)
}

// setupOn is setup over the database db.
func setupOn(t testing.TB, db *sqlx.DB, opts ...ledger.Option) *bundle {
	t.Helper()
	ropt := testenv.Redis(t)
	rdb := redis.NewClient(&redis.Options{Addr: ropt.Addr, DB: ropt.DB})
	t.Cleanup(func() { rdb.Close() })

	b := &bundle{t: t, db: db, svc: ledger.NewService(db, nil, opts...), keys: api.NewKeyStore(db), redis: ropt}
	t.Cleanup(b.svc.Close)
	client := asynq.NewClient(ropt)
	t.Cleanup(func() { client.Close() })
	var err error
	if b.clr, err = clearance.NewService(db, []byte("api-test-secret-key-0123456789abcdef"), clearance.NewTaskScheduler(client)); err != nil {
		t.Fatal(err)
	}
	if b.fx, err = settlement.NewFX(db); err != nil {
		t.Fatal(err)
	}
	// As xbsettle wires them: settlement judges items by the FX category
	// risk says is in effect (A for an enterprise never classified).
	if b.risk, err = risk.NewService(db, risk.WithEnqueuer(risk.NewTaskEnqueuer(client))); err != nil {
		t.Fatal(err)
	}
	b.settle = settlement.NewService(db, b.svc, b.fx, settlement.WithEnqueuer(settlement.NewTaskEnqueuer(client)),
		settlement.WithCategoryPolicy(b.risk.Policy()))
	b.server = api.New(api.Deps{
		Ledger:     b.svc,
		Clearance:  b.clr,
		FX:         b.fx,
		Settlement: b.settle,
		Risk:       b.risk,
		Keys:       b.keys,
		Checks: []api.Check{
			{Name: "postgres", Ping: db.PingContext},
			{Name: "redis", Ping: func(ctx context.Context) error { return rdb.Ping(ctx).Err() }},
		},
		Logger: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	ts := httptest.NewServer(b.server.Handler())
	t.Cleanup(ts.Close)
	b.url = ts.URL
	b.client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	t.Cleanup(b.client.CloseIdleConnections)

	b.admin = b.key(api.RoleAdmin, "")
	b.pi = b.key(api.RolePaymentInstitution, "T1")
	b.piOther = b.key(api.RolePaymentInstitution, "T2")
	b.platform = b.key(api.RolePlatform, "T1")
	return b
}

// bothLedgerPaths runs a test against an API whose ledger posts each entry
// in its own transaction, and against one that groups concurrent posts
// (what xbsettle serve runs): both must keep every guarantee.
func bothLedgerPaths(t *testing.T, test func(t *testing.T, b *bundle)) {
	for name, opts := range map[string][]ledger.Option{"direct": nil, "batched": {ledger.WithBatching(2, ledger.MaxBatch)}} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			test(t, setup(t, opts...))
		})
	}
}

// testWriter sends the server's warnings and errors to the test log.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func (b *bundle) key(role api.Role, tenant string) string {
	b.t.Helper()
	_, key, err := b.keys.Create(context.Background(), role, tenant)
	if err != nil {
		b.t.Fatalf("create %s key: %v", role, err)
	}
	return key
}

// response is an answer, read whole.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// problem decodes an error answer.
func (r response) problem(t testing.TB) api.Problem {
	t.Helper()
	var p api.Problem
	if err := json.Unmarshal(r.Body, &p); err != nil {
		t.Fatalf("decode problem %s: %v", r.Body, err)
	}
	return p
}

// into decodes a success answer.
func (r response) into(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %T from %s: %v", v, r.Body, err)
	}
}

// req describes a request: body is sent as is when it is a string or
// []byte, else JSON-encoded; headers are name, value pairs.
type req struct {
	method, path, key string
	body              any
	headers           []string
}

func (b *bundle) do(r req) response {
	b.t.Helper()
	var body io.Reader
	switch v := r.body.(type) {
	case nil:
	case string:
		body = strings.NewReader(v)
	case []byte:
		body = bytes.NewReader(v)
	default:
		raw, err := json.Marshal(v)
		if err != nil {
			b.t.Fatalf("encode body: %v", err)
		}
		body = bytes.NewReader(raw)
	}
	hr, err := http.NewRequest(r.method, b.url+r.path, body)
	if err != nil {
		b.t.Fatalf("new request: %v", err)
	}
	if body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	if r.key != "" {
		hr.Header.Set("Authorization", "Bearer "+r.key)
	}
	for i := 0; i+1 < len(r.headers); i += 2 {
		if r.headers[i+1] == "" {
			hr.Header.Del(r.headers[i])
		} else {
			hr.Header.Set(r.headers[i], r.headers[i+1])
		}
	}
	resp, err := b.client.Do(hr)
	if err != nil {
		b.t.Fatalf("%s %s: %v", r.method, r.path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatalf("read %s %s: %v", r.method, r.path, err)
	}
	return response{Status: resp.StatusCode, Header: resp.Header, Body: raw}
}

// account is the part of an account answer tests look at.
type account struct {
	ID       string   `json:"id"`
	Code     string   `json:"code"`
	Currency string   `json:"currency"`
	Kind     string   `json:"kind"`
	Flags    []string `json:"flags"`
	Status   string   `json:"status"`
}

type posting struct {
	AccountID string `json:"account_id"`
	Direction string `json:"direction"`
	Amount    string `json:"amount"`
	Currency  string `json:"currency,omitempty"`
	Phase     string `json:"phase,omitempty"`
}

type entry struct {
	ID             string    `json:"id"`
	IdempotencyKey string    `json:"idempotency_key"`
	Kind           string    `json:"kind"`
	Postings       []posting `json:"postings"`
}

type hold struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Entry  entry  `json:"entry"`
}

type balance struct {
	Posted         string `json:"posted"`
	Available      string `json:"available"`
	PostedDebits   string `json:"posted_debits"`
	PostedCredits  string `json:"posted_credits"`
	PendingDebits  string `json:"pending_debits"`
	PendingCredits string `json:"pending_credits"`
	AsOf           string `json:"as_of"`
}

// openAccount creates an account through the API with key.
func (b *bundle) openAccount(key, code, currency, kind string, flags ...string) account {
	b.t.Helper()
	if flags == nil {
		flags = []string{}
	}
	r := b.do(req{method: "POST", path: "/v1/accounts", key: key,
		body: map[string]any{"code": code, "currency": currency, "kind": kind, "flags": flags}})
	if r.Status != http.StatusCreated {
		b.t.Fatalf("open account %s: %d %s", code, r.Status, r.Body)
	}
	var a account
	r.into(b.t, &a)
	return a
}

// transfer is an entry body moving amount from debit to credit.
func transfer(debit, credit, amount string) map[string]any {
	return map[string]any{"postings": []posting{
		{AccountID: debit, Direction: "debit", Amount: amount},
		{AccountID: credit, Direction: "credit", Amount: amount},
	}}
}

// post posts an entry with key and idempotency key, expecting success.
func (b *bundle) post(key, idem string, body any) entry {
	b.t.Helper()
	r := b.do(req{method: "POST", path: "/v1/entries", key: key, body: body, headers: []string{"Idempotency-Key", idem}})
	if r.Status != http.StatusCreated {
		b.t.Fatalf("post entry %s: %d %s", idem, r.Status, r.Body)
	}
	var e entry
	r.into(b.t, &e)
	return e
}

func (b *bundle) balance(key, accountID string) balance {
	b.t.Helper()
	r := b.do(req{method: "GET", path: "/v1/accounts/" + accountID + "/balance", key: key})
	if r.Status != http.StatusOK {
		b.t.Fatalf("balance of %s: %d %s", accountID, r.Status, r.Body)
	}
	var bal balance
	r.into(b.t, &bal)
	return bal
}

// counts is the number of rows in each ledger table.
func (b *bundle) counts() map[string]int {
	b.t.Helper()
	out := map[string]int{}
	for _, table := range []string{"accounts", "entries", "postings", "holds"} {
		var n int
		if err := b.db.Get(&n, "SELECT count(*) FROM "+table); err != nil {
			b.t.Fatalf("count %s: %v", table, err)
		}
		out[table] = n
	}
	return out
}

// wantProblem checks an error answer's status, code and shape.
func wantProblem(t testing.TB, r response, status int, code string) api.Problem {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Fatalf("Content-Type %q, want application/problem+json", ct)
	}
	p := r.problem(t)
	if p.Code != code {
		t.Fatalf("code %s, want %s: %s", p.Code, code, r.Body)
	}
	if p.Status != status || p.Title == "" || p.Detail == "" || p.Type == "" {
		t.Fatalf("incomplete problem: %s", r.Body)
	}
	if p.RequestID == "" || p.RequestID != r.Header.Get("X-Request-ID") {
		t.Fatalf("request_id %q, X-Request-ID %q", p.RequestID, r.Header.Get("X-Request-ID"))
	}
	return p
}

func hasField(p api.Problem, field, code string) bool {
	for _, f := range p.Errors {
		if f.Field == field && f.Code == code {
			return true
		}
	}
	return false
}

func fieldList(p api.Problem) string {
	var s []string
	for _, f := range p.Errors {
		s = append(s, fmt.Sprintf("%s:%s", f.Field, f.Code))
	}
	return strings.Join(s, ", ")
}
