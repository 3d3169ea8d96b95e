package clearance

import (
	"errors"
	"slices"
	"testing"
	"time"
)

// TestWaybillFindsItsChain: a waybill without ebpCode that arrives before
// any document of its chain waits, then attaches (keeping its id) when the
// order comes; one that arrives after the inventory attaches at once; one
// whose orderNo two platforms use waits for the inventory that names it.
func TestWaybillFindsItsChain(t *testing.T) {
	t.Parallel()
	b := storeSetup(t).withTasks()

	t.Run("before the chain", func(t *testing.T) {
		o, p, w, i := chainDocs(t, "WB-BEFORE", 3001)
		st := b.submit(w)[0]
		if !st.Parked || st.Chain.EbpCode != "" {
			t.Fatalf("lone waybill stored %+v, want parked", st)
		}
		if v, err := b.svc.Document(b.ctx, operator, st.ID); err != nil || v.Chain != nil || v.Receipt.Status != ReceiptDeclared {
			t.Fatalf("parked waybill view %+v %v", v, err)
		}
		b.submit(o)
		v, err := b.svc.Document(b.ctx, operator, st.ID)
		if err != nil || v.Chain == nil || *v.Chain != (ChainKey{ebp, "WB-BEFORE"}) {
			t.Fatalf("after the order, waybill view %+v %v", v, err)
		}
		b.submit(p, i)
		if got := verdictOf(t, b.chain(ChainKey{ebp, "WB-BEFORE"})); got.Status != StatusVerified {
			t.Fatalf("verdict %+v", got)
		}
	})
	t.Run("after the inventory", func(t *testing.T) {
		o, p, w, i := chainDocs(t, "WB-AFTER", 3002)
		b.submit(i, o, p)
		if st := b.submit(w)[0]; st.Parked || st.Chain != (ChainKey{ebp, "WB-AFTER"}) {
			t.Fatalf("waybill stored %+v", st)
		}
		if got := verdictOf(t, b.chain(ChainKey{ebp, "WB-AFTER"})); got.Status != StatusVerified {
			t.Fatalf("verdict %+v", got)
		}
	})
	t.Run("an orderNo two platforms use", func(t *testing.T) {
		const other = "4403960002" // registered, here acting as a second platform
		oA, _, _, _ := chainDocs(t, "WB-SHARED", 3003)
		oB, pB, wB, iB := chainDocs(t, "WB-SHARED", 3004)
		oB.EbpCode, pB.EbpCode, iB.EbpCode, oB.GUID, pB.GUID, iB.GUID = other, other, other, "B-O", "B-P", "B-I"
		b.submit(oA, oB, pB)
		if st := b.submit(wB)[0]; !st.Parked {
			t.Fatalf("ambiguous waybill stored %+v, want parked", st)
		}
		b.submit(iB)
		if got := verdictOf(t, b.chain(ChainKey{other, "WB-SHARED"})); got.Status != StatusVerified {
			t.Fatalf("platform B's verdict %+v", got)
		}
		if got := verdictOf(t, b.chain(ChainKey{ebp, "WB-SHARED"})); !slices.Contains(got.Missing, KindWaybill) {
			t.Fatalf("platform A's chain took the waybill: %+v", got)
		}
	})
}

// TestNewVersionDuringEvaluation: a version stored after an evaluation read
// the chain but before it wrote is not lost: the compare-and-clear fails
// and the chain is evaluated again, in the same call.
func TestNewVersionDuringEvaluation(t *testing.T) {
	t.Parallel()
	b := storeSetup(t)
	o, p, w, i := chainDocs(t, "RACE1", 4001)
	b.submit(o, p, w, i)
	late := *p
	late.GUID, late.AppTime, late.AmountPaid = "RACE1-P2", p.AppTime.Add(time.Hour), dec("1.00")
	late.AppType = AppChange
	calls := 0
	b.svc.afterSnapshot = func() {
		calls++
		if calls == 1 {
			b.submit(&late)
		}
	}
	v := b.match(ChainKey{ebp, "RACE1"})
	got := verdictOf(t, v)
	if calls != 2 || got.Status != StatusMismatched || v.Pending || !slices.Equal(failures(got.Failed), []string{"PAID_AMOUNT PAYMENT amountPaid"}) {
		t.Fatalf("after %d rounds: %s (pending %v)", calls, v.Verdict, v.Pending)
	}
	if v.VerdictVersion != 1 {
		t.Fatalf("verdict version %d, want 1: the stale verdict must not have been written", v.VerdictVersion)
	}
}

