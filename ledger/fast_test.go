package ledger

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/xbsettle/xbsettle/internal/db"
)

func fallbacks(s *Service, reason string) int {
	return int(testutil.ToFloat64(s.fallbacks.WithLabelValues(reason)))
}

// cashAndFees opens two accounts without balance flags: the fast path's.
func (b *bundle) cashAndFees() (cash, fees Account) {
	return b.account("cash", "CNY", Asset), b.account("fees", "CNY", Income)
}

// wantPosted fails the test unless the account's posted balance is want.
func (b *bundle) wantPosted(a Account, want string) {
	b.t.Helper()
	if got := b.balance(a.ID).Posted(a.Kind); !got.Equal(dec(want)) {
		b.t.Fatalf("%s posted = %s, want %s", a.Code, got, want)
	}
}

// The fast path checks an account's status from memory; the status may have
// changed since, here through another process's service. The write must see
// it under the row lock and leave the decision to the careful path.
func TestFastPathSeesAStatusChangedElsewhere(t *testing.T) {
	t.Parallel()
	b := setup(t)
	elsewhere := NewService(b.db, nil)
	cash, fees := b.cashAndFees()
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
	b.wantPosted(fees, "1.00")

	if _, err := elsewhere.SetStatus(b.ctx, b.actor, fees.ID, Open); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		b.post(transfer(fmt.Sprint("reopened", i), cash.ID, fees.ID, "1.00"))
	}
	if n := fallbacks(b.svc, "account_not_open"); n != 1 {
		t.Fatalf("fallbacks after the account reopened = %d, want still 1", n)
	}
	b.wantPosted(fees, "4.00")
	checkInvariants(t, b.db, b.actor.Tenant)
}

// A replay reaches the database as a taken key; the careful path answers it.
func TestFastPathReplayAndReusedKey(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cash, fees := b.cashAndFees()
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
	b.wantPosted(fees, "5.00")
	checkInvariants(t, b.db, b.actor.Tenant)
}

// What the service remembers of one tenant's account must not let another
// tenant post to it.
func TestFastPathKeepsTenantsApart(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cash, fees := b.cashAndFees()
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
	b.wantPosted(fees, "1.00")
}

