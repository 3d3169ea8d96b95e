package settlement

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/google/uuid"

	"github.com/xbsettle/xbsettle/ledger"
)

// Family is a kind of settlement account; with a currency (and, for a
// merchant, an enterprise) it names one account of a tenant's chart.
type Family string

// The settlement chart. Codes read family:CCY, or merchant:<enterprise>:CCY.
const (
	Reserve        Family = "reserve"          // 备付金: the institution's funds at the bank (asset)
	BuyerFunds     Family = "buyer_funds"      // collected from buyers, not yet settled (liability)
	Merchant       Family = "merchant"         // payable to one enterprise (liability)
	FXPosition     Family = "fx_position"      // the FX position per currency (asset, signed)
	FeeIncome      Family = "fee_income"       // fees charged (income)
	FXSpreadIncome Family = "fx_spread_income" // spread against parity, CNY only (income)
	PayoutClearing Family = "payout_clearing"  // payouts sent, not yet confirmed by the bank (liability)
)

// chart gives each family its kind and flags. The flags make the ledger
// refuse what would be a bug here: paying out more than the reserve holds,
// settling more than was collected, paying a merchant more than it is owed.
var chart = map[Family]struct {
	kind  ledger.Kind
	flags []ledger.Flag
}{
	Reserve:        {ledger.Asset, []ledger.Flag{ledger.CreditsMustNotExceedDebits}},
	BuyerFunds:     {ledger.Liability, []ledger.Flag{ledger.DebitsMustNotExceedCredits}},
	Merchant:       {ledger.Liability, []ledger.Flag{ledger.DebitsMustNotExceedCredits}},
	FXPosition:     {ledger.Asset, nil},
	FeeIncome:      {ledger.Income, nil},
	FXSpreadIncome: {ledger.Income, nil},
	PayoutClearing: {ledger.Liability, nil},
}

// maxEnterpriseLen bounds an enterprise code inside an account code: customs
// codes have 10 characters, unified social credit codes 18.
const maxEnterpriseLen = 32

// AccountRef names one settlement account of a tenant.
type AccountRef struct {
	Family     Family
	Enterprise string // Merchant only: the enterprise's customs code
	Currency   ledger.Currency
}

// MerchantAccount is the payable to an enterprise in a currency.
func MerchantAccount(enterprise string, cur ledger.Currency) AccountRef {
	return AccountRef{Family: Merchant, Enterprise: enterprise, Currency: cur}
}

// AccountOf is the account of a family that is not per enterprise.
func AccountOf(f Family, cur ledger.Currency) AccountRef { return AccountRef{Family: f, Currency: cur} }

// Code is the account's readable code: "reserve:CNY", "merchant:91440300MA5XXXXXX:USD".
func (r AccountRef) Code() string {
	if r.Family == Merchant {
		return string(r.Family) + ":" + r.Enterprise + ":" + string(r.Currency)
	}
	return string(r.Family) + ":" + string(r.Currency)
}

// Kind is the account's kind in the ledger.
func (r AccountRef) Kind() ledger.Kind { return chart[r.Family].kind }

// Validate checks the reference against the chart. Errors: ErrAccountCode.
func (r AccountRef) Validate() error {
	if _, ok := chart[r.Family]; !ok {
		return ErrAccountCode.With("%q is not a settlement account family", r.Family)
	}
	if !r.Currency.Valid() {
		return ErrAccountCode.With("%s: %q is not a known currency", r.Family, r.Currency)
	}
	if r.Family == FXSpreadIncome && r.Currency != CNY {
		return ErrAccountCode.With("the spread is income in CNY only, not %s", r.Currency)
	}
	if (r.Family == Merchant) != (r.Enterprise != "") {
		return ErrAccountCode.With("only a merchant account names an enterprise (%s, %q)", r.Family, r.Enterprise)
	}
	if r.Family == Merchant && !validEnterprise(r.Enterprise) {
		return ErrAccountCode.With("enterprise %q is not 1 to %d of A-Z 0-9", r.Enterprise, maxEnterpriseLen)
	}
	return nil
}

