package clearance

import (
	"slices"
	"testing"
	"time"
)

// TestRulesThroughTheStore: a pass and a fail case for every rule code,
// each chain stored, matched by its task and read back.
func TestRulesThroughTheStore(t *testing.T) {
	t.Parallel()
	b := storeSetup(t).withTasks()
	// One item above the single limit is taxed in full: its duty rate must be known.
	if _, err := b.svc.PutTariffLine(b.ctx, "test", TariffLine{Code: "1901101000", ValidFrom: "2025-01-01", Duty: ptr(dec("0.15")),
		VAT: dec("0.13"), Consumption: dec("0"), Description: "infant formula, test duty rate", Source: "test"}); err != nil {
		t.Fatal(err)
	}
	type docs struct {
		o *Order
		p *Payment
		w *Waybill
		i *Inventory
	}
	tests := []struct {
		name    string
		mutate  func(d *docs)
		omit    Kind
		used    string // quota the buyer used this year before the chain
		status  Status
		failed  []RuleCode
		warning RuleCode
	}{
		{name: "every rule holds", status: StatusVerified},
		{name: "ORDER_MISSING", omit: KindOrder, status: StatusIncomplete},
		{name: "PAYMENT_MISSING", omit: KindPayment, status: StatusIncomplete},
		{name: "WAYBILL_MISSING", omit: KindWaybill, status: StatusIncomplete},
		{name: "INVENTORY_MISSING", omit: KindInventory, status: StatusIncomplete},
		{name: "ORDER_ARITHMETIC fails", status: StatusMismatched, failed: []RuleCode{RuleOrderArithmetic},
			mutate: func(d *docs) { d.o.ActuralPaid, d.p.AmountPaid = dec("316.00"), dec("316.00") }},
		{name: "PAID_AMOUNT fails", status: StatusMismatched, failed: []RuleCode{RulePaidAmount},
			mutate: func(d *docs) { d.p.AmountPaid = dec("300.00") }},
		{name: "PAYMENT_REF fails", status: StatusMismatched, failed: []RuleCode{RulePaymentRef},
			mutate: func(d *docs) { d.p.PayTransactionID = "PAY-OTHER" }},
		{name: "PAYER_IS_BUYER fails", status: StatusMismatched, failed: []RuleCode{RulePayerIsBuyer},
			mutate: func(d *docs) { d.p.PayerIDNumber = ParsePersonalID(residentID(999999)) }},
		{name: "CONSIGNEE fails", status: StatusMismatched, failed: []RuleCode{RuleConsignee},
			mutate: func(d *docs) { d.w.ConsigneeTelephone = "13900000000" }},
		{name: "WAYBILL_REF fails", status: StatusMismatched, failed: []RuleCode{RuleWaybillRef},
			mutate: func(d *docs) { d.i.LogisticsNo = "LN-SOMETHING-ELSE" }},
		{name: "PARTIES fails: seller not registered", status: StatusMismatched, failed: []RuleCode{RuleParties},
			mutate: func(d *docs) { d.o.EbcCode, d.i.EbcCode = "4403969999", "4403969999" }},
		{name: "INVENTORY_LINES fails", status: StatusMismatched, failed: []RuleCode{RuleInventoryLines},
			mutate: func(d *docs) { d.i.Lines[1].ItemName = "Vitamin tablets 120ct" }},
		{name: "BUYER_ID fails: wrong check character", status: StatusMismatched, failed: []RuleCode{RuleBuyerID},
			mutate: func(d *docs) {
				id := residentID(424242)
				bad := ParsePersonalID(id[:17] + string("0123456789X"[(slices.Index([]byte("0123456789X"), id[17])+1)%11]))
				d.o.BuyerIDNumber, d.p.PayerIDNumber, d.i.BuyerIDNumber = bad, bad, bad
			}},
		{name: "SINGLE_LIMIT fails above 5000", status: StatusMismatched, failed: []RuleCode{RuleSingleLimit},
			mutate: func(d *docs) {
				// Line 1 becomes 2 × 3000: goods 6100, P = 6100 + 10 = 6110 (the discount does not lower it).
				d.o.Lines[0].Price, d.o.Lines[0].TotalPrice, d.i.Lines[0].Price, d.i.Lines[0].TotalPrice = dec("3000"), dec("6000"), dec("3000"), dec("6000")
				d.o.GoodsValue, d.o.ActuralPaid, d.p.AmountPaid = dec("6100"), dec("6116.39"), dec("6116.39")
			}},
		{name: "SINGLE_LIMIT passes for one indivisible item, with a warning", status: StatusVerified, warning: RuleSingleLimit,
			mutate: func(d *docs) {
				d.o.Lines, d.i.Lines = d.o.Lines[:1], d.i.Lines[:1]
				d.o.Lines[0].Qty, d.o.Lines[0].Price, d.o.Lines[0].TotalPrice = dec("1"), dec("6000"), dec("6000")
				d.i.Lines[0].Qty, d.i.Lines[0].Price, d.i.Lines[0].TotalPrice = dec("1"), dec("6000"), dec("6000")
				d.o.GoodsValue, d.o.ActuralPaid, d.p.AmountPaid = dec("6000"), dec("6016.39"), dec("6016.39")
			}},
		// P = 310: 25691 + 310 = 26001 is over the limit, 25690 + 310 = 26000 is not.
		{name: "ANNUAL_LIMIT fails", used: "25691", status: StatusMismatched, failed: []RuleCode{RuleAnnualLimit}},
		{name: "ANNUAL_LIMIT passes at the limit", used: "25690", status: StatusVerified},
	}
	for n, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			orderNo := "RULE" + time.Now().Format("150405") + string(rune('A'+n))
			o, p, w, i := chainDocs(t, orderNo, 1000+n)
			d := &docs{o, p, w, i}
			if tt.mutate != nil {
				tt.mutate(d)
			}
			if tt.used != "" {
				hash, _ := HashID(testKey, o.BuyerIDNumber.Reveal())
				if _, err := b.db.Exec(`INSERT INTO clearance_quota_uses (buyer_hash, year, tenant_id, order_no, amount, state)
					VALUES ($1, 2015, 'OTHER', 'EARLIER', $2, 'used')`, hash, tt.used); err != nil {
					t.Fatal(err)
				}
			}
			var submit []Document
			for _, doc := range []Document{d.o, d.p, d.w, d.i} {
				if doc.Kind() != tt.omit {
					submit = append(submit, doc)
				}
			}
			b.submit(submit...)
			v := verdictOf(t, b.chain(ChainKey{ebp, orderNo}))
			var codes []RuleCode
			for _, f := range v.Failed {
				if !slices.Contains(codes, f.Code) {
					codes = append(codes, f.Code)
				}
			}
			if v.Status != tt.status || !slices.Equal(codes, tt.failed) {
				t.Fatalf("verdict %s failed %v, want %s %v: %+v", v.Status, codes, tt.status, tt.failed, v.Failed)
			}
			if tt.omit != "" && !slices.Equal(v.Missing, []Kind{tt.omit}) {
				t.Fatalf("missing %v, want [%s]", v.Missing, tt.omit)
			}
			if tt.warning != "" && !slices.ContainsFunc(v.Warnings, func(f RuleFailure) bool { return f.Code == tt.warning }) {
				t.Fatalf("warnings %+v lack %s", v.Warnings, tt.warning)
			}
		})
	}
}

// TestAllArrivalOrdersAgree: the 24 orders in which a chain's four
// documents can arrive, each document stored and matched by its task as it
// comes, end in the same verdict. The waybill has no ebpCode, so orders
// where it comes first also exercise parking and attaching it.
func TestAllArrivalOrdersAgree(t *testing.T) {
	t.Parallel()
	b := storeSetup(t).withTasks()
	var first []byte
	for n, perm := range permutations(4) {
		orderNo := "PERM" + string(rune('A'+n))
		o, p, w, i := chainDocs(t, orderNo, 2000+n)
		docs := []Document{o, p, w, i}
		for _, k := range perm {
			b.submit(docs[k])
		}
		v := b.chain(ChainKey{ebp, orderNo})
		if got := verdictOf(t, v); got.Status != StatusVerified || got.Tax.Total != "28.21" || v.Pending {
			t.Fatalf("arrival order %v: %s", perm, v.Verdict)
		}
		if first == nil {
			first = v.Verdict
		} else if string(v.Verdict) != string(first) {
			t.Fatalf("arrival order %v: verdict %s, first was %s", perm, v.Verdict, first)
		}
	}
	if n := b.count("clearance_parked_waybills"); n != 0 {
		t.Fatalf("%d waybills still parked", n)
	}
}
