package ledger

import (
	"encoding/json"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
)

// Kind is an account's place in the chart of accounts. It fixes the normal
// side: assets and expenses grow with debits, the others with credits.
type Kind string

// The five kinds of account.
const (
	Asset     Kind = "asset"
	Liability Kind = "liability"
	Equity    Kind = "equity"
	Income    Kind = "income"
	Expense   Kind = "expense"
)

// Valid reports whether k is one of the five kinds.
func (k Kind) Valid() bool {
	switch k {
	case Asset, Liability, Equity, Income, Expense:
		return true
	}
	return false
}

// DebitNormal reports whether the account's balance grows with debits.
func (k Kind) DebitNormal() bool { return k == Asset || k == Expense }

// Flag names a balance constraint of an account.
type Flag string

// The balance constraints, with TigerBeetle's semantics: pending holds count.
const (
	DebitsMustNotExceedCredits Flag = "debits_must_not_exceed_credits"
	CreditsMustNotExceedDebits Flag = "credits_must_not_exceed_debits"
)

// Status says whether an account may be posted to.
type Status string

// Account statuses. Frozen and closed accounts refuse postings; a frozen
// account can be opened again, a closed one cannot.
const (
	Open   Status = "open"
	Frozen Status = "frozen"
	Closed Status = "closed"
)

// Account is one account of a tenant's ledger.
type Account struct {
	ID                uuid.UUID       `json:"id" db:"id"`
	TenantID          string          `json:"tenant_id" db:"tenant_id"`
	Code              string          `json:"code" db:"code"`
	Currency          Currency        `json:"currency" db:"currency"`
	Kind              Kind            `json:"kind" db:"kind"`
	OwnerEnterpriseID *string         `json:"owner_enterprise_id,omitempty" db:"owner_enterprise_id"`
	DebitsLimited     bool            `json:"-" db:"debits_must_not_exceed_credits"`
	CreditsLimited    bool            `json:"-" db:"credits_must_not_exceed_debits"`
	Status            Status          `json:"status" db:"status"`
	Metadata          json.RawMessage `json:"metadata" db:"metadata"`
	CreatedAt         time.Time       `json:"created_at" db:"created_at"`
	Balance           Balance         `json:"-" db:""`
}

// Flags lists the account's balance constraints.
func (a *Account) Flags() []Flag {
	flags := []Flag{}
	if a.DebitsLimited {
		flags = append(flags, DebitsMustNotExceedCredits)
	}
	if a.CreditsLimited {
		flags = append(flags, CreditsMustNotExceedDebits)
	}
	return flags
}

// NewAccount is a request to open an account.
type NewAccount struct {
	Code              string
	Currency          Currency
	Kind              Kind
	Flags             []Flag
	OwnerEnterpriseID *string
	Metadata          json.RawMessage
}

// Balance is an account's four running totals at an instant.
type Balance struct {
	PostedDebits   decimal.Decimal `db:"posted_debits"`
	PostedCredits  decimal.Decimal `db:"posted_credits"`
	PendingDebits  decimal.Decimal `db:"pending_debits"`
	PendingCredits decimal.Decimal `db:"pending_credits"`
}

// Posted is the posted balance, signed on the account's normal side.
func (b Balance) Posted(k Kind) decimal.Decimal {
	if k.DebitNormal() {
		return b.PostedDebits.Sub(b.PostedCredits)
	}
	return b.PostedCredits.Sub(b.PostedDebits)
}

// Available is the posted balance less the holds that take from the normal
// side: what could still be spent if every pending hold were posted.
func (b Balance) Available(k Kind) decimal.Decimal {
	if k.DebitNormal() {
		return b.Posted(k).Sub(b.PendingCredits)
	}
	return b.Posted(k).Sub(b.PendingDebits)
}

// apply adds one posting to the balance.
func (b *Balance) apply(dir Direction, ph Phase, amount decimal.Decimal) {
	switch {
	case ph == Posted && dir == Debit:
		b.PostedDebits = b.PostedDebits.Add(amount)
	case ph == Posted:
		b.PostedCredits = b.PostedCredits.Add(amount)
	case ph == Pending && dir == Debit:
		b.PendingDebits = b.PendingDebits.Add(amount)
	case ph == Pending:
		b.PendingCredits = b.PendingCredits.Add(amount)
	case dir == Debit: // release
		b.PendingDebits = b.PendingDebits.Sub(amount)
	default:
		b.PendingCredits = b.PendingCredits.Sub(amount)
	}
}

// violates reports whether the balance breaks one of the account's flags.
func (a *Account) violates(b Balance) bool {
	if a.DebitsLimited && b.PostedDebits.Add(b.PendingDebits).GreaterThan(b.PostedCredits) {
		return true
	}
	return a.CreditsLimited && b.PostedCredits.Add(b.PendingCredits).GreaterThan(b.PostedDebits)
}
