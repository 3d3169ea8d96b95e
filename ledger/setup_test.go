package ledger

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"

	"github.com/xbsettle/xbsettle/internal/testenv"
)

// bundle is what most ledger tests need: a service on a fresh database and
// a tenant of their own.
type bundle struct {
	t     testing.TB
	ctx   context.Context
	db    *sqlx.DB
	svc   *Service
	actor Actor
}

func setup(t testing.TB) *bundle {
	t.Helper()
	db := testenv.NewDB(t, 40)
	return &bundle{t: t, ctx: context.Background(), db: db, svc: NewService(db, nil), actor: Actor{Tenant: "T" + uuid.NewString()[:8], By: "test"}}
}

// bothPaths runs a test once with direct posting and once with the batcher
// that groups concurrent posts, since both must keep every invariant.
func bothPaths(t *testing.T, test func(t *testing.T, b *bundle)) {
	for _, batched := range []bool{false, true} {
		name := map[bool]string{false: "direct", true: "batched"}[batched]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			if batched {
				b.svc = NewService(b.db, nil, WithBatching(8, 200))
				t.Cleanup(b.svc.Close)
			}
			test(t, b)
		})
	}
}

func (b *bundle) account(code string, cur Currency, kind Kind, flags ...Flag) Account {
	b.t.Helper()
	a, err := b.svc.CreateAccount(b.ctx, b.actor, NewAccount{Code: code, Currency: cur, Kind: kind, Flags: flags})
	if err != nil {
		b.t.Fatalf("create account %s: %v", code, err)
	}
	return a
}

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// transfer is a two-posting request moving amount from one account to another.
func transfer(key string, from, to uuid.UUID, amount string) EntryRequest {
	return EntryRequest{IdempotencyKey: key, Postings: []PostingRequest{
		{AccountID: from, Direction: Debit, Amount: dec(amount)},
		{AccountID: to, Direction: Credit, Amount: dec(amount)},
	}}
}

func (b *bundle) post(req EntryRequest) Entry {
	b.t.Helper()
	e, _, err := b.svc.Post(b.ctx, b.actor, req)
	if err != nil {
		b.t.Fatalf("post %s: %v", req.IdempotencyKey, err)
	}
	return e
}

func (b *bundle) balance(id uuid.UUID) Balance {
	b.t.Helper()
	a, err := b.svc.Account(b.ctx, b.actor.Tenant, id)
	if err != nil {
		b.t.Fatal(err)
	}
	return a.Balance
}

// failer is what both *testing.T and *rapid.T offer.
type failer interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
}

// checkInvariants asserts, in SQL over the stored rows, that every currency's
// postings balance per phase and every account's stored balance is the sum
// of its postings.
func checkInvariants(t failer, db *sqlx.DB, tenant string) {
	t.Helper()
	var unbalanced []string
	if err := db.Select(&unbalanced, `SELECT currency || '/' || phase FROM postings WHERE tenant_id = $1
		GROUP BY currency, phase HAVING sum(CASE WHEN direction = 'debit' THEN amount ELSE -amount END) <> 0`, tenant); err != nil {
		t.Fatal(err)
	}
	if len(unbalanced) > 0 {
		t.Fatalf("debits differ from credits in %v", unbalanced)
	}
	var drifted []string
	if err := db.Select(&drifted, `SELECT a.code FROM accounts a, LATERAL (SELECT
			coalesce(sum(amount) FILTER (WHERE phase = 'posted' AND direction = 'debit'), 0) AS pd,
			coalesce(sum(amount) FILTER (WHERE phase = 'posted' AND direction = 'credit'), 0) AS pc,
			coalesce(sum(CASE phase WHEN 'pending' THEN amount WHEN 'release' THEN -amount END) FILTER (WHERE direction = 'debit'), 0) AS qd,
			coalesce(sum(CASE phase WHEN 'pending' THEN amount WHEN 'release' THEN -amount END) FILTER (WHERE direction = 'credit'), 0) AS qc
		FROM postings p WHERE p.account_id = a.id) s
		WHERE a.tenant_id = $1 AND (a.posted_debits <> s.pd OR a.posted_credits <> s.pc OR a.pending_debits <> s.qd OR a.pending_credits <> s.qc)`, tenant); err != nil {
		t.Fatal(err)
	}
	if len(drifted) > 0 {
		t.Fatalf("stored balances differ from their postings for %v", drifted)
	}
}
