package settlement

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/xbsettle/xbsettle/internal/testenv"
)

// mixedItems seeds n verified chains over every flow and five enterprises
// and returns the items that settle them: imports paid out in USD, exports
// received in USD and EUR, cross-border RMB.
func (b *settleBundle) mixedItems(n int) []NewItem {
	b.t.Helper()
	buyUSD, sellUSD, sellEUR := b.quote("USD", CustomerBuysFX), b.quote("USD", CustomerSellsFX), b.quote("EUR", CustomerSellsFX)
	var chains []chain
	var items []NewItem
	for i := range n {
		ent := enterprise(i % 5)
		amount := fmt.Sprintf("%d.%02d", 100+i*7, i%100)
		var c chain
		var it NewItem
		switch i % 4 {
		case 0:
			c = b.importChain(fmt.Sprintf("I%04d", i), ent, amount)
			it = itemOf(c, "USD", buyUSD, "0.50")
		case 1:
			c = b.exportChain(fmt.Sprintf("E%04d", i), ent, "USD", amount)
			it = itemOf(c, "CNY", sellUSD, "2.00")
		case 2:
			c = b.exportChain(fmt.Sprintf("F%04d", i), ent, "EUR", amount)
			it = itemOf(c, "CNY", sellEUR, "")
		default:
			c = b.importChain(fmt.Sprintf("C%04d", i), ent, amount)
			it = itemOf(c, "CNY", uuid.Nil, "1.00")
		}
		chains, items = append(chains, c), append(items, it)
	}
	b.seedChains(chains...)
	return items
}

// assertOnce checks that every item of the instructions is settled, that
// its payment's entry exists once and its batch's payout once, that each
// item reached each status once, and that every batch's totals are the
// sums of its items.
func (b *settleBundle) assertOnce(ids ...uuid.UUID) {
	b.t.Helper()
	settles, payouts := b.entriesByKey(settleKeyPrefix), b.entriesByKey(payoutKeyPrefix)
	items := 0
	for _, id := range ids {
		for _, it := range b.instruction(id).Items {
			items++
			if it.Status != Settled {
				b.t.Errorf("item %s is %s %v, want settled", it.OrderNo, it.Status, it.Codes)
			}
			if n := settles[settleKey(b.actor.Tenant, it.PayTransactionID)]; n != 1 {
				b.t.Errorf("payment %s has %d entries", it.PayTransactionID, n)
			}
			var seen []ItemStatus
			for _, e := range it.History {
				seen = append(seen, e.To)
			}
			if fmt.Sprint(seen) != fmt.Sprint([]ItemStatus{Accepted, Verified, Posted, Batched, Settled}) {
				b.t.Errorf("item %s history %v", it.OrderNo, seen)
			}
		}
	}
	if len(settles) != items {
		b.t.Errorf("%d settlement entries for %d items", len(settles), items)
	}
	for key, n := range payouts {
		if n != 1 {
			b.t.Errorf("payout %s posted %d times", key, n)
		}
	}
	ev := b.eventCounts()
	if ev[Posted] != items || ev[Settled] != items {
		b.t.Errorf("events %v for %d items", ev, items)
	}
	var off []string
	if err := b.db.Select(&off, `SELECT b.id::text FROM settlement_batches b
		LEFT JOIN (SELECT batch_id, count(*) AS n, sum(payout_gross) AS g, sum(fee) AS f, sum(payout_amount) AS net
			FROM settlement_items WHERE tenant_id = $1 GROUP BY batch_id) i ON i.batch_id = b.id
		WHERE b.tenant_id = $1 AND (b.status <> 'settled' OR b.item_count <> i.n OR b.gross <> i.g OR b.fees <> i.f OR b.net <> i.net)`,
		b.actor.Tenant); err != nil {
		b.t.Fatal(err)
	}
	if len(off) > 0 || len(payouts) == 0 {
		b.t.Errorf("batches not settled or whose totals are not their items' sums: %v (payouts %d)", off, len(payouts))
	}
}