// Batches on the fast path and the careful path over the same accounts, from
// many goroutines, some items of every batch also sent by the other
// goroutines in another order (clients retrying each other's requests):
// every key posts once, every balance is the sum of its postings, and no
// fast write ever deadlocked (every writer locks accounts by id, then keys
// in order).
func TestConcurrentBatchesOverSharedAccounts(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var open []Account
	for i := range 12 {
		open = append(open, b.account(fmt.Sprint("open", i), "CNY", Asset))
	}
	limited := b.account("limited", "CNY", Liability, DebitsMustNotExceedCredits)
	b.post(transfer("fund", open[0].ID, limited.ID, "1000.00"))

	const workers, batches, size, shared = 8, 15, 40, 5
	// The shared items of batch n: the same requests for every goroutine.
	sharedReq := func(n, i int) EntryRequest {
		return transfer(fmt.Sprint("shared-", n, "-", i), open[(n+i)%len(open)].ID, open[(n+2*i+1)%len(open)].ID, "0.07")
	}
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
				for _, i := range rng.Perm(shared) {
					reqs = append(reqs, sharedReq(n, i))
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
	if want := 1 + workers*batches*size + batches*shared; entries != want {
		t.Fatalf("%d entries, want %d", entries, want)
	}
	if n := fallbacks(b.svc, "transient"); n != 0 {
		t.Fatalf("%d fast writes deadlocked or failed to serialize", n)
	}
	checkInvariants(t, b.db, b.actor.Tenant)
}

// A fast post and a careful post of one key over the same accounts (a
// client's retry while its first attempt is on the careful path) must wait
// for each other, not deadlock: every writer locks the accounts before it
// inserts a key. (The first fast path inserted first; PostgreSQL then found
// a deadlock and stalled one of them for deadlock_timeout.)
//
// The careful side is driven step by step with postTx's own calls
// (lockAccounts, then writeEntries) so that the interleaving is certain.
func TestFastAndCarefulPostsOfOneKeyDoNotDeadlock(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cash, fees := b.cashAndFees()
	b.post(transfer("warm", cash.ID, fees.ID, "1.00")) // the fast path now knows both accounts

	ctx := b.ctx
	prepared, err := b.svc.prepared.ready(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The careful path, step 1: lock the accounts in id order.
	tx, err := b.db.Beginx()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback() //nolint:errcheck
	careful := &txn{querier: tx, tx: tx, prepared: prepared}
	locked, err := lockAccounts(ctx, careful, b.actor.Tenant, []uuid.UUID{cash.ID, fees.ID})
	if err != nil || len(locked) != 2 {
		t.Fatalf("lock: %v %d", err, len(locked))
	}

	// Meanwhile the same request arrives on the fast path: it inserts key k,
	// then waits for the accounts' row locks.
	req := transfer("k", cash.ID, fees.ID, "2.00")
	type outcome struct {
		e        Entry
		replayed bool
		err      error
	}
	fast := make(chan outcome, 1)
	go func() {
		e, replayed, err := b.svc.Post(ctx, b.actor, req)
		fast <- outcome{e, replayed, err}
	}()
	waitForLockWait(t, b)

	// The careful path, step 2: check and write the same request.
	d, err := b.svc.newDraft(b.svc.clock(), Standard, nil, &req)
	if err != nil {
		t.Fatal(err)
	}
	d.entry.TenantID, d.entry.CreatedBy = b.actor.Tenant, b.actor.By
	bk := newBook(locked)
	if err := bk.apply(&d.entry); err != nil {
		t.Fatal(err)
	}
	werr := writeEntries(ctx, careful, b.actor.Tenant, []*draft{d}, bk.deltas, false)
	if werr == nil {
		werr = tx.Commit()
	} else {
		tx.Rollback() //nolint:errcheck
	}
	got := <-fast

	var deadlocks int64
	if err := b.db.Get(&deadlocks, `SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()`); err != nil {
		t.Fatal(err)
	}
	t.Logf("careful write: %v; fast post: replayed=%v err=%v; transient fallbacks %d; deadlocks %d",
		werr, got.replayed, got.err, fallbacks(b.svc, "transient"), deadlocks)
	if db.HasCode(werr, "40P01") || fallbacks(b.svc, "transient") > 0 || deadlocks > 0 {
		t.Errorf("a fast and a careful post of one key deadlocked (careful: %v; fast path transient fallbacks: %d; pg deadlocks: %d)",
			werr, fallbacks(b.svc, "transient"), deadlocks)
	}
	// Whatever the victim, money must still be right: one entry for k.
	var n int
	if err := b.db.Get(&n, `SELECT count(*) FROM entries WHERE tenant_id = $1 AND idempotency_key = 'k'`, b.actor.Tenant); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("%d entries for key k, want 1", n)
	}
	checkInvariants(t, b.db, b.actor.Tenant)
}

// waitForLockWait waits until some backend of the test's database waits
// for a lock in the write statement.
func waitForLockWait(t *testing.T, b *bundle) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		var n int
		if err := b.db.Get(&n, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
			AND wait_event_type = 'Lock' AND query LIKE '%INSERT INTO entries%'`); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("the fast post never waited for the accounts' locks")
}

// postTx passes one id per posting: a batch over two hot accounts must lock
// and read two rows, not one per posting.
func TestLockAccountsReturnsEachAccountOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cash, fees := b.cashAndFees()
	tx, err := b.db.Beginx()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback() //nolint:errcheck
	locked, err := lockAccounts(b.ctx, tx, b.actor.Tenant, []uuid.UUID{cash.ID, fees.ID, cash.ID, fees.ID, cash.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(locked) != 2 {
		t.Errorf("lockAccounts over 2 accounts named 5 times returned %d rows, want 2", len(locked))
	}
}
