package ledger

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestPostMovesBalancesAndReplays(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cash := b.account("cash:CNY", "CNY", Asset)
	wallet := b.account("wallet:CNY", "CNY", Liability, DebitsMustNotExceedCredits)

	e := b.post(transfer("k1", cash.ID, wallet.ID, "100.50"))
	if len(e.Postings) != 2 || e.Postings[0].Currency != "CNY" {
		t.Fatalf("postings = %+v", e.Postings)
	}
	if got := b.balance(wallet.ID).Posted(Liability); !got.Equal(dec("100.50")) {
		t.Fatalf("wallet posted = %s, want 100.50", got)
	}
	again, replayed, err := b.svc.Post(b.ctx, b.actor, transfer("k1", cash.ID, wallet.ID, "100.50"))
	if err != nil || !replayed || again.ID != e.ID {
		t.Fatalf("replay = %v %v %v, want the first entry %s", again.ID, replayed, err, e.ID)
	}
	_, _, err = b.svc.Post(b.ctx, b.actor, transfer("k1", cash.ID, wallet.ID, "100.51"))
	if !errors.Is(err, ErrIdempotencyReused) {
		t.Fatalf("same key, other body: err = %v, want IDEMPOTENCY_CONFLICT", err)
	}
	if got := b.balance(wallet.ID).Posted(Liability); !got.Equal(dec("100.50")) {
		t.Fatalf("after replays wallet posted = %s, want 100.50", got)
	}
	checkInvariants(t, b.db, b.actor.Tenant)
}

func TestPostRefusals(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cny := b.account("a:CNY", "CNY", Asset)
	cny2 := b.account("b:CNY", "CNY", Liability, DebitsMustNotExceedCredits)
	jpy := b.account("a:JPY", "JPY", Asset)
	usd := b.account("a:USD", "USD", Liability)
	frozen := b.account("frozen:CNY", "CNY", Liability)
	if _, err := b.svc.SetStatus(b.ctx, b.actor, frozen.ID, Frozen); err != nil {
		t.Fatal(err)
	}
	other := setup(t)
	foreign := Account{ID: uuid.New()}

	cases := []struct {
		name string
		req  EntryRequest
		want error
	}{
		{"overdraft", transfer("o", cny2.ID, cny.ID, "0.01"), ErrInsufficientFunds},
		{"three decimals in CNY", transfer("p", cny.ID, cny2.ID, "1.005"), ErrAmountPrecision},
		{"decimals in JPY", EntryRequest{IdempotencyKey: "j", Postings: []PostingRequest{{AccountID: jpy.ID, Direction: Debit, Amount: dec("1.5")}, {AccountID: jpy.ID, Direction: Credit, Amount: dec("1.5")}}}, ErrAmountPrecision},
		{"unbalanced", EntryRequest{IdempotencyKey: "u", Postings: []PostingRequest{{AccountID: cny.ID, Direction: Debit, Amount: dec("2")}, {AccountID: cny2.ID, Direction: Credit, Amount: dec("1")}}}, ErrUnbalanced},
		{"balanced across currencies only", EntryRequest{IdempotencyKey: "x", Postings: []PostingRequest{{AccountID: cny.ID, Direction: Debit, Amount: dec("1")}, {AccountID: usd.ID, Direction: Credit, Amount: dec("1")}}}, ErrUnbalanced},
		{"single posting", EntryRequest{IdempotencyKey: "s", Postings: []PostingRequest{{AccountID: cny.ID, Direction: Debit, Amount: dec("1")}}}, ErrTooFewPostings},
		{"unknown account", transfer("n", cny.ID, foreign.ID, "1"), ErrAccountNotFound},
		{"frozen account", transfer("f", cny.ID, frozen.ID, "1"), ErrAccountFrozen},
		{"currency mismatch", EntryRequest{IdempotencyKey: "c", Postings: []PostingRequest{{AccountID: cny.ID, Direction: Debit, Amount: dec("1"), Currency: "USD"}, {AccountID: cny2.ID, Direction: Credit, Amount: dec("1")}}}, ErrCurrencyMismatch},
		{"future effective_at", func() EntryRequest {
			r := transfer("e", cny.ID, cny2.ID, "1")
			r.EffectiveAt = time.Now().Add(time.Hour)
			return r
		}(), ErrEffectiveInFuture},
	}
	for _, c := range cases {
		_, _, err := b.svc.Post(b.ctx, b.actor, c.req)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
		}
	}
	// Another tenant's account is not found, not merely forbidden.
	mine := other.account("mine:CNY", "CNY", Asset)
	if _, _, err := b.svc.Post(b.ctx, b.actor, transfer("t", cny.ID, mine.ID, "1")); !errors.Is(err, ErrAccountNotFound) {
		t.Errorf("another tenant's account: err = %v", err)
	}
	var n int
	if err := b.db.Get(&n, `SELECT count(*) FROM entries`); err != nil || n != 0 {
		t.Fatalf("%d entries written by refused requests (err %v)", n, err)
	}
}