// TestSweeperFindsLostWork: with no task at all, the sweeper matches the
// dirty chain from PostgreSQL.
func TestSweeperFindsLostWork(t *testing.T) {
	t.Parallel()
	b := storeSetup(t) // no scheduler: every task is "lost"
	o, p, w, i := chainDocs(t, "SWEEP1", 5001)
	b.submit(o, p, w, i)
	if v := b.chain(ChainKey{ebp, "SWEEP1"}); !v.Pending {
		t.Fatalf("chain not pending before the sweep: %+v", v)
	}
	n, err := b.svc.Sweep(b.ctx, 0, 100)
	if err != nil || n != 1 {
		t.Fatalf("sweep: %d %v", n, err)
	}
	if got := verdictOf(t, b.chain(ChainKey{ebp, "SWEEP1"})); got.Status != StatusVerified {
		t.Fatalf("verdict %+v", got)
	}
	if n, err := b.svc.Sweep(b.ctx, 0, 100); err != nil || n != 0 {
		t.Fatalf("second sweep: %d %v", n, err)
	}
}

// TestCancellationAndReturn: a cancellation takes a verified chain out of
// the trades and gives its quota back; withdrawing it (appType 3) restores
// both; a return does what a cancellation does. The verdict history keeps
// every step.
func TestCancellationAndReturn(t *testing.T) {
	t.Parallel()
	b := storeSetup(t).withTasks()
	o, p, w, i := chainDocs(t, "CXL1", 6001)
	b.submit(o, p, w, i)
	key := ChainKey{ebp, "CXL1"}
	trade := func() (status, reason string, version int) {
		t.Helper()
		row := b.db.QueryRow(`SELECT status, reason, version FROM trade_chains WHERE tenant_id = $1 AND order_no = $2`, ebp, "CXL1")
		if err := row.Scan(&status, &reason, &version); err != nil {
			t.Fatal(err)
		}
		return
	}
	quota := func() string {
		t.Helper()
		var state string
		if err := b.db.Get(&state, `SELECT state FROM clearance_quota_uses WHERE tenant_id = $1 AND order_no = $2`, ebp, "CXL1"); err != nil {
			t.Fatal(err)
		}
		return state
	}
	if s, _, _ := trade(); s != "verified" || quota() != "used" {
		t.Fatalf("verified chain: trade %s quota %s", s, quota())
	}
	cancel := &Cancellation{Head: Head{Message: CEB623, GUID: "CXL1-C", AppType: AppNew, AppTime: i.AppTime.Add(time.Hour)},
		OrderNo: "CXL1", EbpCode: ebp, EbcCode: "4403960002", Reason: "buyer changed their mind"}
	b.submit(cancel)
	if v := b.chain(key); v.State != ChainCancelled {
		t.Fatalf("state %s", v.State)
	}
	if s, r, _ := trade(); s != "unverified" || r != "CANCELLED" || quota() != "released" {
		t.Fatalf("cancelled chain: trade %s %s quota %s", s, r, quota())
	}
	withdraw := *cancel
	withdraw.AppType, withdraw.AppTime = AppDelete, cancel.AppTime.Add(time.Minute)
	b.submit(&withdraw)
	if s, _, version := trade(); s != "verified" || quota() != "used" || version != 3 {
		t.Fatalf("withdrawn cancellation: trade %s v%d quota %s", s, version, quota())
	}
	ret := &Cancellation{Head: Head{Message: CEB625, GUID: "CXL1-R", AppType: AppNew, AppTime: withdraw.AppTime.Add(time.Hour)},
		OrderNo: "CXL1", EbpCode: ebp, EbcCode: "4403960002", Reason: "damaged in transit"}
	b.submit(ret)
	v := b.chain(key)
	if s, r, _ := trade(); v.State != ChainReturned || s != "unverified" || r != "RETURNED" || quota() != "released" {
		t.Fatalf("returned chain: state %s trade %s %s quota %s", v.State, s, r, quota())
	}
	var versions int
	if err := b.db.Get(&versions, `SELECT count(*) FROM clearance_verdicts WHERE tenant_id = $1 AND order_no = $2`, ebp, "CXL1"); err != nil || versions != 4 {
		t.Fatalf("%d verdict versions (%v), want 4: verified, cancelled, verified, returned", versions, err)
	}
}