// TestProcessedTwiceAtOnce: workers process the same instruction at the same
// time, and two cut-offs run at the same time; every item is posted once and
// settled once.
func TestProcessedTwiceAtOnce(t *testing.T) {
	t.Parallel()
	b := settleSetup(t)
	ins := b.submit("twice", b.mixedItems(80)...)
	const workers = 6
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, workers*2)
	for range workers {
		wg.Go(func() {
			<-start
			errs <- b.svc.ProcessInstruction(b.ctx, b.actor.Tenant, ins.ID)
		})
	}
	close(start)
	wg.Wait()
	start = make(chan struct{})
	for range 2 {
		wg.Go(func() {
			<-start
			_, err := b.svc.RunCutoff(b.ctx, b.actor, day("2026-03-16"))
			errs <- err
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	b.assertOnce(ins.ID)
}

// TestCrashAfterPosting: the worker fails after the ledger took the
// entries but before it recorded the items' statuses, and the cut-off fails
// after posting the payouts but before settling; both are retried, and
// nothing is posted twice.
func TestCrashAfterPosting(t *testing.T) {
	t.Parallel()
	b := settleSetup(t)
	crash := errors.New("worker killed")
	var posts, payouts atomic.Int32
	b.svc.hooks.afterPost = func() error {
		if posts.Add(1) == 1 {
			return crash
		}
		return nil
	}
	b.svc.hooks.afterPayout = func() error {
		if payouts.Add(1) == 1 {
			return crash
		}
		return nil
	}
	ins := b.submit("crash", b.mixedItems(40)...)
	if err := b.svc.ProcessInstruction(b.ctx, b.actor.Tenant, ins.ID); !errors.Is(err, crash) {
		t.Fatalf("first run: %v, want the crash", err)
	}
	for _, it := range b.instruction(ins.ID).Items {
		if it.Status != Verified || it.EntryID != nil {
			t.Fatalf("after the crash item %s is %s with entry %v; want verified, no entry recorded", it.OrderNo, it.Status, it.EntryID)
		}
	}
	if n := len(b.entriesByKey(settleKeyPrefix)); n != 40 {
		t.Fatalf("%d entries after the crash, want the 40 the ledger took", n)
	}
	b.process(ins.ID)
	if _, err := b.svc.RunCutoff(b.ctx, b.actor, day("2026-03-16")); !errors.Is(err, crash) {
		t.Fatalf("first cut-off: %v, want the crash", err)
	}
	b.cutoff()
	b.assertOnce(ins.ID)
}

// TestRedisFlushedAfterAccept: the instruction is accepted and enqueued,
// then Redis loses everything before any worker ran; the outbox sweeper
// enqueues it again and a real Asynq worker settles every item once.
func TestRedisFlushedAfterAccept(t *testing.T) {
	t.Parallel()
	ropt := testenv.Redis(t)
	client := asynq.NewClient(ropt)
	t.Cleanup(func() { client.Close() })
	b := settleSetup(t, WithEnqueuer(NewTaskEnqueuer(client)), WithStaleOutbox(0))
	ins := b.submit("flushed", b.mixedItems(40)...)

	inspector := asynq.NewInspector(ropt)
	t.Cleanup(func() { inspector.Close() })
	if info, err := inspector.GetQueueInfo(QueueName); err != nil || info.Pending != 1 {
		t.Fatalf("queue after the 202: %+v, %v; want the one task", info, err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: ropt.Addr, DB: ropt.DB})
	t.Cleanup(func() { rdb.Close() })
	if err := rdb.FlushDB(b.ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if qs, err := inspector.Queues(); err != nil || len(qs) != 0 {
		t.Fatalf("queues after the flush: %v, %v", qs, err)
	}

	n, err := b.svc.SweepOutbox(b.ctx)
	if err != nil || n != 1 {
		t.Fatalf("sweep: %d enqueued, %v; want 1", n, err)
	}
	srv := asynq.NewServer(ropt, asynq.Config{Concurrency: 4, Queues: map[string]int{QueueName: 1},
		Logger: quietLogger{}, LogLevel: asynq.FatalLevel})
	mux := asynq.NewServeMux()
	RegisterTasks(mux, b.svc)
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	deadline := time.Now().Add(30 * time.Second)
	for {
		var open int
		if err := b.db.Get(&open, `SELECT count(*) FROM settlement_outbox WHERE tenant_id = $1 AND done_at IS NULL`, b.actor.Tenant); err != nil {
			t.Fatal(err)
		}
		if open == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the worker did not finish the instruction within 30 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n, err := b.svc.SweepOutbox(b.ctx); err != nil || n != 0 {
		t.Fatalf("sweep after the work is done: %d, %v; want nothing to enqueue", n, err)
	}
	b.cutoff()
	b.assertOnce(ins.ID)
}

// quietLogger keeps Asynq's start and stop messages out of the test log.
type quietLogger struct{}

func (quietLogger) Debug(...any) {}
func (quietLogger) Info(...any)  {}
func (quietLogger) Warn(...any)  {}
func (quietLogger) Error(...any) {}
func (quietLogger) Fatal(...any) {}

// TestSecondInstructionForAPaymentIsRejected: a payment named again in a
// later instruction, and twice in concurrent instructions, settles once;
// the other item is rejected ALREADY_SETTLED.
func TestSecondInstructionForAPaymentIsRejected(t *testing.T) {
	t.Parallel()
	b := settleSetup(t)
	c := b.importChain("ORD-ONCE", enterprise(1), "100.00")
	d := b.importChain("ORD-RACE", enterprise(1), "200.00")
	b.seedChains(c, d)
	first := b.submit("first", itemOf(c, "CNY", uuid.Nil, ""))
	b.process(first.ID)
	again := b.submit("again", itemOf(c, "CNY", uuid.Nil, ""))
	b.process(again.ID)
	if it := b.instruction(again.ID).Items[0]; it.Status != Rejected || it.Codes[0] != CodeAlreadySettled {
		t.Fatalf("second instruction's item: %s %v, want rejected ALREADY_SETTLED", it.Status, it.Codes)
	}

	racers := []Instruction{b.submit("race-1", itemOf(d, "CNY", uuid.Nil, "")), b.submit("race-2", itemOf(d, "CNY", uuid.Nil, ""))}
	var wg sync.WaitGroup
	for _, ins := range racers {
		wg.Go(func() {
			if err := b.svc.ProcessInstruction(context.Background(), b.actor.Tenant, ins.ID); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	statuses := map[ItemStatus]int{}
	for _, ins := range racers {
		statuses[b.instruction(ins.ID).Items[0].Status]++
	}
	if statuses[Batched] != 1 || statuses[Rejected] != 1 {
		t.Fatalf("racing instructions: %v, want one batched and one rejected", statuses)
	}
	if n := b.entriesByKey(settleKey(b.actor.Tenant, d.ptx))[settleKey(b.actor.Tenant, d.ptx)]; n != 1 {
		t.Fatalf("the raced payment has %d entries", n)
	}
}

// TestRetryAfterTheEntryTextChanged: the items' entries were posted, then
// the worker died before recording it, and the release that retries builds
// the entries with other wording, so the ledger no longer sees a replay of
// the same request. The entries are found by their keys (which only the
// service writes) and their items, and every item settles once.
func TestRetryAfterTheEntryTextChanged(t *testing.T) {
	t.Parallel()
	b := settleSetup(t)
	crash := errors.New("worker killed")
	var posts atomic.Int32
	b.svc.hooks.afterPost = func() error {
		if posts.Add(1) == 1 {
			return crash
		}
		return nil
	}
	ins := b.submit("reworded", b.mixedItems(6)...)
	if err := b.svc.ProcessInstruction(b.ctx, b.actor.Tenant, ins.ID); !errors.Is(err, crash) {
		t.Fatalf("first run: %v, want the crash", err)
	}
	// What the previous release wrote: other text, so another request hash.
	tx := testenv.Owner(t, b.db).MustBegin() // only the tables' owner can
	tx.MustExec(`ALTER TABLE entries DISABLE TRIGGER entries_immutable`)
	tx.MustExec(`UPDATE entries SET description = 'settlement (previous wording)', request_hash = sha256(request_hash)
		WHERE tenant_id = $1 AND idempotency_key LIKE $2 || '%'`, b.actor.Tenant, settleKeyPrefix)
	tx.MustExec(`ALTER TABLE entries ENABLE TRIGGER entries_immutable`)
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	b.process(ins.ID)
	for _, it := range b.instruction(ins.ID).Items {
		if it.Status == Rejected {
			t.Fatalf("item %s rejected %v after the retry, want it settled by its own entry", it.OrderNo, it.Codes)
		}
	}
	b.cutoff()
	b.assertOnce(ins.ID)
}
