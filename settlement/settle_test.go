package settlement

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/xbsettle/xbsettle/internal/apperr"
	"github.com/xbsettle/xbsettle/ledger"
)

// TestRejectedItemsPostNothing: an unverified chain, another institution's
// payment, an amount that is not the chain's and an expired quote are
// rejected with their codes and nothing is posted for them, while the other
// items of the same instruction post, batch and settle.
func TestRejectedItemsPostNothing(t *testing.T) {
	t.Parallel()
	b := settleSetup(t)
	e1, e2 := enterprise(1), enterprise(2)
	good := b.importChain("ORD-GOOD", e1, "1000.00")
	unverified := b.importChain("ORD-UNVERIFIED", e1, "200.00")
	unverified.unverified = true
	others := b.importChain("ORD-OTHERS", e1, "300.00")
	others.payCode = "OTHERPI001"
	mismatch := b.importChain("ORD-MISMATCH", e1, "500.00")
	expired := b.importChain("ORD-EXPIRED", e2, "700.00")
	export := b.exportChain("EXP-GOOD", e2, "USD", "1234.56")
	cips := b.importChain("ORD-CIPS", e2, "5000.00")
	b.seedChains(good, unverified, others, mismatch, expired, export, cips)

	stale := b.quote("USD", CustomerBuysFX)
	b.clock.Set(testNow.Add(DefaultQuoteTTL + time.Second))
	buy, sell := b.quote("USD", CustomerBuysFX), b.quote("USD", CustomerSellsFX)
	wrongAmount := itemOf(mismatch, "USD", buy, "")
	wrongAmount.Amount = dec("500.01")
	ins := b.submit("mixed-1",
		itemOf(good, "USD", buy, "1.00"),
		itemOf(unverified, "USD", buy, ""),
		itemOf(others, "USD", buy, ""),
		wrongAmount,
		itemOf(expired, "USD", stale, ""),
		itemOf(export, "CNY", sell, "10.00"),
		itemOf(cips, "CNY", uuid.Nil, "5.00"),
	)
	for _, it := range ins.Items {
		if it.Status != Accepted || len(it.History) != 1 {
			t.Fatalf("item %d after submit: %s, history %v", it.Seq, it.Status, it.History)
		}
	}
	b.process(ins.ID)

	want := []struct {
		status ItemStatus
		codes  []string
	}{
		{Batched, nil},
		{Rejected, []string{CodeChainNotVerified}},
		{Rejected, []string{CodePaymentNotOwned}},
		{Rejected, []string{CodeAmountMismatch}},
		{Rejected, []string{ErrQuoteExpired.Code}},
		{Batched, nil},
		{Batched, nil},
	}
	got := b.instruction(ins.ID)
	for i, it := range got.Items {
		if it.Status != want[i].status || !slices.Equal(it.Codes, append([]string{}, want[i].codes...)) {
			t.Errorf("item %d (%s): %s %v, want %s %v", i, it.OrderNo, it.Status, it.Codes, want[i].status, want[i].codes)
		}
		if (it.EntryID != nil) != (want[i].status == Batched) {
			t.Errorf("item %d: entry %v with status %s", i, it.EntryID, it.Status)
		}
	}

	b.cutoff()
	got = b.instruction(ins.ID)
	posted := b.entriesByKey(settleKeyPrefix)
	for _, it := range got.Items {
		key := settleKey(b.actor.Tenant, it.PayTransactionID)
		switch it.Status {
		case Settled:
			if posted[key] != 1 {
				t.Errorf("%s settled with %d entries", it.OrderNo, posted[key])
			}
		case Rejected:
			if posted[key] != 0 {
				t.Errorf("%s rejected but %d entries posted", it.OrderNo, posted[key])
			}
		default:
			t.Errorf("%s is %s after the cut-off", it.OrderNo, it.Status)
		}
	}
	if len(posted) != 3 {
		t.Fatalf("%d settlement entries, want 3: %v", len(posted), posted)
	}
	// By hand (docs/fx.md): 1000.00 CNY at sell 7.1456 buys 139.95 USD; the
	// export of 1234.56 USD at buy 7.1012 is 8766.86 CNY.
	for code, want := range map[string]string{
		"reserve:CNY":             "6000.00",  // 1000.00 + 5000.00
		"reserve:USD":             "1234.56",  // the export receipt
		"buyer_funds:CNY":         "0",        // collected and settled in the same entries
		"buyer_funds:USD":         "0",        //
		"merchant:" + e1 + ":USD": "0",        // paid out at the cut-off
		"merchant:" + e2 + ":CNY": "0",        //
		"payout_clearing:USD":     "138.95",   // 139.95 − fee 1.00
		"payout_clearing:CNY":     "13751.86", // 8766.86 − 10.00 + 5000.00 − 5.00
		"fee_income:USD":          "1.00",
		"fee_income:CNY":          "15.00",
		"fx_spread_income:CNY":    "30.48",    // 3.08 + 27.40
		"fx_position:USD":         "-1094.61", // 139.95 − 1234.56
		"fx_position:CNY":         "7797.34",  // 8794.26 − 996.92
	} {
		if got := b.balance(code); !got.Equal(dec(want)) {
			t.Errorf("%s = %s, want %s", code, got, want)
		}
	}
}