// TestReplaysAndConflicts: the same version twice is stored once; the same
// version with other content is refused with nothing stored.
func TestReplaysAndConflicts(t *testing.T) {
	t.Parallel()
	b := storeSetup(t)
	o, p, _, _ := chainDocs(t, "REPLAY1", 7001)
	first := b.submit(o)[0]
	o2, _, _, _ := chainDocs(t, "REPLAY1", 7001)
	again := b.submit(o2)[0]
	if !again.Replayed || again.ID != first.ID || b.count("clearance_documents") != 1 {
		t.Fatalf("replay stored %+v (first %s), %d rows", again, first.ID, b.count("clearance_documents"))
	}
	o3, _, _, _ := chainDocs(t, "REPLAY1", 7001)
	o3.BuyerName = "Someone Else"
	if _, err := b.svc.Submit(b.ctx, Submitter{By: "test", Role: RoleAdmin}, []Document{p, o3}); !errors.Is(err, ErrDocumentConflict) {
		t.Fatalf("conflicting version: %v", err)
	}
	if n := b.count("clearance_documents"); n != 1 {
		t.Fatalf("%d documents after a refused batch, want 1", n)
	}
}

// TestDirectionConflict: an export document for an import chain is refused.
func TestDirectionConflict(t *testing.T) {
	t.Parallel()
	b := storeSetup(t)
	o, _, _, _ := chainDocs(t, "DIR1", 8001)
	b.submit(o)
	receipt := exportChain(t).Payment
	receipt.OrderNo, receipt.EbpCode = "DIR1", ebp
	if _, err := b.svc.Submit(b.ctx, Submitter{By: "test", Role: RoleAdmin}, []Document{receipt}); !errors.Is(err, ErrChainDirection) {
		t.Fatalf("export receipt on an import chain: %v", err)
	}
	var dirty int
	if err := b.db.Get(&dirty, `SELECT dirty_version FROM clearance_chains WHERE order_no = 'DIR1' AND direction = 'import'`); err != nil || dirty != 1 {
		t.Fatalf("chain after the refusal: dirty version %d, %v; want an import chain at 1", dirty, err)
	}
	if n := b.count("clearance_documents"); n != 1 {
		t.Fatalf("%d documents, want the order alone", n)
	}

	// An export waybill parked before the import chain existed stays
	// parked when the chain arrives, and nothing of it is attached.
	w := exportChain(t).Waybill
	w.OrderNo, w.EbpCode = "DIR2", ""
	if st := b.submit(w)[0]; !st.Parked {
		t.Fatalf("waybill not parked: %+v", st)
	}
	o2, _, _, _ := chainDocs(t, "DIR2", 8002)
	b.submit(o2)
	if n, parked := b.count("clearance_documents"), b.count("clearance_parked_waybills"); n != 2 || parked != 1 {
		t.Fatalf("%d documents and %d parked waybills, want the two orders and the waybill still parked", n, parked)
	}
}

// TestDeleteTakesADocumentOut: a later version with appType 3 removes the
// payment from a verified chain: incomplete again, out of the trades, its
// quota given back; the receipt of the deleted version says accepted.
func TestDeleteTakesADocumentOut(t *testing.T) {
	t.Parallel()
	b := storeSetup(t).withTasks()
	o, p, w, i := chainDocs(t, "DEL1", 9001)
	b.submit(o, p, w, i)
	del := *p
	del.AppType, del.AppTime = AppDelete, p.AppTime.Add(time.Hour)
	st := b.submit(&del)[0]
	v := b.chain(ChainKey{ebp, "DEL1"})
	if got := verdictOf(t, v); got.Status != StatusIncomplete || !slices.Equal(got.Missing, []Kind{KindPayment}) {
		t.Fatalf("after the delete: %s", v.Verdict)
	}
	var status, reason, quota string
	if err := b.db.QueryRow(`SELECT t.status, t.reason, q.state FROM trade_chains t JOIN clearance_quota_uses q USING (tenant_id, order_no)
		WHERE t.tenant_id = $1 AND t.order_no = $2`, ebp, "DEL1").Scan(&status, &reason, &quota); err != nil {
		t.Fatal(err)
	}
	if status != "unverified" || reason != "INCOMPLETE" || quota != "released" {
		t.Fatalf("trade %s %s, quota %s", status, reason, quota)
	}
	dv, err := b.svc.Document(b.ctx, operator, st.ID)
	if err != nil || !dv.InForce || dv.Receipt.Status != ReceiptAccepted {
		t.Fatalf("deleted version's view %+v %v", dv, err)
	}
}

