package clearance

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/shopspring/decimal"
)

// TestLevyTaxWorkedCases are computed by hand (and checked with a second,
// independent decimal computation). Within the limits (retail): duty 0,
// CT = P·c/(1−c) and VAT = (P + CT)·v collected at 70%; in full: D = P·d,
// CT = (P + D)·c/(1−c), VAT = (P + D + CT)·v at 100%. Each collected amount
// is rounded half-up to the fen; the total is the sum of the rounded
// amounts.
func TestLevyTaxWorkedCases(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		p, d, c, v    string
		levy          Levy
		duty, ct, vat string
		total         string
	}{
		// VAT 100·0.13 = 13 → 0.7·13 = 9.10.
		{"no consumption tax, VAT 13%", "100.00", "0", "0", "0.13", LevyRetail, "0.00", "0.00", "9.10", "9.10"},
		// CT 15/0.85 = 17.647… → 0.7· = 12.352… → 12.35; VAT 117.647…·0.13 = 15.294… → 0.7· = 10.705… → 10.71;
		// total 23.06 (DESIGN's example).
		{"cosmetics at 15%", "100.00", "0", "0.15", "0.13", LevyRetail, "0.00", "12.35", "10.71", "23.06"},
		// VAT 1.95 → 0.7· = 1.365 exactly: half a fen, rounded up to 1.37 (half-even would give 1.36).
		{"the exact half fen rounds up", "15.00", "0", "0", "0.13", LevyRetail, "0.00", "0.00", "1.37", "1.37"},
		// VAT 4.55 → 0.7· = 3.185 → 3.19 (half-even: 3.18).
		{"another exact half fen", "35.00", "0", "0", "0.13", LevyRetail, "0.00", "0.00", "3.19", "3.19"},
		// The 17% era: 0.7·17 = 11.90.
		{"VAT 17%", "100.00", "0", "0", "0.17", LevyRetail, "0.00", "0.00", "11.90", "11.90"},
		// The 16% era: 0.7·16 = 11.20.
		{"VAT 16%", "100.00", "0", "0", "0.16", LevyRetail, "0.00", "0.00", "11.20", "11.20"},
		// Lower rate 9%: 0.7·9 = 6.30.
		{"VAT 9%", "100.00", "0", "0", "0.09", LevyRetail, "0.00", "0.00", "6.30", "6.30"},
		// CT 200/0.8 = 250 → 175.00; VAT 1250·0.13 = 162.5 → 113.75; total 288.75.
		{"consumption tax 20%", "1000.00", "0", "0.20", "0.13", LevyRetail, "0.00", "175.00", "113.75", "288.75"},
		// CT 0.75/0.85 = 0.88235… → 0.61764… → 0.62; VAT 5.88235…·0.13 = 0.76470… → 0.53529… → 0.54;
		// the bill's total is 1.16, where rounding 0.7·(CT + VAT) = 1.15294… at once would give 1.15.
		{"each tax rounded on its own", "5.00", "0", "0.15", "0.13", LevyRetail, "0.00", "0.62", "0.54", "1.16"},
		// A duty rate in the tariff is not levied within the limits: 0% (18号 §3); VAT 9.10 as above.
		{"no duty within the limits", "100.00", "0.15", "0", "0.13", LevyRetail, "0.00", "0.00", "9.10", "9.10"},
		// VAT 0.0013 → 0.00091 → 0.00.
		{"one fen", "0.01", "0", "0", "0.13", LevyRetail, "0.00", "0.00", "0.00", "0.00"},
		{"nothing to tax", "0.00", "0", "0.15", "0.13", LevyRetail, "0.00", "0.00", "0.00", "0.00"},
		// In full: D = 6010·0.15 = 901.50; VAT = (6010 + 901.50)·0.13 = 898.495, a half fen → 898.50;
		// total 1800.00, nothing at 70%.
		{"one item taxed in full", "6010.00", "0.15", "0", "0.13", LevyFull, "901.50", "0.00", "898.50", "1800.00"},
		// In full with consumption tax: D = 1200; CT = 13200·0.2/0.8 = 3300; VAT = 16500·0.13 = 2145; total 6645.
		{"a watch taxed in full", "12000.00", "0.10", "0.20", "0.13", LevyFull, "1200.00", "3300.00", "2145.00", "6645.00"},
		// The old cosmetics era: CT 30/0.7 = 42.857… → 0.7· = 30.00; VAT 142.857…·0.17 = 24.2857… → 17.00; total 47.00.
		{"cosmetics at 30%, VAT 17%", "100.00", "0", "0.30", "0.17", LevyRetail, "0.00", "30.00", "17.00", "47.00"},
	}
	for _, tt := range tests {
		got := LevyTax(dec(tt.p), Rates{Duty: dec(tt.d), VAT: dec(tt.v), Consumption: dec(tt.c)}, tt.levy)
		want := Amounts{dec(tt.duty), dec(tt.ct), dec(tt.vat)}
		if !got.equal(want) || !got.Total().Equal(dec(tt.total)) {
			t.Errorf("%s: P %s → duty %s CT %s VAT %s total %s, want %s %s %s %s", tt.name, tt.p,
				got.Duty, got.ConsumptionTax, got.VAT, got.Total(), tt.duty, tt.ct, tt.vat, tt.total)
		}
	}
}