func TestBatchEntriesSucceedOrFailAlone(t *testing.T) {
	t.Parallel()
	b := setup(t)
	src := b.account("src", "CNY", Asset)
	w := b.account("w", "CNY", Liability, DebitsMustNotExceedCredits)
	sink := b.account("sink", "CNY", Asset)
	res := b.svc.PostBatch(b.ctx, b.actor, []EntryRequest{
		transfer("fund", src.ID, w.ID, "10.00"),
		transfer("spend1", w.ID, sink.ID, "6.00"), // uses the funding entry before it
		transfer("spend2", w.ID, sink.ID, "6.00"), // would overdraw: fails alone
		transfer("spend3", w.ID, sink.ID, "4.00"),
		transfer("spend1", w.ID, sink.ID, "6.00"), // repeated key in the batch: a replay
		transfer("spend1", w.ID, sink.ID, "7.00"), // repeated key, other body: conflict
	})
	wantErr := []error{nil, nil, ErrInsufficientFunds, nil, nil, ErrIdempotencyReused}
	for i, r := range res {
		if !errors.Is(r.Err, wantErr[i]) || (wantErr[i] == nil && r.Err != nil) {
			t.Errorf("entry %d: err = %v, want %v", i, r.Err, wantErr[i])
		}
	}
	if !res[4].Replayed || res[4].Entry.ID != res[1].Entry.ID {
		t.Errorf("repeated key: %+v, want replay of %s", res[4], res[1].Entry.ID)
	}
	if got := b.balance(w.ID).Posted(Liability); !got.IsZero() {
		t.Errorf("wallet = %s, want 0", got)
	}
	checkInvariants(t, b.db, b.actor.Tenant)
}

