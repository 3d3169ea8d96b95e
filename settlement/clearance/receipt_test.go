package clearance

import (
	"encoding/json"
	"slices"
	"testing"
)

func TestReceipts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		mutate func(c *Chain)
		want   []Receipt
	}{
		{"verified: all cleared", func(*Chain) {}, []Receipt{
			{KindOrder, ReceiptCleared, nil}, {KindPayment, ReceiptCleared, nil},
			{KindWaybill, ReceiptCleared, nil}, {KindInventory, ReceiptCleared, nil},
		}},
		{"incomplete: accepted, waiting for the waybill", func(c *Chain) { c.Waybill = nil }, []Receipt{
			{KindOrder, ReceiptAccepted, []RuleCode{RuleWaybillMissing}},
			{KindPayment, ReceiptAccepted, []RuleCode{RuleWaybillMissing}},
			{KindInventory, ReceiptAccepted, []RuleCode{RuleWaybillMissing}},
		}},
		{"a consignee mismatch returns order and waybill only", func(c *Chain) { c.Waybill.Consignee = "Wang Wu" }, []Receipt{
			{KindOrder, ReceiptReturned, []RuleCode{RuleConsignee}},
			{KindPayment, ReceiptAccepted, nil},
			{KindWaybill, ReceiptReturned, []RuleCode{RuleConsignee}},
			{KindInventory, ReceiptAccepted, nil},
		}},
		{"a bad ID on the inventory returns the inventory only", func(c *Chain) {
			c.Inventory.BuyerIDNumber = ParsePersonalID("44030519900101124X")
		}, []Receipt{
			{KindOrder, ReceiptReturned, []RuleCode{RuleParties}},
			{KindPayment, ReceiptAccepted, nil},
			{KindWaybill, ReceiptAccepted, nil},
			{KindInventory, ReceiptReturned, []RuleCode{RuleParties, RuleBuyerID}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := fixtureChain(t, order1)
			tt.mutate(&c)
			got := Match(c).Receipts()
			if len(got) != len(tt.want) {
				t.Fatalf("receipts %+v, want %+v", got, tt.want)
			}
			for i, r := range got {
				w := tt.want[i]
				if r.Document != w.Document || r.Status != w.Status || !slices.Equal(r.Rules, append([]RuleCode{}, w.Rules...)) {
					t.Errorf("receipt %+v, want %+v", r, w)
				}
			}
		})
	}
}

// TestAnnualLimitQuota: orders of CNY 5,000 each; with five matched this
// year the sixth fails ANNUAL_LIMIT; once one of the five is cancelled (the
// caller's year total drops), the same order passes.
func TestAnnualLimitQuota(t *testing.T) {
	t.Parallel()
	c := fixtureChain(t, order1)
	reprice(&c, "2000.00", "990.00") // P = 4990 + freight 10 = 5000 (the discount does not lower it)
	c.Facts.BuyerYearTotal = dec("25000.00")
	v := Match(c)
	if want := []RuleFailure{{RuleAnnualLimit, KindOrder, "annualTotal", "<= 26000.00", "30000.00"}}; !slices.Equal(v.Failed, want) {
		t.Fatalf("sixth order: failed %+v, want %+v", v.Failed, want)
	}
	c.Facts.BuyerYearTotal = dec("20000.00")
	if v := Match(c); v.Status != StatusVerified {
		t.Fatalf("after a cancellation: %s %q", v.Status, failures(v.Failed))
	}
}

func TestVerdictJSONAndEqual(t *testing.T) {
	t.Parallel()
	v := Match(fixtureChain(t, order2))
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"verdict":"mismatched","missing":["INVENTORY"],` +
		`"failed_rules":[{"code":"PAID_AMOUNT","document":"PAYMENT","field":"amountPaid","expected":"123.06","actual":"123.00"}],"warnings":[]}`
	if string(b) != want {
		t.Errorf("JSON\n %s\nwant\n %s", b, want)
	}
	if !v.Equal(Match(fixtureChain(t, order2))) {
		t.Error("a re-evaluation of the same chain is not Equal")
	}
	full := Match(fixtureChain(t, order1))
	other := fixtureChain(t, order1)
	other.Facts.Tariff = tariffWith(t, TariffLine{Code: "1901", ValidFrom: "2019-04-01", VAT: dec("0.09"), Consumption: dec("0")})
	for name, w := range map[string]Verdict{"other verdict": v, "other tax": Match(other)} {
		if full.Equal(w) {
			t.Errorf("%s: Equal", name)
		}
	}
}
