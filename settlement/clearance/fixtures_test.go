package clearance

import (
	"slices"
	"testing"
)

func TestFixtureOrder1IsVerifiedWithTax2639(t *testing.T) {
	t.Parallel()
	v := Match(fixtureChain(t, order1))
	if v.Status != StatusVerified || len(v.Failed) != 0 || len(v.Missing) != 0 || len(v.Warnings) != 0 {
		t.Fatalf("verdict = %+v, want verified without failures or warnings", v)
	}
	// P = 300 − 20 + 10 = 290; 290 × 13% × 70% = 26.39, split 193.33 / 96.67
	// between the lines: 17.59 + 8.80.
	if !v.Tax.TaxablePrice.Equal(dec("290")) || !v.Tax.Total.Equal(dec("26.39")) || !v.Tax.VAT.Equal(dec("37.70")) {
		t.Fatalf("tax = P %s VAT %s total %s, want 290, 37.70, 26.39", v.Tax.TaxablePrice, v.Tax.VAT, v.Tax.Total)
	}
	for i, want := range []string{"17.59", "8.80"} {
		if !v.Tax.Lines[i].Total.Equal(dec(want)) {
			t.Errorf("line %d tax = %s, want %s", i+1, v.Tax.Lines[i].Total, want)
		}
	}
	for _, r := range v.Receipts() {
		if r.Status != ReceiptCleared || len(r.Rules) != 0 {
			t.Errorf("receipt %+v, want 399 without rules", r)
		}
	}
}

func TestFixtureOrder2IsMismatchedOnPaidAmount(t *testing.T) {
	t.Parallel()
	v := Match(fixtureChain(t, order2))
	want := []RuleFailure{{RulePaidAmount, KindPayment, "amountPaid", "123.06", "123.00"}}
	if v.Status != StatusMismatched || !slices.Equal(v.Failed, want) || !slices.Equal(v.Missing, []Kind{KindInventory}) {
		t.Fatalf("verdict = %+v, want mismatched %v missing INVENTORY", v, want)
	}
	if v.Tax != nil {
		t.Errorf("tax computed without the inventory: %+v", v.Tax)
	}
	wantReceipts := []Receipt{
		{KindOrder, ReceiptReturned, []RuleCode{RulePaidAmount, RuleInventoryMissing}},
		{KindPayment, ReceiptReturned, []RuleCode{RulePaidAmount, RuleInventoryMissing}},
		{KindWaybill, ReceiptAccepted, []RuleCode{RuleInventoryMissing}},
	}
	got := v.Receipts()
	if len(got) != len(wantReceipts) {
		t.Fatalf("receipts = %+v, want %+v", got, wantReceipts)
	}
	for i := range got {
		if got[i].Document != wantReceipts[i].Document || got[i].Status != wantReceipts[i].Status || !slices.Equal(got[i].Rules, wantReceipts[i].Rules) {
			t.Errorf("receipt %d = %+v, want %+v", i, got[i], wantReceipts[i])
		}
	}
}

func TestFixtureOrder2WithItsInventoryHasTax2306(t *testing.T) {
	t.Parallel()
	c := fixtureChain(t, order2)
	c.Inventory = order2Inventory(t)
	v := Match(c)
	// P = 100, c = 15%: CT 17.65, VAT 15.29, tax 23.06; the payment is still short.
	if !v.Tax.Total.Equal(dec("23.06")) || !v.Tax.ConsumptionTax.Equal(dec("17.65")) || !v.Tax.VAT.Equal(dec("15.29")) {
		t.Fatalf("tax = %+v, want CT 17.65 VAT 15.29 total 23.06", v.Tax)
	}
	if v.Status != StatusMismatched || !slices.Equal(failures(v.Failed), []string{"PAID_AMOUNT PAYMENT amountPaid"}) || len(v.Missing) != 0 {
		t.Fatalf("verdict = %+v, want mismatched on PAID_AMOUNT only", v)
	}
}
