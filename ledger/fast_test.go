package ledger

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func fallbacks(s *Service, reason string) int {
	return int(testutil.ToFloat64(s.fallbacks.WithLabelValues(reason)))
}

// The fast path checks an account's status from memory; the status may have
// changed since, here through another process's service. The write must see
// it under the row lock and leave the decision to the careful path.
func TestFastPathSeesAStatusChangedElsewhere(t *testing.T) {
	t.Parallel()
	b := setup(t)
	elsewhere := NewService(b.db, nil)
	cash := b.account("cash", "CNY", Asset)
	fees := b.account("fees", "CNY", Income)
	b.post(transfer("warm", cash.ID, fees.ID, "1.00")) // the service now remembers both accounts

	if _, err := elsewhere.SetStatus(b.ctx, b.actor, fees.ID, Frozen); err != nil {
		t.Fatal(err)
	}
	_, _, err := b.svc.Post(b.ctx, b.actor, transfer("while-frozen", cash.ID, fees.ID, "2.00"))
	if !errors.Is(err, ErrAccountFrozen) {
		t.Fatalf("post to an account frozen elsewhere: err = %v, want ACCOUNT_FROZEN", err)
	}
	if n := fallbacks(b.svc, "account_not_open"); n != 1 {
		t.Fatalf("fallbacks for a status changed elsewhere = %d, want 1", n)
	}
	if got := b.balance(fees.ID).Posted(Income); !got.Equal(dec("1.00")) {
		t.Fatalf("fees = %s after a refused post, want 1.00", got)
	}

	if _, err := elsewhere.SetStatus(b.ctx, b.actor, fees.ID, Open); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		b.post(transfer(fmt.Sprint("reopened", i), cash.ID, fees.ID, "1.00"))
	}
	if n := fallbacks(b.svc, "account_not_open"); n != 1 {
		t.Fatalf("fallbacks after the account reopened = %d, want still 1", n)
	}
	if got := b.balance(fees.ID).Posted(Income); !got.Equal(dec("4.00")) {
		t.Fatalf("fees = %s, want 4.00", got)
	}
	checkInvariants(t, b.db, b.actor.Tenant)
}

// A replay reaches the database as a taken key; the careful path answers it.
func TestFastPathReplayAndReusedKey(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cash := b.account("cash", "CNY", Asset)
	fees := b.account("fees", "CNY", Income)
	first := b.post(transfer("k", cash.ID, fees.ID, "5.00"))

	again, replayed, err := b.svc.Post(b.ctx, b.actor, transfer("k", cash.ID, fees.ID, "5.00"))
	if err != nil || !replayed || again.ID != first.ID {
		t.Fatalf("replay = %s %v %v, want entry %s replayed", again.ID, replayed, err, first.ID)
	}
	if _, _, err := b.svc.Post(b.ctx, b.actor, transfer("k", cash.ID, fees.ID, "5.01")); !errors.Is(err, ErrIdempotencyReused) {
		t.Fatalf("same key, other amount: err = %v, want IDEMPOTENCY_CONFLICT", err)
	}
	if n := fallbacks(b.svc, "key_taken"); n != 2 {
		t.Fatalf("key_taken fallbacks = %d, want 2", n)
	}
	if got := b.balance(fees.ID).Posted(Income); !got.Equal(dec("5.00")) {
		t.Fatalf("fees = %s, want 5.00", got)
	}
	checkInvariants(t, b.db, b.actor.Tenant)
}

// What the service remembers of one tenant's account must not let another
// tenant post to it.
func TestFastPathKeepsTenantsApart(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cash := b.account("cash", "CNY", Asset)
	fees := b.account("fees", "CNY", Income)
	b.post(transfer("warm", cash.ID, fees.ID, "1.00"))

	intruder := Actor{Tenant: b.actor.Tenant + "-other", By: "test"}
	mine, err := b.svc.CreateAccount(b.ctx, intruder, NewAccount{Code: "mine", Currency: "CNY", Kind: Asset})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = b.svc.Post(b.ctx, intruder, transfer("steal", fees.ID, mine.ID, "1.00"))
	if !errors.Is(err, ErrAccountNotFound) {
		t.Fatalf("post to another tenant's account: err = %v, want ACCOUNT_NOT_FOUND", err)
	}
	if got := b.balance(fees.ID).Posted(Income); !got.Equal(dec("1.00")) {
		t.Fatalf("fees = %s, want 1.00", got)
	}
}

// Batches on the fast path and the careful path over the same accounts, from
// many goroutines: every balance is the sum of its postings, no money is
// lost, and no fast write ever deadlocked (it locks in id order, as the
// careful path does).
func TestConcurrentBatchesOverSharedAccounts(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var open []Account
	for i := range 12 {
		open = append(open, b.account(fmt.Sprint("open", i), "CNY", Asset))
	}
	limited := b.account("limited", "CNY", Liability, DebitsMustNotExceedCredits)
	b.post(transfer("fund", open[0].ID, limited.ID, "1000.00"))

	const workers, batches, size = 8, 15, 40
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for n := range batches {
				reqs := make([]EntryRequest, size)
				for i := range reqs {
					from, to := open[rng.IntN(len(open))], open[rng.IntN(len(open))]
					if w%4 == 0 && i == 0 { // now and then a batch the careful path takes
						from = limited
					}
					reqs[i] = transfer(fmt.Sprint(w, "-", n, "-", i), from.ID, to.ID, "0.01")
				}
				for _, r := range b.svc.PostBatch(b.ctx, b.actor, reqs) {
					if r.Err != nil {
						t.Error(r.Err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	var entries int
	if err := b.db.Get(&entries, `SELECT count(*) FROM entries WHERE tenant_id = $1`, b.actor.Tenant); err != nil {
		t.Fatal(err)
	}
	if want := 1 + workers*batches*size; entries != want {
		t.Fatalf("%d entries, want %d", entries, want)
	}
	if n := fallbacks(b.svc, "transient"); n != 0 {
		t.Fatalf("%d fast writes deadlocked or failed to serialize", n)
	}
	checkInvariants(t, b.db, b.actor.Tenant)
}
