package ledger

import (
	"fmt"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
)

// book is the set of accounts an operation locked, with their running
// balances: drafts are checked against it one after another, so a batch
// sees each earlier entry's effect exactly as separate requests would.
type book struct {
	accounts map[uuid.UUID]*Account
	deltas   map[uuid.UUID]*Balance // what the accepted drafts add, per account
}

func newBook(accounts []Account) *book {
	b := &book{accounts: make(map[uuid.UUID]*Account, len(accounts)), deltas: map[uuid.UUID]*Balance{}}
	for i := range accounts {
		b.accounts[accounts[i].ID] = &accounts[i]
	}
	return b
}

// apply checks one entry against the book and, when it holds, adds it.
// A refused entry leaves the book as it was.
func (b *book) apply(e *Entry) error {
	if len(e.Postings) < 2 {
		return ErrTooFewPostings.With("an entry needs at least two postings, got %d", len(e.Postings))
	}
	if len(e.Postings) > MaxPostings {
		return ErrTooManyPostings.With("an entry has at most %d postings, got %d", MaxPostings, len(e.Postings))
	}
	releasesOnly := e.Kind == HoldVoid || e.Kind == HoldExpire
	sums := map[Currency]decimal.Decimal{} // debits minus credits, per currency
	next := map[uuid.UUID]Balance{}
	for i := range e.Postings {
		p := &e.Postings[i]
		a, ok := b.accounts[p.AccountID]
		if !ok {
			return ErrAccountNotFound.With("account %s does not exist", p.AccountID)
		}
		if a.Status != Open && !releasesOnly {
			return statusError(a)
		}
		if p.Currency != "" && p.Currency != a.Currency {
			return ErrCurrencyMismatch.With("postings[%d]: account %s holds %s, not %s", i, a.Code, a.Currency, p.Currency)
		}
		p.Currency = a.Currency
		if err := CheckMinorUnits(p.Amount, a.Currency); err != nil {
			return ErrAmountPrecision.With("postings[%d]: %v", i, err)
		}
		bal, seen := next[a.ID]
		if !seen {
			bal = a.Balance
		}
		bal.apply(p.Direction, p.Phase, p.Amount)
		next[a.ID] = bal
		signed := p.Amount
		if p.Direction == Credit {
			signed = signed.Neg()
		}
		sums[a.Currency] = sums[a.Currency].Add(signed)
	}
	for cur, sum := range sums {
		if !sum.IsZero() {
			return ErrUnbalanced.With("%s debits and credits differ by %s", cur, cur.Format(sum.Abs()))
		}
	}
	for id, bal := range next {
		if a := b.accounts[id]; a.violates(bal) {
			return ErrInsufficientFunds.With("account %s (%s) would have available %s", a.Code, a.ID, a.Currency.Format(bal.Available(a.Kind)))
		}
	}
	for i := range e.Postings {
		p := &e.Postings[i]
		d := b.deltas[p.AccountID]
		if d == nil {
			d = &Balance{}
			b.deltas[p.AccountID] = d
		}
		d.apply(p.Direction, p.Phase, p.Amount)
	}
	for id, bal := range next {
		b.accounts[id].Balance = bal
	}
	return nil
}

func statusError(a *Account) error {
	if a.Status == Frozen {
		return ErrAccountFrozen.With("account %s (%s) is frozen", a.Code, a.ID)
	}
	return ErrAccountClosed.With("account %s (%s) is %s", a.Code, a.ID, a.Status)
}

// assertBalanced panics if a written entry is unbalanced: apply refuses such
// entries, so reaching here means a bug that must not write money.
func assertBalanced(e *Entry) {
	sums := map[Currency]decimal.Decimal{}
	for _, p := range e.Postings {
		if p.Direction == Debit {
			sums[p.Currency] = sums[p.Currency].Add(p.Amount)
		} else {
			sums[p.Currency] = sums[p.Currency].Sub(p.Amount)
		}
	}
	for c, s := range sums {
		if !s.IsZero() {
			panic(fmt.Sprintf("ledger: entry %s unbalanced in %s by %s", e.ID, c, s))
		}
	}
}