// TestSubmitValidates: the instruction is checked as a whole and every bad
// field is named; nothing is stored.
func TestSubmitValidates(t *testing.T) {
	t.Parallel()
	b := settleSetup(t)
	q := uuid.Must(uuid.NewV7())
	ok := NewItem{EbpCode: "P1", OrderNo: "O1", PayTransactionID: "T1", Enterprise: "4403160001", Currency: "CNY",
		Amount: dec("10.00"), PayoutCurrency: "USD", QuoteID: q}
	with := func(f func(*NewItem)) NewItem { it := ok; f(&it); return it }
	_, _, err := b.svc.Submit(b.ctx, b.actor, NewInstruction{IdempotencyKey: "bad", Items: []NewItem{
		ok,
		with(func(it *NewItem) { it.EbpCode, it.OrderNo, it.PayTransactionID = "", "has space", "T2" }),
		with(func(it *NewItem) { it.Enterprise, it.PayTransactionID = "lower", "T3" }),
		with(func(it *NewItem) { it.Amount, it.PayTransactionID = dec("1.001"), "T4" }),
		with(func(it *NewItem) { it.Currency, it.PayTransactionID = "USD", "T5" }),
		with(func(it *NewItem) { it.QuoteID, it.PayTransactionID = uuid.Nil, "T6" }),
		with(func(it *NewItem) { it.PayoutCurrency, it.PayTransactionID = "CNY", "T7" }),
		with(func(it *NewItem) { it.Fee, it.PayTransactionID = dec("-1"), "T8" }),
		with(func(it *NewItem) { it.Currency, it.PayTransactionID = "XAU", "T9" }),
		ok,
	}})
	var ae *apperr.Error
	if !errors.As(err, &ae) || ae.Code != "VALIDATION_FAILED" {
		t.Fatalf("err = %v, want VALIDATION_FAILED", err)
	}
	var got []string
	for _, f := range ae.Fields {
		got = append(got, f.Field+":"+f.Code)
	}
	for _, w := range []string{"items[1].ebpCode:REQUIRED", "items[1].orderNo:REF_INVALID", "items[2].enterprise:ENTERPRISE_INVALID",
		"items[3].amount:AMOUNT_PRECISION", "items[4].payout_currency:FLOW_UNSUPPORTED", "items[5].quote_id:QUOTE_REQUIRED",
		"items[6].quote_id:QUOTE_UNEXPECTED", "items[7].fee:AMOUNT_NOT_POSITIVE", "items[8].currency:CURRENCY_INVALID",
		"items[9].payTransactionId:DUPLICATE"} {
		if !slices.Contains(got, w) {
			t.Errorf("missing %s in %v", w, got)
		}
	}
	if _, _, err := b.svc.Submit(b.ctx, b.actor, NewInstruction{IdempotencyKey: "big", Items: make([]NewItem, MaxItems+1)}); !errors.Is(err, ErrTooManyItems) {
		t.Fatalf("%d items: %v, want BATCH_TOO_LARGE", MaxItems+1, err)
	}
	var n int
	if err := b.db.Get(&n, `SELECT count(*) FROM settlement_items`); err != nil || n != 0 {
		t.Fatalf("%d items stored (%v)", n, err)
	}
}

// TestSubmitIdempotency: the same key and items replay the instruction; the
// same key with other items is a conflict.
func TestSubmitIdempotency(t *testing.T) {
	t.Parallel()
	b := settleSetup(t)
	c := b.importChain("ORD-1", enterprise(1), "100.00")
	first := b.submit("k1", itemOf(c, "CNY", uuid.Nil, ""))
	again, replayed, err := b.svc.Submit(b.ctx, b.actor, NewInstruction{IdempotencyKey: "k1", Items: []NewItem{itemOf(c, "CNY", uuid.Nil, "")}})
	if err != nil || !replayed || again.ID != first.ID {
		t.Fatalf("replay: %v, replayed %v, id %s vs %s", err, replayed, again.ID, first.ID)
	}
	_, _, err = b.svc.Submit(b.ctx, b.actor, NewInstruction{IdempotencyKey: "k1", Items: []NewItem{itemOf(c, "CNY", uuid.Nil, "1.00")}})
	if !errors.Is(err, ledger.ErrIdempotencyReused) {
		t.Fatalf("other items under the key: %v, want IDEMPOTENCY_CONFLICT", err)
	}
	if _, err := b.svc.Instruction(b.ctx, "another", first.ID); !errors.Is(err, ErrInstructionNotFound) {
		t.Fatalf("another tenant reads the instruction: %v", err)
	}
}