// TestSameVerdictIsNotRepeated: a new version that changes nothing the
// verdict says is matched (the chain is clean again) without a new verdict
// version; one that changes the verdict adds one.
func TestSameVerdictIsNotRepeated(t *testing.T) {
	t.Parallel()
	b := storeSetup(t)
	o, p, w, i := chainDocs(t, "SAME1", 9501)
	b.submit(o, p, w, i)
	key := ChainKey{ebp, "SAME1"}
	b.match(key)
	again := *w
	again.GUID, again.AppType, again.AppTime = "SAME1-W2", AppChange, w.AppTime.Add(time.Minute)
	b.submit(&again)
	if v := b.match(key); v.Pending || v.VerdictVersion != 1 || verdictOf(t, v).Status != StatusVerified {
		t.Fatalf("after an unchanged waybill: pending %v, verdict version %d, %s", v.Pending, v.VerdictVersion, v.Verdict)
	}
	late := again
	late.GUID, late.AppTime, late.Consignee = "SAME1-W3", again.AppTime.Add(time.Minute), "Somebody Else"
	b.submit(&late)
	if v := b.match(key); v.VerdictVersion != 2 || verdictOf(t, v).Status != StatusMismatched {
		t.Fatalf("after another consignee: verdict version %d, %s", v.VerdictVersion, v.Verdict)
	}
	if n := b.count("clearance_verdicts"); n != 2 {
		t.Fatalf("%d verdict versions, want 2", n)
	}
}

// TestChainSeller: the matcher records a chain's seller (ebc_code, which
// risk counts unverified chains by) in the update that records its
// evaluation, without the trigger 00005_risk.sql had: the order's ebcCode,
// else the inventory's, deletes left out, else the seller the chain had.
// An order arriving after an inventory naming another seller takes over.
func TestChainSeller(t *testing.T) {
	t.Parallel()
	b := storeSetup(t)
	var triggers int
	if err := b.db.Get(&triggers, `SELECT count(*) FROM pg_trigger WHERE tgname = 'clearance_chains_seller'`); err != nil || triggers != 0 {
		t.Fatalf("trigger clearance_chains_seller: %d %v, want dropped", triggers, err)
	}
	seller := func(k ChainKey) string {
		t.Helper()
		var code *string
		if err := b.db.Get(&code, `SELECT ebc_code FROM clearance_chains WHERE tenant_id = $1 AND order_no = $2`, k.EbpCode, k.OrderNo); err != nil {
			t.Fatal(err)
		}
		if code == nil {
			return "NULL"
		}
		return *code
	}
	step := func(k ChainKey, what string, want Status, wantSeller string, docs ...Document) {
		t.Helper()
		b.submit(docs...)
		if got := verdictOf(t, b.match(k)); got.Status != want {
			t.Fatalf("%s: verdict %s, want %s", what, got.Status, want)
		}
		if got := seller(k); got != wantSeller {
			t.Fatalf("%s: ebc_code %s, want %s", what, got, wantSeller)
		}
	}
	const orderSeller, otherSeller = "4403960002", "4403980001" // both registered

	k := ChainKey{ebp, "SELLER1"}
	o, p, w, i := chainDocs(t, k.OrderNo, 6001)
	if o.EbcCode != orderSeller {
		t.Fatalf("fixture order's seller %s", o.EbcCode)
	}
	i.EbcCode = otherSeller
	step(k, "payment alone", StatusIncomplete, "NULL", p)
	step(k, "inventory", StatusIncomplete, otherSeller, i)
	step(k, "order after the inventory", StatusMismatched, orderSeller, o)
	fixed := *i
	fixed.GUID, fixed.AppType, fixed.AppTime, fixed.EbcCode = "SELLER1-I2", AppChange, i.AppTime.Add(time.Hour), orderSeller
	step(k, "inventory corrected, waybill", StatusVerified, orderSeller, &fixed, w)
	gone := *o
	gone.GUID, gone.AppType, gone.AppTime, gone.EbcCode = "SELLER1-O3", AppDelete, o.AppTime.Add(time.Hour), otherSeller
	step(k, "order deleted", StatusIncomplete, orderSeller, &gone) // from the inventory, not the delete

	// Nothing names the seller any more: the chain keeps the one it had.
	k2 := ChainKey{ebp, "SELLER2"}
	o2, p2, _, _ := chainDocs(t, k2.OrderNo, 6002)
	step(k2, "order", StatusIncomplete, orderSeller, o2, p2)
	gone2 := *o2
	gone2.GUID, gone2.AppType, gone2.AppTime = "SELLER2-O3", AppDelete, o2.AppTime.Add(time.Hour)
	step(k2, "order deleted", StatusIncomplete, orderSeller, &gone2)
}