func TestHoldLifecycle(t *testing.T) {
	t.Parallel()
	b := setup(t)
	w := b.account("w", "USD", Liability, DebitsMustNotExceedCredits)
	src := b.account("src", "USD", Asset)
	merchant := b.account("m", "USD", Liability)
	b.post(transfer("fund", src.ID, w.ID, "100.00"))

	h, _, err := b.svc.CreateHold(b.ctx, b.actor, transfer("h1", w.ID, merchant.ID, "70.00"), nil)
	if err != nil {
		t.Fatal(err)
	}
	bal := b.balance(w.ID)
	if !bal.Posted(Liability).Equal(dec("100")) || !bal.Available(Liability).Equal(dec("30")) {
		t.Fatalf("with hold: posted %s available %s, want 100 and 30", bal.Posted(Liability), bal.Available(Liability))
	}
	if _, _, err := b.svc.CreateHold(b.ctx, b.actor, transfer("h2", w.ID, merchant.ID, "30.01"), nil); !errors.Is(err, ErrInsufficientFunds) {
		t.Fatalf("hold beyond available: err = %v", err)
	}
	amt := dec("50.00")
	posted, _, err := b.svc.PostHold(b.ctx, b.actor, h.ID, &amt, "")
	if err != nil || posted.Status != HoldPosted {
		t.Fatalf("post 50 of 70: %+v %v", posted.Status, err)
	}
	bal = b.balance(w.ID)
	if !bal.Posted(Liability).Equal(dec("50")) || !bal.Available(Liability).Equal(dec("50")) || !bal.PendingDebits.IsZero() {
		t.Fatalf("after partial post: posted %s available %s pending %s", bal.Posted(Liability), bal.Available(Liability), bal.PendingDebits)
	}
	if _, _, err := b.svc.VoidHold(b.ctx, b.actor, h.ID, ""); !errors.Is(err, ErrHoldResolved) {
		t.Fatalf("void after post: err = %v", err)
	}
	again, replayed, err := b.svc.PostHold(b.ctx, b.actor, h.ID, &amt, "")
	if err != nil || !replayed || *again.ResolvedEntryID != *posted.ResolvedEntryID {
		t.Fatalf("repeated post: replayed %v err %v", replayed, err)
	}

	h2, _, err := b.svc.CreateHold(b.ctx, b.actor, transfer("h3", w.ID, merchant.ID, "20.00"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if v, _, err := b.svc.VoidHold(b.ctx, b.actor, h2.ID, ""); err != nil || v.Status != HoldVoided {
		t.Fatalf("void: %v %v", v.Status, err)
	}
	if got := b.balance(w.ID).Available(Liability); !got.Equal(dec("50")) {
		t.Fatalf("after void available = %s, want 50", got)
	}
	if _, _, err := b.svc.Reverse(b.ctx, b.actor, h2.ID, "", ""); !errors.Is(err, ErrNotReversible) {
		t.Fatalf("reverse a hold: err = %v", err)
	}
	checkInvariants(t, b.db, b.actor.Tenant)
}

func TestHoldExpiresBySweeper(t *testing.T) {
	t.Parallel()
	b := setup(t)
	w := b.account("w", "CNY", Liability, DebitsMustNotExceedCredits)
	src := b.account("src", "CNY", Asset)
	m := b.account("m", "CNY", Liability)
	b.post(transfer("fund", src.ID, w.ID, "10.00"))
	soon := time.Now().Add(50 * time.Millisecond)
	h, _, err := b.svc.CreateHold(b.ctx, b.actor, transfer("h", w.ID, m.ID, "10.00"), &soon)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.svc.ExpireHold(b.ctx, b.actor.Tenant, h.ID); !errors.Is(err, ErrHoldNotDue) {
		t.Fatalf("expire before the deadline: err = %v, want HOLD_NOT_DUE", err)
	}
	if got, _ := b.svc.Hold(b.ctx, b.actor.Tenant, h.ID); got.Status != HoldPending {
		t.Fatalf("expired before its deadline: %s", got.Status)
	}
	time.Sleep(100 * time.Millisecond)
	if _, _, err := b.svc.ExpireDue(b.ctx, 100); err != nil {
		t.Fatal(err)
	}
	got, _ := b.svc.Hold(b.ctx, b.actor.Tenant, h.ID)
	if got.Status != HoldExpired || !b.balance(w.ID).Available(Liability).Equal(dec("10")) {
		t.Fatalf("after sweep: status %s available %s", got.Status, b.balance(w.ID).Available(Liability))
	}
	checkInvariants(t, b.db, b.actor.Tenant)
}

func TestReverseOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := b.account("a", "EUR", Asset)
	l := b.account("l", "EUR", Liability, DebitsMustNotExceedCredits)
	e := b.post(transfer("e", a.ID, l.ID, "5.00"))
	r, _, err := b.svc.Reverse(b.ctx, b.actor, e.ID, "", "")
	if err != nil || *r.ReversesEntryID != e.ID || r.Kind != Reversal {
		t.Fatalf("reverse: %+v %v", r, err)
	}
	if _, _, err := b.svc.Reverse(b.ctx, b.actor, e.ID, "other-key", ""); !errors.Is(err, ErrAlreadyReversed) {
		t.Fatalf("second reversal: err = %v", err)
	}
	if again, replayed, err := b.svc.Reverse(b.ctx, b.actor, e.ID, "", ""); err != nil || !replayed || again.ID != r.ID {
		t.Fatalf("retried reversal: %v %v", replayed, err)
	}
	if !b.balance(l.ID).Posted(Liability).IsZero() {
		t.Fatal("reversal did not restore the balance")
	}
	checkInvariants(t, b.db, b.actor.Tenant)
}

func TestBalanceAsOf(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := b.account("a", "CNY", Asset)
	l := b.account("l", "CNY", Liability)
	t0 := time.Now().Add(-3 * time.Hour)
	r1 := transfer("1", a.ID, l.ID, "1.00")
	r1.EffectiveAt = t0
	r2 := transfer("2", a.ID, l.ID, "2.00")
	r2.EffectiveAt = t0.Add(time.Hour)
	b.post(r1)
	b.post(r2)
	b.post(transfer("3", a.ID, l.ID, "4.00"))
	for _, c := range []struct {
		at   time.Time
		want string
	}{{t0.Add(-time.Second), "0"}, {t0, "1"}, {t0.Add(90 * time.Minute), "3"}, {time.Time{}, "7"}} {
		r, err := b.svc.Balance(b.ctx, b.actor.Tenant, l.ID, c.at)
		if err != nil || !r.Balance.Posted(Liability).Equal(dec(c.want)) {
			t.Errorf("as of %v: %s (%v), want %s", c.at, r.Balance.Posted(Liability), err, c.want)
		}
	}
}

func TestNoOverspendUnderConcurrency(t *testing.T) {
	bothPaths(t, func(t *testing.T, b *bundle) {
		src := b.account("src", "CNY", Asset)
		w := b.account("w", "CNY", Liability, DebitsMustNotExceedCredits)
		sink := b.account("sink", "CNY", Asset)
		b.post(transfer("fund", src.ID, w.ID, "100.00"))

		var ok, refused atomic.Int64
		var wg sync.WaitGroup
		for c := 0; c < 32; c++ {
			wg.Add(1)
			go func(c int) {
				defer wg.Done()
				for i := c; i < 500; i += 32 {
					var err error
					if i%2 == 0 {
						_, _, err = b.svc.Post(b.ctx, b.actor, transfer(fmt.Sprint("d", i), w.ID, sink.ID, "1.00"))
					} else {
						_, _, err = b.svc.CreateHold(b.ctx, b.actor, transfer(fmt.Sprint("h", i), w.ID, sink.ID, "1.00"), nil)
					}
					switch {
					case err == nil:
						ok.Add(1)
					case errors.Is(err, ErrInsufficientFunds):
						refused.Add(1)
					default:
						t.Errorf("request %d: %v", i, err)
					}
				}
			}(c)
		}
		wg.Wait()
		if ok.Load() != 100 || refused.Load() != 400 {
			t.Fatalf("%d succeeded and %d refused, want 100 and 400", ok.Load(), refused.Load())
		}
		if got := b.balance(w.ID).Available(Liability); !got.IsZero() {
			t.Fatalf("available = %s, want 0.00", got)
		}
		checkInvariants(t, b.db, b.actor.Tenant)
	})
}

func TestHoldRaceResolvesOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	src := b.account("src", "CNY", Asset)
	w := b.account("w", "CNY", Liability, DebitsMustNotExceedCredits)
	m := b.account("m", "CNY", Liability)
	b.post(transfer("fund", src.ID, w.ID, "10.00"))
	h, _, err := b.svc.CreateHold(b.ctx, b.actor, transfer("h", w.ID, m.ID, "10.00"), nil)
	if err != nil {
		t.Fatal(err)
	}
	var wins, losses atomic.Int64
	var wg sync.WaitGroup
	for c := 0; c < 24; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			var err error
			var replayed bool
			key := fmt.Sprint("resolve-", c)
			if c%2 == 0 {
				_, replayed, err = b.svc.PostHold(b.ctx, b.actor, h.ID, nil, key)
			} else {
				_, replayed, err = b.svc.VoidHold(b.ctx, b.actor, h.ID, key)
			}
			switch {
			case err == nil && !replayed:
				wins.Add(1)
			case errors.Is(err, ErrHoldResolved):
				losses.Add(1)
			default:
				t.Errorf("client %d: replayed %v err %v", c, replayed, err)
			}
		}(c)
	}
	wg.Wait()
	var resolutions int
	if err := b.db.Get(&resolutions, `SELECT count(*) FROM entries WHERE hold_id = $1 AND kind <> 'hold'`, h.ID); err != nil {
		t.Fatal(err)
	}
	if wins.Load() != 1 || losses.Load() != 23 || resolutions != 1 {
		t.Fatalf("wins %d losses %d resolution entries %d, want 1, 23, 1", wins.Load(), losses.Load(), resolutions)
	}
	checkInvariants(t, b.db, b.actor.Tenant)
}