func TestLevyTaxRefusesImpossibleRates(t *testing.T) {
	t.Parallel()
	for _, r := range []Rates{{VAT: dec("0.13"), Consumption: dec("-0.01")}, {VAT: dec("-0.13")},
		{VAT: dec("0.13"), Consumption: dec("1")}, {Duty: dec("-0.01"), VAT: dec("0.13")}} {
		if r.Valid() {
			t.Errorf("rates %+v valid", r)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("consumption tax of 100% accepted")
		}
	}()
	LevyTax(dec("100"), Rates{VAT: dec("0.13"), Consumption: dec("1")}, LevyRetail)
}

// invLine is an inventory line of one piece at total, with a legal quantity.
func invLine(g int, gcode, total, qty1, unit1 string) InventoryLine {
	return InventoryLine{Gnum: g, Gcode: gcode, Qty: dec("1"), Price: dec(total), TotalPrice: dec(total), Qty1: dec(qty1), Unit1: unit1}
}

// TestComputeTaxWorkedCases: whole inventories, with the shipped tariff on
// their declaration date, by hand.
func TestComputeTaxWorkedCases(t *testing.T) {
	t.Parallel()
	const vitamins, books, cream = "2106909090", "4901990000", "3304990099"
	tests := []struct {
		name             string
		decl             string
		freight, insured string
		lines            []InventoryLine
		wantP, wantCT    []string
		wantVAT          []string
		wantTotal        string
	}{
		{
			// Fixture order 1: freight 10 over 200 : 100 → 6.666… and 3.333…: floors 6.66 + 3.33, the
			// left-over fen to the larger remainder → 6.67 / 3.33; P 206.67 and 103.33 (the order's
			// discount of 20 is not deducted); VAT 206.67·0.091 = 18.80697 → 18.81, 103.33·0.091 =
			// 9.40303 → 9.40; total 28.21 = 310·0.091 rounded per line.
			name: "freight apportioned, no discount", decl: "20251111", freight: "10.00", insured: "0",
			lines: []InventoryLine{invLine(1, "1901101000", "200.00", "1.8", "035"), invLine(2, vitamins, "100.00", "0.1", "035")},
			wantP: []string{"206.67", "103.33"}, wantCT: []string{"0.00", "0.00"}, wantVAT: []string{"18.81", "9.40"}, wantTotal: "28.21",
		},
		{
			// Freight 7.00 + insurance 0.01 = 7.01 over 100 : 60 : 40 → 3.505, 2.103, 1.402: floors 3.50,
			// 2.10, 1.40 leave one fen, to the largest remainder (line 1): P 103.51, 62.10, 41.40;
			// VAT ·0.091: 9.41941 → 9.42, 5.6511 → 5.65, 3.7674 → 3.77; total 18.84.
			name: "freight and insurance over three lines", decl: "20251111", freight: "7.00", insured: "0.01",
			lines: []InventoryLine{invLine(1, vitamins, "100.00", "1", "035"), invLine(2, vitamins, "60.00", "1", "035"), invLine(3, vitamins, "40.00", "1", "035")},
			wantP: []string{"103.51", "62.10", "41.40"}, wantCT: []string{"0.00", "0.00", "0.00"}, wantVAT: []string{"9.42", "5.65", "3.77"}, wantTotal: "18.84",
		},
		{
			// Fixture order 2's cream: 100.00 for 50 ml = 2 yuan/ml, below 10: no consumption tax
			// (财税〔2016〕103号); VAT 100·0.091 = 9.10.
			name: "cosmetics below the price per ml", decl: "20251111", freight: "0", insured: "0",
			lines: []InventoryLine{invLine(1, cream, "100.00", "50", "096")},
			wantP: []string{"100.00"}, wantCT: []string{"0.00"}, wantVAT: []string{"9.10"}, wantTotal: "9.10",
		},
		{
			// A 30 ml serum at 450 = 15 yuan/ml: CT 450·0.15/0.85 = 79.4117… → ·0.7 = 55.588… → 55.59;
			// VAT 529.4117…·0.13 = 68.8235… → ·0.7 = 48.176… → 48.18; total 103.77.
			name: "cosmetics above the price per ml", decl: "20251111", freight: "0", insured: "0",
			lines: []InventoryLine{invLine(1, cream, "450.00", "30", "096")},
			wantP: []string{"450.00"}, wantCT: []string{"55.59"}, wantVAT: []string{"48.18"}, wantTotal: "103.77",
		},
		{
			// 300 for 30 ml = exactly 10 yuan/ml, "10元/毫升及以上": taxed. CT 52.9411…·0.7 = 37.0588… →
			// 37.06; VAT 352.9411…·0.13·0.7 = 32.1176… → 32.12; total 69.18.
			name: "cosmetics at the price per ml", decl: "20251111", freight: "0", insured: "0",
			lines: []InventoryLine{invLine(1, cream, "300.00", "30", "096")},
			wantP: []string{"300.00"}, wantCT: []string{"37.06"}, wantVAT: []string{"32.12"}, wantTotal: "69.18",
		},
		{
			// 299.99 for 30 ml = 9.9997 yuan/ml: no CT; VAT 299.99·0.091 = 27.29909 → 27.30.
			name: "cosmetics a fen below the price per ml", decl: "20251111", freight: "0", insured: "0",
			lines: []InventoryLine{invLine(1, cream, "299.99", "30", "096")},
			wantP: []string{"299.99"}, wantCT: []string{"0.00"}, wantVAT: []string{"27.30"}, wantTotal: "27.30",
		},
		{
			// The threshold counts the P the line carries, freight included: 290 + 10 freight = 300 for
			// 30 ml = 10 yuan/ml, taxed as the case above: 37.06 + 32.12.
			name: "the threshold on P with its freight", decl: "20251111", freight: "10.00", insured: "0",
			lines: []InventoryLine{invLine(1, cream, "290.00", "30", "096")},
			wantP: []string{"300.00"}, wantCT: []string{"37.06"}, wantVAT: []string{"32.12"}, wantTotal: "69.18",
		},
		{
			// Masks, 5 pieces (片) at 80 = 16 yuan/piece, at least 15: CT 80·0.15/0.85 = 14.1176… →
			// 9.88; VAT 94.1176…·0.13·0.7 = 8.5647… → 8.56; total 18.44. A cream of 0.05 kg = 50 g at
			// 400 = 8 yuan/g, below 10: VAT 400·0.091 = 36.40 only. Total 54.84.
			name: "per piece and per gram", decl: "20251111", freight: "0", insured: "0",
			lines: []InventoryLine{invLine(1, cream, "80.00", "5", "020"), invLine(2, cream, "400.00", "0.05", "035")},
			wantP: []string{"80.00", "400.00"}, wantCT: []string{"9.88", "0.00"}, wantVAT: []string{"8.56", "36.40"}, wantTotal: "54.84",
		},
		{
			// 2016-09-30, before 103号: cosmetics at 30% whatever the price, VAT 17%: CT 30/0.7·0.7 = 30.00;
			// VAT 142.857…·0.17 = 24.2857… → ·0.7 = 17.00; total 47.00.
			name: "cosmetics in 2016 before October", decl: "20160930", freight: "0", insured: "0",
			lines: []InventoryLine{invLine(1, cream, "100.00", "50", "096")},
			wantP: []string{"100.00"}, wantCT: []string{"30.00"}, wantVAT: []string{"17.00"}, wantTotal: "47.00",
		},
		{
			// 2018-04-30, VAT 17%: 100·0.17·0.7 = 11.90; books 11%: 7.70.
			name: "the 17% and 11% era", decl: "20180430", freight: "0", insured: "0",
			lines: []InventoryLine{invLine(1, vitamins, "100.00", "1", "035"), invLine(2, books, "100.00", "1", "035")},
			wantP: []string{"100.00", "100.00"}, wantCT: []string{"0.00", "0.00"}, wantVAT: []string{"11.90", "7.70"}, wantTotal: "19.60",
		},
		{
			// 2018-05-01 (财税〔2018〕32号), VAT 16%: 11.20; books 10%: 7.00.
			name: "the 16% and 10% era begins", decl: "20180501", freight: "0", insured: "0",
			lines: []InventoryLine{invLine(1, vitamins, "100.00", "1", "035"), invLine(2, books, "100.00", "1", "035")},
			wantP: []string{"100.00", "100.00"}, wantCT: []string{"0.00", "0.00"}, wantVAT: []string{"11.20", "7.00"}, wantTotal: "18.20",
		},
		{
			// 2019-04-01 (公告2019年第39号), VAT 13%: 9.10; books 9%: 6.30.
			name: "the 13% and 9% era begins", decl: "20190401", freight: "0", insured: "0",
			lines: []InventoryLine{invLine(1, vitamins, "100.00", "1", "035"), invLine(2, books, "100.00", "1", "035")},
			wantP: []string{"100.00", "100.00"}, wantCT: []string{"0.00", "0.00"}, wantVAT: []string{"9.10", "6.30"}, wantTotal: "15.40",
		},
	}
	for _, tt := range tests {
		inv := Inventory{DeclTime: tt.decl, Freight: dec(tt.freight), InsuredFee: dec(tt.insured), Lines: tt.lines}
		tax := ComputeTax(&inv, testTariff, LevyRetail)
		for i, l := range tax.Lines {
			if l.TariffCode == "" || !l.TaxablePrice.Equal(dec(tt.wantP[i])) || !l.ConsumptionTax.Equal(dec(tt.wantCT[i])) ||
				!l.VAT.Equal(dec(tt.wantVAT[i])) || !l.Duty.IsZero() || !l.Total.Equal(l.ConsumptionTax.Add(l.VAT)) {
				t.Errorf("%s: line %d (tariff %q) P %s CT %s VAT %s duty %s total %s, want %s %s %s", tt.name, l.Gnum, l.TariffCode,
					l.TaxablePrice, l.ConsumptionTax, l.VAT, l.Duty, l.Total, tt.wantP[i], tt.wantCT[i], tt.wantVAT[i])
			}
		}
		if !tax.Total.Equal(dec(tt.wantTotal)) || !tax.Total.Equal(tax.Amounts.Total()) {
			t.Errorf("%s: total %s, want %s", tt.name, tax.Total, tt.wantTotal)
		}
	}
}

