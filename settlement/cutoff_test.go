package settlement

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/xbsettle/xbsettle/ledger"
)

// TestValueDatesAndEarlyCutoff: items batched after the cut-off time take
// the next value date; after an early, on-demand cut-off of today the next
// items go to tomorrow's batch, and today's batch is not touched again.
func TestValueDatesAndEarlyCutoff(t *testing.T) {
	t.Parallel()
	b := settleSetup(t)
	e := enterprise(1)
	cs := []chain{b.importChain("A1", e, "100.00"), b.importChain("A2", e, "200.00"), b.importChain("A3", e, "300.00")}
	b.seedChains(cs...)

	first := b.submit("morning", itemOf(cs[0], "CNY", uuid.Nil, ""))
	b.process(first.ID)
	res := b.cutoff() // on demand, before 23:00: today's batch closes now
	if res.Closed != 1 || len(res.Settled) != 1 || !res.Settled[0].Net.Equal(dec("100.00")) {
		t.Fatalf("early cut-off: %+v", res)
	}
	second := b.submit("after the early cut-off", itemOf(cs[1], "CNY", uuid.Nil, ""))
	b.process(second.ID)
	b.clock.Set(time.Date(2026, 3, 16, 23, 30, 0, 0, beijing))
	third := b.submit("late evening", itemOf(cs[2], "CNY", uuid.Nil, ""))
	b.process(third.ID)
	for _, tc := range []struct {
		id   uuid.UUID
		date string
	}{{first.ID, "2026-03-16"}, {second.ID, "2026-03-17"}, {third.ID, "2026-03-17"}} {
		if it := b.instruction(tc.id).Items[0]; it.ValueDate == nil || it.ValueDate.Format(dateLayout) != tc.date {
			t.Errorf("item %s: value date %v, want %s", it.OrderNo, it.ValueDate, tc.date)
		}
	}
	batches, err := b.svc.Batches(b.ctx, b.actor.Tenant, BatchFilter{ValueDate: day("2026-03-17")}, uuid.Nil, 10)
	if err != nil || len(batches) != 1 || batches[0].ItemCount != 2 || !batches[0].Net.Equal(dec("500.00")) || batches[0].Status != BatchOpen {
		t.Fatalf("tomorrow's batches %+v, %v; want one open batch of the two later items", batches, err)
	}
	if old, _ := b.svc.Batches(b.ctx, b.actor.Tenant, BatchFilter{ValueDate: day("2026-03-16")}, uuid.Nil, 10); len(old) != 1 || old[0].ItemCount != 1 {
		t.Fatalf("today's batch %+v changed after its cut-off", old)
	}
}

// TestScheduledCutoff: the scheduled run cuts off only the value dates
// whose cut-off time has passed, for every tenant with such batches.
func TestScheduledCutoff(t *testing.T) {
	t.Parallel()
	b := settleSetup(t)
	c := b.importChain("S1", enterprise(1), "100.00")
	b.seedChains(c)
	ins := b.submit("s", itemOf(c, "CNY", uuid.Nil, ""))
	b.process(ins.ID)
	b.clock.Set(time.Date(2026, 3, 16, 22, 59, 0, 0, beijing))
	if err := b.svc.RunDueCutoffs(b.ctx); err != nil {
		t.Fatal(err)
	}
	if it := b.instruction(ins.ID).Items[0]; it.Status != Batched {
		t.Fatalf("before 23:00 the item is %s", it.Status)
	}
	b.clock.Set(time.Date(2026, 3, 16, 23, 0, 30, 0, beijing))
	if err := b.svc.RunDueCutoffs(b.ctx); err != nil {
		t.Fatal(err)
	}
	if it := b.instruction(ins.ID).Items[0]; it.Status != Settled {
		t.Fatalf("after 23:00 the item is %s", it.Status)
	}
}

