package clearance

import (
	"slices"
	"testing"
)

// TestLimitsByDeclarationDate: one declaration under each era's limits, at
// each limit and a fen above, the era chosen by the inventory's declTime
// (2,000 / 20,000 from 2016-04-08 per 财关税〔2016〕18号; 5,000 / 26,000 from
// 2019-01-01 per 财关税〔2018〕49号). P = 2·line 1 + line 2 + freight 10.
func TestLimitsByDeclarationDate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		decl   string
		prices []string // order lines 1 (qty 2) and 2
		year   string   // the buyer's other purchases this year
		failed []string
	}{
		{"2018: at the single limit 2,000", "20181231", []string{"500.00", "990.00"}, "0", nil},
		{"2018: a fen above 2,000", "20181231", []string{"500.00", "990.01"}, "0", []string{"SINGLE_LIMIT ORDER taxablePrice"}},
		{"2018: at the annual limit 20,000", "20181231", []string{"500.00", "990.00"}, "18000.00", nil},
		{"2018: a fen above 20,000", "20181231", []string{"500.00", "990.00"}, "18000.01", []string{"ANNUAL_LIMIT ORDER annualTotal"}},
		{"2019: 2,000.01 is within the new limit", "20190101", []string{"500.00", "990.01"}, "0", nil},
		{"2019: at the single limit 5,000", "20190101", []string{"2000.00", "990.00"}, "0", nil},
		{"2019: a fen above 5,000", "20190101", []string{"2000.00", "990.01"}, "0", []string{"SINGLE_LIMIT ORDER taxablePrice"}},
		{"2019: at the annual limit 26,000", "20190101", []string{"2000.00", "990.00"}, "21000.00", nil},
		{"2019: a fen above 26,000", "20190101", []string{"2000.00", "990.00"}, "21000.01", []string{"ANNUAL_LIMIT ORDER annualTotal"}},
		{"before the regime: no limits", "20160407", []string{"500.00", "990.00"}, "0",
			[]string{"TARIFF INVENTORY lines[gnum=1].gcode", "TARIFF INVENTORY lines[gnum=2].gcode", "SINGLE_LIMIT INVENTORY declTime"}},
	}
	for _, tt := range tests {
		c := fixtureChain(t, order1)
		c.Inventory.DeclTime = tt.decl
		reprice(&c, tt.prices...)
		c.Facts.BuyerYearTotal = dec(tt.year)
		v := Match(c)
		if got := failures(v.Failed); !slices.Equal(got, append([]string{}, tt.failed...)) {
			t.Errorf("%s: failed %q, want %q", tt.name, got, tt.failed)
		}
	}
	if l, _ := LimitsOn("2018-12-31"); !l.Single.Equal(dec("2000")) || !l.Annual.Equal(dec("20000")) {
		t.Errorf("2018-12-31: %+v", l)
	}
	if l, _ := LimitsOn("2019-01-01"); !l.Single.Equal(dec("5000")) || !l.Annual.Equal(dec("26000")) {
		t.Errorf("2019-01-01: %+v", l)
	}
}

// TestOneItemAboveTheLimitIsTaxedInFull: one indivisible item of 6,000 plus
// freight 10 is taxed as goods: D = 6010·15% = 901.50, VAT = 6911.50·13% =
// 898.495 → 898.50, total 1800.00; and its P counts toward the annual total.
func TestOneItemAboveTheLimitIsTaxedInFull(t *testing.T) {
	t.Parallel()
	c := fixtureChain(t, order1)
	c.Facts.Tariff = tariffWith(t, TariffLine{Code: "2106909090", ValidFrom: "2019-01-01", Duty: ptr(dec("0.15")), VAT: dec("0.13"), Consumption: dec("0")})
	onlyLine2(&c)
	reprice(&c, "6000.00")
	v := Match(c)
	if v.Status != StatusVerified || v.Tax.Levy != LevyFull || !v.Tax.Duty.Equal(dec("901.50")) || !v.Tax.VAT.Equal(dec("898.50")) ||
		!v.Tax.Total.Equal(dec("1800.00")) || !slices.Equal(failures(v.Warnings), []string{"SINGLE_LIMIT ORDER taxablePrice"}) {
		t.Fatalf("verdict %s, tax %+v, warnings %v", v.Status, v.Tax, v.Warnings)
	}
	// 19,990 bought before + 6,010 = 26,000: at the limit; a fen more fails.
	c.Facts.BuyerYearTotal = dec("19990.00")
	if v := Match(c); v.Status != StatusVerified {
		t.Errorf("at the annual limit: %q", failures(v.Failed))
	}
	c.Facts.BuyerYearTotal = dec("19990.01")
	if v := Match(c); !slices.Equal(failures(v.Failed), []string{"ANNUAL_LIMIT ORDER annualTotal"}) {
		t.Errorf("above the annual limit: %q", failures(v.Failed))
	}
}