// TestTariffLookup: the longest code in force wins, eras end where they
// say, and nothing is in force before the regime.
func TestTariffLookup(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		code       string
		day        Day
		want       string
		wantVAT    string
		wantInTime bool
	}{
		{"3304990099", "2025-11-11", "3304", "0.13", true},
		{"3304990099", "2019-03-31", "3304", "0.16", true},
		{"1901101000", "2016-04-08", "*", "0.17", true},
		{"1901101000", "2016-04-07", "", "", false},
		{"49019900", "2019-04-01", "4901", "0.09", true},
	} {
		l, ok := testTariff.Line(tt.code, tt.day)
		if ok != tt.wantInTime || l.Code != tt.want || (ok && !l.VAT.Equal(dec(tt.wantVAT))) {
			t.Errorf("%s on %s: line %q VAT %s (%v), want %q %s", tt.code, tt.day, l.Code, l.VAT, ok, tt.want, tt.wantVAT)
		}
	}
	if _, err := NewTariff("x", []TariffLine{
		{Code: "3304", ValidFrom: "2019-04-01", VAT: dec("0.13"), Consumption: dec("0.15")},
		{Code: "3304", ValidFrom: "2020-01-01", ValidTo: "2020-12-31", VAT: dec("0.13"), Consumption: dec("0.15")},
	}); !errors.Is(err, ErrTariffOverlap) {
		t.Errorf("overlapping lines: %v", err)
	}
	for _, bad := range []TariffLine{
		{Code: "330", ValidFrom: "2019-04-01", VAT: dec("0.13")},
		{Code: "3304", ValidFrom: "2019-02-30", VAT: dec("0.13")},
		{Code: "3304", ValidFrom: "2019-04-01", ValidTo: "2019-03-31", VAT: dec("0.13")},
		{Code: "3304", ValidFrom: "2019-04-01", VAT: dec("0.13"), Consumption: dec("1")},
		{Code: "3304", ValidFrom: "2019-04-01", VAT: dec("0.13"), ConsumptionMinPerPiece: ptr(dec("-1"))},
	} {
		if bad.Validate() == nil {
			t.Errorf("line %+v valid", bad)
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
	inv := Inventory{DeclTime: "20251111", Lines: []InventoryLine{invLine(1, "1901101000", "100", "1", "035")}}
	b, err := json.Marshal(ComputeTax(&inv, testTariff, LevyRetail))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"declaration_date":"2025-11-11","levy":"retail","taxable_price":"100.00","customs_duty":"0.00","consumption_tax":"0.00","vat":"9.10","total":"9.10",` +
		`"lines":[{"gnum":1,"goods_code":"1901101000","tariff_code":"*","tariff_valid_from":"2019-04-01","taxable_price":"100.00",` +
		`"duty_rate":"0","consumption_rate":"0","vat_rate":"0.13","customs_duty":"0.00","consumption_tax":"0.00","vat":"9.10","total":"9.10"}]}`
	if string(b) != want {
		t.Errorf("JSON\n %s\nwant\n %s", b, want)
	}
}