func validEnterprise(s string) bool {
	if len(s) == 0 || len(s) > maxEnterpriseLen {
		return false
	}
	for _, c := range s {
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// ParseAccountRef reads a code of the chart. Errors: ErrAccountCode.
func ParseAccountRef(code string) (AccountRef, error) {
	parts := strings.Split(code, ":")
	var r AccountRef
	switch len(parts) {
	case 2:
		r = AccountRef{Family: Family(parts[0]), Currency: ledger.Currency(parts[1])}
	case 3:
		r = AccountRef{Family: Family(parts[0]), Enterprise: parts[1], Currency: ledger.Currency(parts[2])}
	default:
		return AccountRef{}, ErrAccountCode.With("%q is not family:CCY or merchant:<enterprise>:CCY", code)
	}
	if err := r.Validate(); err != nil {
		return AccountRef{}, err
	}
	return r, nil
}

// AccountSet holds resolved accounts by code.
type AccountSet map[string]ledger.Account

// Get returns the account of a reference, if the set holds it.
func (s AccountSet) Get(r AccountRef) (ledger.Account, bool) {
	a, ok := s[r.Code()]
	return a, ok
}

// AccountStore is the part of the ledger that Accounts uses; *ledger.Service
// is one.
type AccountStore interface {
	CreateAccount(ctx context.Context, actor ledger.Actor, n ledger.NewAccount) (ledger.Account, error)
	Accounts(ctx context.Context, tenant, code string, after uuid.UUID, limit int) ([]ledger.Account, error)
}

// Bounds of Accounts.
const (
	MaxResolve      = ledger.MaxPostings // references per Resolve call
	maxCachedIDs    = 100_000            // a full cache is dropped and refills on use
	resolveAttempts = 3
)

// Accounts finds a tenant's settlement accounts, creating each on first
// use. Accounts are never deleted and their id, currency and kind never
// change, so it caches them in process without expiry. Safe for concurrent
// use, within and across processes: the ledger's unique code per tenant
// decides which of two concurrent creations wins.
type Accounts struct {
	store AccountStore
	mu    sync.RWMutex
	cache map[string]ledger.Account // tenant + "\x00" + code; balances zeroed
}

// NewAccounts returns a resolver over the ledger.
//
//	accts := settlement.NewAccounts(ledgerSvc)
//	set, err := accts.Resolve(ctx, actor, settlement.AccountOf(settlement.Reserve, "CNY"))
func NewAccounts(store AccountStore) *Accounts {
	return &Accounts{store: store, cache: map[string]ledger.Account{}}
}

// Resolve returns the actor's tenant's accounts for the references, creating
// those that do not exist yet with the chart's kind and flags. The accounts'
// balances are not filled in (read them from the ledger). Errors:
// ErrAccountCode, ErrAccountChart (an account of that code exists with
// another currency or kind), and those of the ledger.
func (a *Accounts) Resolve(ctx context.Context, actor ledger.Actor, refs ...AccountRef) (AccountSet, error) {
	if actor.Tenant == "" || actor.By == "" {
		return nil, fmt.Errorf("resolve accounts: tenant and principal are required")
	}
	if len(refs) > MaxResolve {
		return nil, fmt.Errorf("resolve accounts: %d references; at most %d", len(refs), MaxResolve)
	}
	set := make(AccountSet, len(refs))
	for _, r := range refs {
		if err := r.Validate(); err != nil {
			return nil, err
		}
		acc, err := a.resolve(ctx, actor, r)
		if err != nil {
			return nil, fmt.Errorf("resolve %s: %w", r.Code(), err)
		}
		set[r.Code()] = acc
	}
	return set, nil
}

func (a *Accounts) resolve(ctx context.Context, actor ledger.Actor, r AccountRef) (ledger.Account, error) {
	key := actor.Tenant + "\x00" + r.Code()
	a.mu.RLock()
	acc, ok := a.cache[key]
	a.mu.RUnlock()
	if ok {
		return acc, nil
	}
	acc, err := a.findOrCreate(ctx, actor, r)
	if err != nil {
		return ledger.Account{}, err
	}
	if acc.Currency != r.Currency || acc.Kind != r.Kind() {
		return ledger.Account{}, ErrAccountChart.With("account %s is %s %s; the chart wants %s %s",
			r.Code(), acc.Currency, acc.Kind, r.Currency, r.Kind())
	}
	acc.Balance = ledger.Balance{}
	a.mu.Lock()
	if len(a.cache) >= maxCachedIDs {
		a.cache = map[string]ledger.Account{}
	}
	a.cache[key] = acc
	a.mu.Unlock()
	return acc, nil
}

// findOrCreate reads the account by code, or creates it. Losing the race
// to create it (ACCOUNT_EXISTS) means another writer has just committed it,
// so the next read finds it; the loop is bounded all the same.
func (a *Accounts) findOrCreate(ctx context.Context, actor ledger.Actor, r AccountRef) (ledger.Account, error) {
	code := r.Code()
	for attempt := 0; attempt < resolveAttempts; attempt++ {
		found, err := a.store.Accounts(ctx, actor.Tenant, code, uuid.Nil, 1)
		if err != nil {
			return ledger.Account{}, err
		}
		if len(found) == 1 {
			return found[0], nil
		}
		m := map[string]string{"family": string(r.Family)}
		if r.Enterprise != "" {
			m["enterprise"] = r.Enterprise
		}
		meta, _ := json.Marshal(m)
		acc, err := a.store.CreateAccount(ctx, actor, ledger.NewAccount{Code: code, Currency: r.Currency,
			Kind: r.Kind(), Flags: chart[r.Family].flags, Metadata: meta})
		if err == nil {
			return acc, nil
		}
		if !errors.Is(err, ledger.ErrAccountExists) {
			return ledger.Account{}, err
		}
	}
	return ledger.Account{}, fmt.Errorf("account %s neither found nor created after %d attempts", code, resolveAttempts)
}
