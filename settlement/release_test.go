package settlement

import (
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
)

// TestRegisterHeldItems: the FX bureau's registration of held (category C)
// items. A released item is judged again as at its acceptance — its quote,
// long expired by then, was live when the instruction was accepted — and
// settles through the worker; a released item whose chain was cancelled
// meanwhile is rejected with the chain's code; a refused one is rejected;
// both give their payment back. An item is registered once.
func TestRegisterHeldItems(t *testing.T) {
	t.Parallel()
	c := enterprise(21)
	b := settleSetup(t, WithCategoryPolicy(categories{c: CategoryC}))
	fx := b.exportChain("HX1", c, "USD", "100.00")
	cancelled := b.importChain("HC1", c, "50.00")
	refused := b.importChain("HR1", c, "60.00")
	b.seedChains(fx, cancelled, refused)
	ins := b.submit("held", itemOf(fx, "CNY", b.quote("USD", CustomerSellsFX), ""), itemOf(cancelled, "CNY", uuid.Nil, ""),
		itemOf(refused, "CNY", uuid.Nil, ""))
	b.process(ins.ID)
	items := b.instruction(ins.ID).Items
	for _, it := range items {
		if it.Status != Held {
			t.Fatalf("item %s: %s %v", it.OrderNo, it.Status, it.Codes)
		}
	}
	b.clock.Set(b.clock.Now().Add(48 * time.Hour))
	if _, err := b.db.Exec(`UPDATE trade_chains SET status = 'unverified', reason = 'CANCELLED', unverified_at = now()
		WHERE order_no = 'HC1'`); err != nil {
		t.Fatal(err)
	}

	if _, err := b.svc.RegisterHeld(b.ctx, b.actor, ins.ID, items[0].ID, Registration{Action: "wave through", Reference: ""}); err == nil {
		t.Fatal("a registration without action or reference was taken")
	}
	if _, err := b.svc.RegisterHeld(b.ctx, b.actor, uuid.New(), items[0].ID, Registration{Action: RegistrationRelease, Reference: "R"}); !errors.Is(err, ErrItemNotFound) {
		t.Fatalf("item of another instruction: %v", err)
	}
	for i, reg := range []Registration{{Action: RegistrationRelease, Reference: "SAFE-1"}, {Action: RegistrationRelease, Reference: "SAFE-2"},
		{Action: RegistrationRefuse, Reference: "SAFE-3", Reason: "no contract"}} {
		if _, err := b.svc.RegisterHeld(b.ctx, b.actor, ins.ID, items[i].ID, reg); err != nil {
			t.Fatalf("register %s: %v", items[i].OrderNo, err)
		}
	}
	if _, err := b.svc.RegisterHeld(b.ctx, b.actor, ins.ID, items[0].ID, Registration{Action: RegistrationRelease, Reference: "SAFE-1"}); err != nil {
		t.Fatalf("the same registration again: %v", err)
	}
	if _, err := b.svc.RegisterHeld(b.ctx, b.actor, ins.ID, items[2].ID, Registration{Action: RegistrationRelease, Reference: "SAFE-9"}); !errors.Is(err, ErrItemNotHeld) {
		t.Fatalf("a refused item released: %v", err)
	}
	b.process(ins.ID)
	got := b.instruction(ins.ID).Items
	if got[0].Status != Batched || got[0].EntryID == nil || got[0].Quotation == nil ||
		got[1].Status != Rejected || got[1].Codes[0] != CodeChainNotVerified ||
		got[2].Status != Rejected || got[2].Codes[0] != CodeRegistrationRefused {
		t.Fatalf("after registration: %s %v, %s %v, %s %v", got[0].Status, got[0].Codes, got[1].Status, got[1].Codes, got[2].Status, got[2].Codes)
	}
	var claims int
	if err := b.db.Get(&claims, `SELECT count(*) FROM settlement_claims WHERE tenant_id = $1`, b.actor.Tenant); err != nil || claims != 1 {
		t.Fatalf("%d claims (%v); the rejected items' payments are free again", claims, err)
	}
	if n := len(b.entriesByKey(settleKeyPrefix)); n != 1 {
		t.Fatalf("%d settlement entries, want the released item's", n)
	}
	var open int
	if err := b.db.Get(&open, `SELECT count(*) FROM settlement_outbox WHERE tenant_id = $1 AND done_at IS NULL`, b.actor.Tenant); err != nil || open != 0 {
		t.Fatalf("%d instructions in the outbox after the release settled (%v)", open, err)
	}
}
