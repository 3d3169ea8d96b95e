package settlement

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"

	"github.com/xbsettle/xbsettle/ledger"
)

func TestAccountRefs(t *testing.T) {
	t.Parallel()
	cases := []struct {
		code string
		kind ledger.Kind
		bad  bool
	}{
		{"reserve:CNY", ledger.Asset, false},
		{"buyer_funds:USD", ledger.Liability, false},
		{"merchant:91440300MA5XXXXXX:USD", ledger.Liability, false},
		{"fx_position:JPY", ledger.Asset, false},
		{"fee_income:KWD", ledger.Income, false},
		{"fx_spread_income:CNY", ledger.Income, false},
		{"payout_clearing:EUR", ledger.Liability, false},
		{"fx_spread_income:USD", "", true}, // the spread is CNY
		{"merchant:USD", "", true},         // a merchant needs an enterprise
		{"reserve:ACME:CNY", "", true},     // only merchants name one
		{"merchant:acme:USD", "", true},
		{"merchant:91440300MA5XXXXXX:XYZ", "", true},
		{"cash:CNY", "", true},
		{"reserve", "", true},
		{"merchant:A:B:USD", "", true},
	}
	for _, tc := range cases {
		r, err := ParseAccountRef(tc.code)
		if tc.bad {
			if !errors.Is(err, ErrAccountCode) {
				t.Errorf("ParseAccountRef(%q) = %+v, %v; want SETTLEMENT_ACCOUNT_CODE_INVALID", tc.code, r, err)
			}
			continue
		}
		if err != nil || r.Code() != tc.code || r.Kind() != tc.kind {
			t.Errorf("ParseAccountRef(%q) = %+v (%s, %s), %v; want kind %s", tc.code, r, r.Code(), r.Kind(), err, tc.kind)
		}
	}
}

// TestResolveConcurrentFirstUse: many resolvers, each with an empty cache as
// in separate processes, reach for the same new accounts at once; each
// account is created once and all get the same one.
func TestResolveConcurrentFirstUse(t *testing.T) {
	t.Parallel()
	b := setup(t)
	refs := []AccountRef{AccountOf(Reserve, "CNY"), AccountOf(BuyerFunds, "CNY"), MerchantAccount(importer, "USD"),
		AccountOf(FXPosition, "USD"), AccountOf(FXSpreadIncome, "CNY"), AccountOf(PayoutClearing, "USD"), AccountOf(FeeIncome, "USD")}
	const workers = 16
	sets := make([]AccountSet, workers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			set, err := NewAccounts(b.ledger).Resolve(b.ctx, b.actor, refs...)
			if err != nil {
				t.Error(err)
			}
			sets[i] = set
		}()
	}
	close(start)
	wg.Wait()
	if t.Failed() {
		return
	}
	for _, r := range refs {
		for i := range sets {
			if sets[i][r.Code()].ID != sets[0][r.Code()].ID {
				t.Fatalf("%s resolved to %s and %s", r.Code(), sets[i][r.Code()].ID, sets[0][r.Code()].ID)
			}
		}
	}
	var rows []struct {
		Code  string `db:"code"`
		N     int    `db:"n"`
		Kind  string `db:"kind"`
		Cur   string `db:"currency"`
		Debit bool   `db:"d"`
		Cred  bool   `db:"c"`
	}
	if err := b.db.Select(&rows, `SELECT code, count(*) AS n, min(kind) AS kind, min(currency) AS currency,
		bool_or(debits_must_not_exceed_credits) AS d, bool_or(credits_must_not_exceed_debits) AS c
		FROM accounts WHERE tenant_id = $1 GROUP BY code`, b.actor.Tenant); err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(refs) {
		t.Fatalf("%d accounts created, want %d", len(rows), len(refs))
	}
	for _, row := range rows {
		r, _ := ParseAccountRef(row.Code)
		flags := chart[r.Family].flags
		wantD := len(flags) == 1 && flags[0] == ledger.DebitsMustNotExceedCredits
		wantC := len(flags) == 1 && flags[0] == ledger.CreditsMustNotExceedDebits
		if row.N != 1 || row.Kind != string(r.Kind()) || row.Cur != string(r.Currency) || row.Debit != wantD || row.Cred != wantC {
			t.Errorf("%+v: want one %s %s account with the chart's flags", row, r.Currency, r.Kind())
		}
	}
}

// countingStore counts the ledger calls a resolver makes.
type countingStore struct {
	AccountStore
	calls atomic.Int64
}

func (s *countingStore) Accounts(ctx context.Context, tenant, code string, after uuid.UUID, limit int) ([]ledger.Account, error) {
	s.calls.Add(1)
	return s.AccountStore.Accounts(ctx, tenant, code, after, limit)
}

func (s *countingStore) CreateAccount(ctx context.Context, actor ledger.Actor, n ledger.NewAccount) (ledger.Account, error) {
	s.calls.Add(1)
	return s.AccountStore.CreateAccount(ctx, actor, n)
}

// TestResolveCachesPerTenant: a resolved account is served from memory after
// the first use, and each tenant has its own.
func TestResolveCachesPerTenant(t *testing.T) {
	t.Parallel()
	b := setup(t)
	store := &countingStore{AccountStore: b.ledger}
	accts := NewAccounts(store)
	ref := AccountOf(Reserve, "USD")
	first, err := accts.Resolve(b.ctx, b.actor, ref)
	if err != nil {
		t.Fatal(err)
	}
	calls := store.calls.Load()
	again, err := accts.Resolve(b.ctx, b.actor, ref)
	if err != nil || again[ref.Code()].ID != first[ref.Code()].ID || store.calls.Load() != calls {
		t.Fatalf("second resolve: %v, %d more ledger calls; want the cached account", err, store.calls.Load()-calls)
	}
	other, err := accts.Resolve(b.ctx, ledger.Actor{Tenant: b.actor.Tenant + "-other", By: "test"}, ref)
	if err != nil || other[ref.Code()].ID == first[ref.Code()].ID || other[ref.Code()].TenantID != b.actor.Tenant+"-other" {
		t.Fatalf("another tenant got %+v, %v; want an account of its own", other[ref.Code()], err)
	}
}

// TestResolveRefusesAnAccountOffChart: an account made by hand under a
// chart code, with another kind, is not used as if it were the chart's.
func TestResolveRefusesAnAccountOffChart(t *testing.T) {
	t.Parallel()
	b := setup(t)
	if _, err := b.ledger.CreateAccount(b.ctx, b.actor, ledger.NewAccount{Code: "reserve:CNY", Currency: "CNY", Kind: ledger.Liability}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.accts.Resolve(b.ctx, b.actor, AccountOf(Reserve, "CNY")); !errors.Is(err, ErrAccountChart) {
		t.Fatalf("err = %v, want SETTLEMENT_ACCOUNT_MISMATCH", err)
	}
	if _, err := b.accts.Resolve(b.ctx, b.actor, AccountRef{Family: "cash", Currency: "CNY"}); !errors.Is(err, ErrAccountCode) {
		t.Fatalf("err = %v, want SETTLEMENT_ACCOUNT_CODE_INVALID", err)
	}
}
