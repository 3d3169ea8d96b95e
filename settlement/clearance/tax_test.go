package clearance

import (
	"encoding/json"
	"math/rand/v2"
	"testing"

	"github.com/shopspring/decimal"
)

// TestRetailTaxWorkedCases are computed by hand. With v = 0.13 unless said:
// CT = P·c/(1−c), VAT = (P + CT)·v, tax = 0.7·(CT + VAT) = 0.7·P·(c+v)/(1−c),
// each rounded half-up to the fen, tax from the unrounded CT + VAT.
func TestRetailTaxWorkedCases(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		p, c, v     string
		ct, vat, tx string
	}{
		// CT = 15/0.85 = 17.647…; VAT = 117.647…·0.13 = 15.294…; tax = 0.7·32.941… = 23.0588 → 23.06
		{"DESIGN example, cosmetics", "100.00", "0.15", "0.13", "17.65", "15.29", "23.06"},
		// VAT = 13.00; tax = 0.7·13 = 9.10
		{"no consumption tax", "100.00", "0", "0.13", "0.00", "13.00", "9.10"},
		// VAT = 290·0.13 = 37.70; tax = 0.7·37.7 = 26.39 (fixture order 1 as one line)
		{"fixture order 1 as one line", "290.00", "0", "0.13", "0.00", "37.70", "26.39"},
		// VAT = 1.95; tax = 0.7·1.95 = 1.365, a half fen → 1.37 half-up (half-even would give 1.36)
		{"half a fen rounds up", "15.00", "0", "0.13", "0.00", "1.95", "1.37"},
		// VAT = 4.55; tax = 0.7·4.55 = 3.185 → 3.19 (half-even: 3.18)
		{"another half fen", "35.00", "0", "0.13", "0.00", "4.55", "3.19"},
		// nothing to tax
		{"zero", "0.00", "0.15", "0.13", "0.00", "0.00", "0.00"},
		// VAT = 650.00; tax = 455.00 at the single limit
		{"at the single limit", "5000.00", "0", "0.13", "0.00", "650.00", "455.00"},
		// CT = 20/0.9 = 22.222…; VAT = 222.222…·0.13 = 28.888…; tax = 0.7·51.111… = 35.777… → 35.78
		{"consumption tax 10%", "200.00", "0.10", "0.13", "22.22", "28.89", "35.78"},
		// CT = 200/0.8 = 250; VAT = 1250·0.13 = 162.50; tax = 0.7·412.5 = 288.75
		{"high-end watch, 20%", "1000.00", "0.20", "0.13", "250.00", "162.50", "288.75"},
		// VAT = 12.9987 → 13.00; tax = 0.7·12.9987 = 9.09909 → 9.10
		{"just under 100", "99.99", "0", "0.13", "0.00", "13.00", "9.10"},
		// VAT = 0.0013 → 0.00; tax = 0.00091 → 0.00
		{"one fen", "0.01", "0", "0.13", "0.00", "0.00", "0.00"},
		// CT = 18.5175/0.85 = 21.785…; VAT = 145.235…·0.13 = 18.880…; tax = 0.7·40.665… = 28.466… → 28.47
		{"odd price with 15%", "123.45", "0.15", "0.13", "21.79", "18.88", "28.47"},
		// VAT 9%: VAT = 9.00; tax = 6.30
		{"VAT 9%", "100.00", "0", "0.09", "0.00", "9.00", "6.30"},
		// CT = 1.5/0.85 = 1.7647…; VAT = 11.7647…·0.13 = 1.5294…; tax = 0.7·3.2941… = 2.3058… → 2.31.
		// Rounding CT and VAT first would give 0.7·(1.76 + 1.53) = 2.303 → 2.30: we do not.
		{"unrounded intermediates", "10.00", "0.15", "0.13", "1.76", "1.53", "2.31"},
	}
	for _, tt := range tests {
		ct, vat, tax := RetailTax(dec(tt.p), Rates{VAT: dec(tt.v), Consumption: dec(tt.c)})
		if !ct.Equal(dec(tt.ct)) || !vat.Equal(dec(tt.vat)) || !tax.Equal(dec(tt.tx)) {
			t.Errorf("%s: P %s → CT %s VAT %s tax %s, want %s %s %s", tt.name, tt.p, ct, vat, tax, tt.ct, tt.vat, tt.tx)
		}
	}
}

func TestRetailTaxRefusesImpossibleRates(t *testing.T) {
	t.Parallel()
	for _, r := range []Rates{{VAT: dec("0.13"), Consumption: dec("-0.01")}, {VAT: dec("-0.13")}, {VAT: dec("0.13"), Consumption: dec("1")}} {
		if r.Valid() {
			t.Errorf("rates %+v valid", r)
		}
	}
	if !DefaultRates.Valid() || !testRates["3304"].Valid() {
		t.Error("the default or the cosmetics rates are invalid")
	}
	defer func() {
		if recover() == nil {
			t.Error("consumption tax of 100% accepted")
		}
	}()
	RetailTax(dec("100"), Rates{VAT: dec("0.13"), Consumption: dec("1")})
}