// TestRefusedPayoutIsRetried: a payout the ledger refuses (the enterprise's
// payable is frozen) leaves its batch closed with the reason; the next
// cut-off pays it once the account is open again.
func TestRefusedPayoutIsRetried(t *testing.T) {
	t.Parallel()
	b := settleSetup(t)
	e := enterprise(3)
	c := b.importChain("F1", e, "100.00")
	b.seedChains(c)
	ins := b.submit("f", itemOf(c, "CNY", uuid.Nil, ""))
	b.process(ins.ID)
	accts, err := b.ledger.Accounts(b.ctx, b.actor.Tenant, "merchant:"+e+":CNY", uuid.Nil, 1)
	if err != nil || len(accts) != 1 {
		t.Fatal(accts, err)
	}
	if _, err := b.ledger.SetStatus(b.ctx, b.actor, accts[0].ID, ledger.Frozen); err != nil {
		t.Fatal(err)
	}
	res := b.cutoff()
	if len(res.Refused) != 1 || len(res.Settled) != 0 || res.Refused[0].LastError == "" {
		t.Fatalf("cut-off with a frozen payable: %+v", res)
	}
	bs, _ := b.svc.Batches(b.ctx, b.actor.Tenant, BatchFilter{}, uuid.Nil, 10)
	if bs[0].Status != BatchClosed || bs[0].LastError == "" {
		t.Fatalf("batch after a refused payout: %+v", bs[0])
	}
	if _, err := b.ledger.SetStatus(b.ctx, b.actor, accts[0].ID, ledger.Open); err != nil {
		t.Fatal(err)
	}
	if res := b.cutoff(); len(res.Settled) != 1 || res.Closed != 0 {
		t.Fatalf("retry: %+v", res)
	}
	bs, _ = b.svc.Batches(b.ctx, b.actor.Tenant, BatchFilter{}, uuid.Nil, 10)
	if it := b.instruction(ins.ID).Items[0]; it.Status != Settled || bs[0].LastError != "" {
		t.Fatalf("after the retry: item %s, batch %+v", it.Status, bs[0])
	}
}

// categories is a policy with a fixed answer per enterprise (A otherwise).
type categories map[string]Category

func (c categories) CategoryOf(_ context.Context, enterprise string, _ time.Time) (Category, error) {
	if cat, ok := c[enterprise]; ok {
		return cat, nil
	}
	return CategoryA, nil
}

// TestCategoryPolicy: through the one policy interface, a category C
// enterprise's item is held (its payment stays claimed, the instruction is
// at rest), a category B enterprise's item settles only when its amount is
// the customs value.
func TestCategoryPolicy(t *testing.T) {
	t.Parallel()
	c, bExact, bOff := enterprise(7), enterprise(8), enterprise(9)
	b := settleSetup(t, WithCategoryPolicy(categories{c: CategoryC, bExact: CategoryB, bOff: CategoryB}))
	held := b.importChain("H1", c, "100.00")
	exact := b.importChain("B1", bExact, "109.10")
	exact.goods, exact.tax = "100.00", "9.10"
	off := b.importChain("B2", bOff, "115.10") // 6.00 of freight outside the declaration
	off.goods, off.tax = "100.00", "9.10"
	b.seedChains(held, exact, off)
	ins := b.submit("categories", itemOf(held, "CNY", uuid.Nil, ""), itemOf(exact, "CNY", uuid.Nil, ""), itemOf(off, "CNY", uuid.Nil, ""))
	b.process(ins.ID)
	got := b.instruction(ins.ID).Items
	if got[0].Status != Held || got[0].Codes[0] != CodeCategoryC || got[1].Status != Batched ||
		got[2].Status != Rejected || got[2].Codes[0] != CodeCustomsMismatch {
		t.Fatalf("items: %s %v, %s %v, %s %v", got[0].Status, got[0].Codes, got[1].Status, got[1].Codes, got[2].Status, got[2].Codes)
	}
	var open int
	if err := b.db.Get(&open, `SELECT count(*) FROM settlement_outbox WHERE tenant_id = $1 AND done_at IS NULL`, b.actor.Tenant); err != nil || open != 0 {
		t.Fatalf("%d instructions still in the outbox (%v); held items are at rest", open, err)
	}
	again := b.submit("held again", itemOf(held, "CNY", uuid.Nil, ""))
	b.process(again.ID)
	if it := b.instruction(again.ID).Items[0]; it.Status != Rejected || it.Codes[0] != CodeAlreadySettled {
		t.Fatalf("a held payment named again: %s %v", it.Status, it.Codes)
	}
	if n := len(b.entriesByKey(settleKeyPrefix)); n != 1 {
		t.Fatalf("%d entries; only the category B item that agrees posts", n)
	}
}