func TestConcurrentIdempotentPostsWriteOnce(t *testing.T) {
	bothPaths(t, func(t *testing.T, b *bundle) {
		a := b.account("a", "CNY", Asset)
		l := b.account("l", "CNY", Liability)
		ids := make([]uuid.UUID, 50)
		var wg sync.WaitGroup
		for i := range ids {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				e, _, err := b.svc.Post(b.ctx, b.actor, transfer("same", a.ID, l.ID, "3.00"))
				if err != nil {
					t.Errorf("client %d: %v", i, err)
				}
				ids[i] = e.ID
			}(i)
		}
		wg.Wait()
		for _, id := range ids {
			if id != ids[0] {
				t.Fatalf("clients saw different entries: %s and %s", ids[0], id)
			}
		}
		var n int
		if err := b.db.Get(&n, `SELECT count(*) FROM entries WHERE tenant_id = $1`, b.actor.Tenant); err != nil || n != 1 {
			t.Fatalf("%d entries, want 1 (%v)", n, err)
		}
		if !b.balance(l.ID).Posted(Liability).Equal(dec("3")) {
			t.Fatal("posted more than once")
		}
	})
}

// TestReplayAnsweredEvenWhenItWouldNowBeRefused: a replay returns the first
// result although posting it again would overdraw the account.
func TestReplayAnsweredEvenWhenItWouldNowBeRefused(t *testing.T) {
	bothPaths(t, func(t *testing.T, b *bundle) {
		src := b.account("src", "CNY", Asset)
		w := b.account("w", "CNY", Liability, DebitsMustNotExceedCredits)
		sink := b.account("sink", "CNY", Asset)
		b.post(transfer("fund", src.ID, w.ID, "5.00"))
		first := b.post(transfer("spend", w.ID, sink.ID, "5.00"))
		again, replayed, err := b.svc.Post(b.ctx, b.actor, transfer("spend", w.ID, sink.ID, "5.00"))
		if err != nil || !replayed || again.ID != first.ID {
			t.Fatalf("replay of a spend that would now overdraw: %v replayed=%v err=%v", again.ID, replayed, err)
		}
		res := b.svc.PostBatch(b.ctx, b.actor, []EntryRequest{transfer("spend", w.ID, sink.ID, "5.00"), transfer("more", w.ID, sink.ID, "0.01")})
		if !res[0].Replayed || res[0].Entry.ID != first.ID || !errors.Is(res[1].Err, ErrInsufficientFunds) {
			t.Fatalf("batch: %+v", res)
		}
	})
}