func TestComputeTaxPerLine(t *testing.T) {
	t.Parallel()
	line := func(g int, total string) OrderLine {
		return OrderLine{Gnum: g, Qty: dec("1"), Price: dec(total), TotalPrice: dec(total)}
	}
	invLine := func(g int, gcode string) InventoryLine { return InventoryLine{Gnum: g, Gcode: gcode} }
	tests := []struct {
		name       string
		order      Order
		inv        Inventory
		wantShares []string
		wantTax    []string
		wantTotal  string
	}{
		{
			// P = 300 − 20 + 10 = 290, shares 193.333… / 96.666…: floors 193.33 + 96.66, the
			// left-over fen to the larger remainder (line 2): taxes 17.59 + 8.80 = 26.39.
			name:       "fixture order 1",
			order:      Order{GoodsValue: dec("300"), Discount: dec("20"), Lines: []OrderLine{line(1, "200"), line(2, "100")}},
			inv:        Inventory{Freight: dec("10"), Lines: []InventoryLine{invLine(1, "1901101000"), invLine(2, "2106909090")}},
			wantShares: []string{"193.33", "96.67"}, wantTax: []string{"17.59", "8.80"}, wantTotal: "26.39",
		},
		{
			// P = 100 in three equal parts: 33.34 (tie → lower gnum) + 33.33 + 33.33; each
			// 3.03 → 9.09, a fen less than the whole order at once (9.10): taxed per line.
			name:       "three equal lines",
			order:      Order{GoodsValue: dec("100"), Lines: []OrderLine{line(3, "10"), line(1, "10"), line(2, "10")}},
			inv:        Inventory{},
			wantShares: []string{"33.34", "33.33", "33.33"}, wantTax: []string{"3.03", "3.03", "3.03"}, wantTotal: "9.09",
		},
		{
			// Mixed headings: P = 200 + 0 insured 0.50 → 200.50, shares 100.25 / 100.25;
			// cosmetics: 0.7·100.25·0.28/0.85 = 23.1164… → 23.12; other: 100.25·0.091 = 9.12275 → 9.12.
			name:       "cosmetics beside other goods",
			order:      Order{GoodsValue: dec("200"), Lines: []OrderLine{line(1, "100"), line(2, "100")}},
			inv:        Inventory{InsuredFee: dec("0.50"), Lines: []InventoryLine{invLine(1, "3304990099"), invLine(2, "1901101000")}},
			wantShares: []string{"100.25", "100.25"}, wantTax: []string{"23.12", "9.12"}, wantTotal: "32.24",
		},
		{
			// Free gift lines weigh nothing: all of P = 50 on line 1 (50·0.091 = 4.55).
			name:       "a free gift",
			order:      Order{GoodsValue: dec("50"), Lines: []OrderLine{line(1, "50"), line(2, "0")}},
			inv:        Inventory{},
			wantShares: []string{"50.00", "0.00"}, wantTax: []string{"4.55", "0.00"}, wantTotal: "4.55",
		},
	}
	for _, tt := range tests {
		tax := ComputeTax(&tt.order, &tt.inv, testRates)
		for i, l := range tax.Lines {
			if !l.TaxablePrice.Equal(dec(tt.wantShares[i])) || !l.Total.Equal(dec(tt.wantTax[i])) {
				t.Errorf("%s: line gnum %d P %s tax %s, want %s %s", tt.name, l.Gnum, l.TaxablePrice, l.Total, tt.wantShares[i], tt.wantTax[i])
			}
		}
		if !tax.Total.Equal(dec(tt.wantTotal)) {
			t.Errorf("%s: total %s, want %s", tt.name, tax.Total, tt.wantTotal)
		}
	}
}

// TestAllocateProperties: for random totals and weights, the shares sum to
// the total exactly, none is negative, and each is within one unit of its
// exact proportional share.
func TestAllocateProperties(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		total := decimal.New(r.Int64N(10_000_000), -int32(r.IntN(4)))
		weights := make([]decimal.Decimal, 1+r.IntN(99))
		sum := decimal.Zero
		for i := range weights {
			if r.IntN(5) > 0 {
				weights[i] = decimal.New(r.Int64N(1_000_000), -int32(r.IntN(6)))
			}
			sum = sum.Add(weights[i])
		}
		shares := allocate(total, weights)
		got := decimal.Zero
		for i, s := range shares {
			got = got.Add(s)
			if s.IsNegative() {
				t.Fatalf("negative share %s of %s", s, total)
			}
			if sum.IsPositive() {
				exact := total.Mul(weights[i]).DivRound(sum, 30)
				if s.Sub(exact).Abs().GreaterThanOrEqual(dec("0.01")) {
					t.Fatalf("share %s is far from %s", s, exact)
				}
			}
		}
		if !got.Equal(total) {
			t.Fatalf("shares of %s over %d lines sum to %s", total, len(weights), got)
		}
	}
}

func TestTaxJSON(t *testing.T) {
	t.Parallel()
	tax := ComputeTax(&Order{GoodsValue: dec("100"), Lines: []OrderLine{{Gnum: 1, TotalPrice: dec("100")}}}, &Inventory{}, nil)
	b, err := json.Marshal(tax)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"taxable_price":"100.00","consumption_tax":"0.00","vat":"13.00","total":"9.10","lines":[{"gnum":1,"hs_heading":"","taxable_price":"100.00","consumption_rate":"0","vat_rate":"0.13","consumption_tax":"0.00","vat":"13.00","total":"9.10"}]}`
	if string(b) != want {
		t.Errorf("JSON\n %s\nwant\n %s", b, want)
	}
}
