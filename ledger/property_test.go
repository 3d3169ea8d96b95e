package ledger

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"
	"pgregory.net/rapid"
)

// TestInvariantsUnderRandomOperations drives random sequences of entries,
// batches, holds, posts, voids, reversals, replays and accounts frozen or
// reopened by another service (so this one's memory of them is stale) over random accounts
// and currencies. After every step, in SQL over the stored rows: debits
// equal credits per currency and phase, and every stored balance is the sum
// of its postings; and, against a model kept from the results the service
// returned, every stored balance is what those results add up to.
func TestInvariantsUnderRandomOperations(t *testing.T) {
	bothPaths(t, func(t *testing.T, b *bundle) { checkRandomOperations(t, b.db, b.svc) })
}

func checkRandomOperations(t *testing.T, db *sqlx.DB, svc *Service) {
	ctx := context.Background()
	elsewhere := NewService(db, nil)
	currencies := []Currency{"CNY", "USD", "JPY", "KWD"}
	kinds := []Kind{Asset, Liability, Equity, Income, Expense}

	rapid.Check(t, func(rt *rapid.T) {
		actor := Actor{Tenant: "P" + uuid.NewString()[:12], By: "property"}
		var accounts []Account
		for i, n := 0, rapid.IntRange(3, 7).Draw(rt, "accounts"); i < n; i++ {
			var flags []Flag
			if rapid.Bool().Draw(rt, "limited") {
				flags = []Flag{DebitsMustNotExceedCredits}
			}
			a, err := svc.CreateAccount(ctx, actor, NewAccount{Code: fmt.Sprint("acct", i),
				Currency: rapid.SampledFrom(currencies).Draw(rt, "currency"), Kind: rapid.SampledFrom(kinds).Draw(rt, "kind"), Flags: flags})
			if err != nil {
				rt.Fatal(err)
			}
			accounts = append(accounts, a)
		}
		model := map[uuid.UUID]*Balance{}
		frozen := map[uuid.UUID]bool{}
		for _, a := range accounts {
			model[a.ID] = &Balance{}
		}
		record := func(e Entry) {
			for _, p := range e.Postings {
				if frozen[p.AccountID] && p.Phase != Release {
					rt.Fatalf("entry %s (%s) moved frozen account %s", e.ID, e.Kind, p.AccountID)
				}
				model[p.AccountID].apply(p.Direction, p.Phase, p.Amount)
			}
		}
		var entries, holds []uuid.UUID
		var sent []EntryRequest
		seq := 0
		newRequest := func(rt *rapid.T) EntryRequest {
			seq++
			return EntryRequest{IdempotencyKey: fmt.Sprint("k", seq), Postings: randomPostings(rt, accounts)}
		}
		expect := func(err error) {
			if err != nil && !errors.Is(err, ErrInsufficientFunds) && !errors.Is(err, ErrUnbalanced) &&
				!errors.Is(err, ErrTooFewPostings) && !errors.Is(err, ErrHoldResolved) && !errors.Is(err, ErrAlreadyReversed) &&
				!errors.Is(err, ErrNotReversible) && !errors.Is(err, ErrHoldPartial) && !errors.Is(err, ErrHoldAmount) &&
				!errors.Is(err, ErrAccountFrozen) {
				rt.Fatalf("unexpected error: %v", err)
			}
		}
		// A post may be refused as frozen only if one of its accounts is.
		expectPost := func(req EntryRequest, err error) {
			expect(err)
			if errors.Is(err, ErrAccountFrozen) && !slices.ContainsFunc(req.Postings, func(p PostingRequest) bool { return frozen[p.AccountID] }) {
				rt.Fatalf("request %s refused as frozen, but none of its accounts is", req.IdempotencyKey)
			}
		}

		for step, n := 0, rapid.IntRange(1, 12).Draw(rt, "steps"); step < n; step++ {
			switch op := rapid.IntRange(0, 7).Draw(rt, "op"); {
			case op == 0 || op == 1:
				req := newRequest(rt)
				e, _, err := svc.Post(ctx, actor, req)
				expectPost(req, err)
				if err == nil {
					// A refused request leaves no trace, so only a posted one is sure to replay.
					sent = append(sent, req)
					record(e)
					entries = append(entries, e.ID)
				}
			case op == 2:
				reqs := make([]EntryRequest, rapid.IntRange(1, 5).Draw(rt, "batch"))
				for i := range reqs {
					reqs[i] = newRequest(rt)
				}
				for i, r := range svc.PostBatch(ctx, actor, reqs) {
					expectPost(reqs[i], r.Err)
					if r.Err == nil {
						record(r.Entry)
						entries = append(entries, r.Entry.ID)
					}
				}
			case op == 3:
				h, _, err := svc.CreateHold(ctx, actor, newRequest(rt), nil)
				expect(err)
				if err == nil {
					record(h.Entry)
					holds = append(holds, h.ID)
				}
			case op == 4 && len(holds) > 0:
				id := rapid.SampledFrom(holds).Draw(rt, "hold")
				var h Hold
				var replayed bool
				var err error
				switch rapid.IntRange(0, 2).Draw(rt, "resolution") {
				case 0:
					h, replayed, err = svc.VoidHold(ctx, actor, id, "")
				case 1:
					h, replayed, err = svc.PostHold(ctx, actor, id, nil, "")
				default:
					amt := decimal.New(rapid.Int64Range(1, 500).Draw(rt, "partial"), 0)
					h, replayed, err = svc.PostHold(ctx, actor, id, &amt, "")
				}
				expect(err)
				if err == nil && !replayed {
					record(*h.Resolution)
					entries = append(entries, h.Resolution.ID)
				}
			case op == 5 && len(entries) > 0:
				e, replayed, err := svc.Reverse(ctx, actor, rapid.SampledFrom(entries).Draw(rt, "reverse"), "", "")
				expect(err)
				if err == nil && !replayed {
					record(e)
					entries = append(entries, e.ID)
				}
			case op == 6 && len(sent) > 0:
				_, replayed, err := svc.Post(ctx, actor, rapid.SampledFrom(sent).Draw(rt, "replay"))
				if err != nil || !replayed {
					rt.Fatalf("a repeated request was not answered as a replay: replayed %v, err %v", replayed, err)
				}
			case op == 7:
				// Through another service, as another process would: this
				// one's memory of the account's status is now stale.
				a := rapid.SampledFrom(accounts).Draw(rt, "freeze")
				to := rapid.SampledFrom([]Status{Frozen, Open}).Draw(rt, "status")
				if _, err := elsewhere.SetStatus(ctx, actor, a.ID, to); err != nil {
					rt.Fatal(err)
				}
				frozen[a.ID] = to == Frozen
			}
			checkInvariants(rt, db, actor.Tenant)
			for _, a := range accounts {
				got, err := svc.Account(ctx, actor.Tenant, a.ID)
				if err != nil {
					rt.Fatal(err)
				}
				m := model[a.ID]
				if !got.Balance.PostedDebits.Equal(m.PostedDebits) || !got.Balance.PostedCredits.Equal(m.PostedCredits) ||
					!got.Balance.PendingDebits.Equal(m.PendingDebits) || !got.Balance.PendingCredits.Equal(m.PendingCredits) {
					rt.Fatalf("account %s: stored %+v, results add up to %+v", a.Code, got.Balance, *m)
				}
				if got.violates(got.Balance) {
					rt.Fatalf("account %s breaks its flags: %+v", a.Code, got.Balance)
				}
			}
		}
	})
}

// randomPostings mostly balances per currency, sometimes not.
func randomPostings(rt *rapid.T, accounts []Account) []PostingRequest {
	var ps []PostingRequest
	for g, groups := 0, rapid.IntRange(1, 2).Draw(rt, "currencies"); g < groups; g++ {
		a := rapid.SampledFrom(accounts).Draw(rt, "debit")
		var same []Account
		for _, b := range accounts {
			if b.Currency == a.Currency {
				same = append(same, b)
			}
		}
		b := rapid.SampledFrom(same).Draw(rt, "credit")
		unit := decimal.New(1, -a.Currency.MinorUnits())
		amt := unit.Mul(decimal.New(rapid.Int64Range(1, 50000).Draw(rt, "amount"), 0))
		credit := amt
		if rapid.IntRange(0, 9).Draw(rt, "unbalance") == 0 {
			credit = credit.Add(unit)
		}
		ps = append(ps, PostingRequest{AccountID: a.ID, Direction: Debit, Amount: amt}, PostingRequest{AccountID: b.ID, Direction: Credit, Amount: credit})
	}
	return ps
}
