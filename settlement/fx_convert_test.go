package settlement

import (
	"encoding/json"
	"errors"
	"math/big"
	"testing"

	"github.com/google/uuid"
	"pgregory.net/rapid"

	"github.com/xbsettle/xbsettle/ledger"
)

// quoteOf builds a quotation by hand, for rates that are not on the board.
func quoteOf(foreign ledger.Currency, side Side, rate, parity string, unit int32) Quotation {
	return Quotation{Pair: PairOf(foreign), Side: side, Rate: dec(rate), Parity: dec(parity), Unit: unit, Date: day("2026-03-16")}
}

// TestConvertTable is the acceptance table. Each expected figure is
// worked by hand in the comment: T the target, PA the parity amount, PC the
// foreign leg at parity in CNY, S the spread (buy: C − PC; sell: PC − C).
func TestConvertTable(t *testing.T) {
	t.Parallel()
	buys, sells := CustomerBuysFX, CustomerSellsFX
	cases := []struct {
		name           string
		amount         string
		from, to       ledger.Currency
		q              Quotation
		target, parity string // TargetAmount, ParityAmount
		parityCNY      string
		spread         string
	}{
		// T = 1234.56 × 7.1012 = 8766.857472 → 8766.86; PA = PC = 1234.56 × 7.1234 = 8794.264704 → 8794.26; S = 8794.26 − 8766.86
		{"USD 结汇 at the buy rate", "1234.56", "USD", "CNY", quotation("USD", sells), "8766.86", "8794.26", "8794.26", "27.40"},
		// T = 250.00 × 7.1456 = 1786.40 exactly; PA = PC = 250.00 × 7.1234 = 1780.85; S = 1786.40 − 1780.85
		{"USD 购汇 priced in USD", "250.00", "USD", "CNY", quotation("USD", buys), "1786.40", "1780.85", "1780.85", "5.55"},
		// T = 1000.00 ÷ 7.1456 = 139.9462… → 139.95; PA = 1000.00 ÷ 7.1234 = 140.3824… → 140.38;
		// PC = 139.95 × 7.1234 = 996.91983 → 996.92; S = 1000.00 − 996.92
		{"USD 购汇 from CNY", "1000.00", "CNY", "USD", quotation("USD", buys), "139.95", "140.38", "996.92", "3.08"},
		// T = 100.00 × 7.7855 = 778.55; PA = PC = 100.00 × 7.8090 = 780.90; S = 780.90 − 778.55
		{"EUR 结汇", "100.00", "EUR", "CNY", quotation("EUR", sells), "778.55", "780.90", "780.90", "2.35"},
		// per 100: T = 12345 × 4.8612 ÷ 100 = 600.11514 → 600.12; PA = PC = 12345 × 4.8456 ÷ 100 = 598.18932 → 598.19; S = 600.12 − 598.19
		{"JPY 购汇 priced in JPY, per 100", "12345", "JPY", "CNY", quotation("JPY", buys), "600.12", "598.19", "598.19", "1.93"},
		// JPY has 0 decimals: T = 1000.00 × 100 ÷ 4.8612 = 20571.05… → 20571; PA = 100000 ÷ 4.8456 = 20637.28… → 20637;
		// PC = 20571 × 4.8456 ÷ 100 = 996.788376 → 996.79; S = 1000.00 − 996.79
		{"JPY 购汇 from CNY, 0 decimals", "1000.00", "CNY", "JPY", quotation("JPY", buys), "20571", "20637", "996.79", "3.21"},
		// T = 1000000 × 4.8300 ÷ 100 = 48300.00; PA = PC = 1000000 × 4.8456 ÷ 100 = 48456.00; S = 48456.00 − 48300.00
		{"JPY 结汇, per 100", "1000000", "JPY", "CNY", quotation("JPY", sells), "48300.00", "48456.00", "48456.00", "156.00"},
		// T = 1000000 × 0.5210 ÷ 100 = 5210.00; PA = PC = 1000000 × 0.5222 ÷ 100 = 5222.00; S = 5222.00 − 5210.00
		{"KRW 结汇, per 100", "1000000", "KRW", "CNY", quotation("KRW", sells), "5210.00", "5222.00", "5222.00", "12.00"},
		// KWD has 3 decimals: T = 1000.00 ÷ 23.3470 = 42.83205… → 42.832; PA = 1000.00 ÷ 23.2310 = 43.04593… → 43.046;
		// PC = 42.832 × 23.2310 = 995.030192 → 995.03; S = 1000.00 − 995.03
		{"KWD 购汇 from CNY, 3 decimals", "1000.00", "CNY", "KWD", quotation("KWD", buys), "42.832", "43.046", "995.03", "4.97"},
		// T = 1.234 × 23.1150 = 28.52391 → 28.52; PA = PC = 1.234 × 23.2310 = 28.667054 → 28.67; S = 28.67 − 28.52
		{"KWD 结汇 of a 3-decimal amount", "1.234", "KWD", "CNY", quotation("KWD", sells), "28.52", "28.67", "28.67", "0.15"},

		// The exact half rounds up (banker's rounding would give the even neighbour):
		// T = 2.00 × 7.1225 = 14.245 exactly → 14.25 (not 14.24); PA = PC = 2.00 × 7.1234 = 14.2468 → 14.25; S = 0
		{"half-up at the exact half, CNY", "2.00", "USD", "CNY", quoteOf("USD", sells, "7.1225", "7.1234", 1), "14.25", "14.25", "14.25", "0.00"},
		// T = 1000 × 4.8625 ÷ 100 = 48.625 exactly → 48.63 (not 48.62); PA = PC = 1000 × 4.8456 ÷ 100 = 48.456 → 48.46; S = 48.63 − 48.46
		{"half-up at the exact half, per 100", "1000", "JPY", "CNY", quoteOf("JPY", buys, "4.8625", "4.8456", 100), "48.63", "48.46", "48.46", "0.17"},
		// T = 0.60 × 100 ÷ 4.8000 = 12.5 exactly → 13 (not 12); PA = 60 ÷ 4.78 = 12.55… → 13;
		// PC = 13 × 4.7800 ÷ 100 = 0.6214 → 0.62; S = 0.60 − 0.62: rounding the yen up costs 2 fen
		{"half-up at the exact half, JPY 0 decimals", "0.60", "CNY", "JPY", quoteOf("JPY", buys, "4.8000", "4.7800", 100), "13", "13", "0.62", "-0.02"},
		// T = 997.89 ÷ 23.2000 = 43.0125 exactly → 43.013 (not 43.012); PA = 997.89 ÷ 23.15 = 43.10539… → 43.105;
		// PC = 43.013 × 23.1500 = 995.75095 → 995.75; S = 997.89 − 995.75
		{"half-up at the exact half, KWD 3 decimals", "997.89", "CNY", "KWD", quoteOf("KWD", buys, "23.2000", "23.1500", 1), "43.013", "43.105", "995.75", "2.14"},
		// T = 2.00 × 7.12249 = 14.24498 → 14.24: just under the half stays down; PA = PC = 14.2468 → 14.25; S = 14.25 − 14.24
		{"just under the half", "2.00", "USD", "CNY", quoteOf("USD", sells, "7.12249", "7.1234", 1), "14.24", "14.25", "14.25", "0.01"},

		// T = 999999999999999.99 × 7.1012 = 7101200000000000 − 0.071012 = 7101199999999999.928988 → …99.93;
		// PA = PC = 7123400000000000 − 0.071234 = 7123399999999999.928766 → …99.93; S = 7123399999999999.93 − 7101199999999999.93
		{"very large USD", "999999999999999.99", "USD", "CNY", quotation("USD", sells), "7101199999999999.93", "7123399999999999.93", "7123399999999999.93", "22200000000000.00"},
		// T = 10^15 × 4.8612 ÷ 100 = 48612000000000.00; PA = PC = 10^15 × 4.8456 ÷ 100 = 48456000000000.00; S = 156000000000.00
		{"very large JPY", "1000000000000000", "JPY", "CNY", quotation("JPY", buys), "48612000000000.00", "48456000000000.00", "48456000000000.00", "156000000000.00"},
		// T = 10^15 ÷ 7.1456 = 139946260635915.8083… → …15.81; PA = 10^15 ÷ 7.1234 = 140382401662127.6356… → …27.64;
		// PC = 139946260635915.81 × 7.1234 = 996893193013882.680954 → …82.68; S = 10^15 − 996893193013882.68
		{"very large CNY", "1000000000000000.00", "CNY", "USD", quotation("USD", buys), "139946260635915.81", "140382401662127.64", "996893193013882.68", "3106806986117.32"},

		// T = 0.01 × 7.1012 = 0.071012 → 0.07; PA = PC = 0.071234 → 0.07; S = 0
		{"one cent", "0.01", "USD", "CNY", quotation("USD", sells), "0.07", "0.07", "0.07", "0.00"},
		// T = 1 × 4.8612 ÷ 100 = 0.048612 → 0.05; PA = PC = 0.048456 → 0.05; S = 0
		{"one yen", "1", "JPY", "CNY", quotation("JPY", buys), "0.05", "0.05", "0.05", "0.00"},
		// T = 1 × 0.5234 ÷ 100 = 0.005234 → 0.01 (above the half); PA = PC = 0.005222 → 0.01; S = 0
		{"one won", "1", "KRW", "CNY", quotation("KRW", buys), "0.01", "0.01", "0.01", "0.00"},
		// T = 0.15 × 100 ÷ 4.8612 = 3.0857… → 3; PA = 15 ÷ 4.8456 = 3.0956… → 3; PC = 3 × 4.8456 ÷ 100 = 0.145368 → 0.15; S = 0
		{"fifteen fen to yen", "0.15", "CNY", "JPY", quotation("JPY", buys), "3", "3", "0.15", "0.00"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := Convert(dec(tc.amount), tc.from, tc.to, tc.q)
			if err != nil {
				t.Fatalf("Convert(%s %s → %s): %v", tc.amount, tc.from, tc.to, err)
			}
			got := map[string]string{"target": tc.to.Format(c.TargetAmount), "parity": tc.to.Format(c.ParityAmount),
				"parity_cny": CNY.Format(c.ParityCNY), "spread": CNY.Format(c.Spread)}
			want := map[string]string{"target": tc.target, "parity": tc.parity, "parity_cny": tc.parityCNY, "spread": tc.spread}
			for k := range want {
				if got[k] != want[k] {
					t.Errorf("%s = %s, want %s", k, got[k], want[k])
				}
			}
			if c.Rounding != HalfUp || c.From != tc.from || c.To != tc.to || !c.SourceAmount.Equal(dec(tc.amount)) || c.Quotation != tc.q {
				t.Errorf("record = %+v; want the inputs, the quotation and half_up", c)
			}
			if err := ledger.CheckMinorUnits(c.TargetAmount, tc.to); err != nil {
				t.Errorf("target %s: %v", c.TargetAmount, err)
			}
		})
	}
}

// TestConvertRecordsHow checks the record an entry's metadata carries.
func TestConvertRecordsHow(t *testing.T) {
	t.Parallel()
	q := quotation("JPY", CustomerBuysFX)
	q.QuoteID = uuid.MustParse("0195a000-0000-7000-8000-0000000000aa")
	c, err := Convert(dec("12345"), "JPY", "CNY", q)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"pair":"JPY/CNY","side":"customer_buys_fx","rate":"4.8612","parity":"4.8456","unit":100,` +
		`"rate_date":"2026-03-16","rate_id":"0195a000-0000-7000-8000-000000000001","quote_id":"0195a000-0000-7000-8000-0000000000aa",` +
		`"rounding":"half_up","source_currency":"JPY","source_amount":"12345","target_currency":"CNY","target_amount":"600.12",` +
		`"parity_amount":"598.19","parity_cny":"598.19","spread_cny":"1.93"}`
	if string(b) != want {
		t.Fatalf("record\n got %s\nwant %s", b, want)
	}
}

func TestConvertRefusals(t *testing.T) {
	t.Parallel()
	usdBuy := quotation("USD", CustomerBuysFX)
	cases := []struct {
		name     string
		amount   string
		from, to ledger.Currency
		q        Quotation
		want     error
	}{
		// 0.01 × 100 ÷ 4.8612 = 0.2057 → 0 yen
		{"a fen buys no yen", "0.01", "CNY", "JPY", quotation("JPY", CustomerBuysFX), ErrAmountTooSmall},
		// 0.01 ÷ 7.1456 = 0.0014 → 0.00 USD
		{"a fen buys no cent", "0.01", "CNY", "USD", usdBuy, ErrAmountTooSmall},
		{"three decimals of USD", "1.001", "USD", "CNY", usdBuy, ErrAmountInvalid},
		{"half a yen", "1.5", "JPY", "CNY", quotation("JPY", CustomerBuysFX), ErrAmountInvalid},
		{"zero", "0", "USD", "CNY", usdBuy, ErrAmountInvalid},
		{"negative", "-1.00", "USD", "CNY", usdBuy, ErrAmountInvalid},
		{"10^18", "1000000000000000000", "USD", "CNY", usdBuy, ErrAmountInvalid},
		// 10^17 × 100 ÷ 4.8612 ≈ 2.06 × 10^18 yen, beyond ledger.MaxAmount
		{"result too large", "100000000000000000", "CNY", "JPY", quotation("JPY", CustomerBuysFX), ErrAmountInvalid},
		{"USD at a JPY rate", "1.00", "USD", "CNY", quotation("JPY", CustomerBuysFX), ErrPairMismatch},
		{"EUR to USD", "1.00", "EUR", "USD", usdBuy, ErrPairMismatch},
		{"CNY to CNY", "1.00", "CNY", "CNY", usdBuy, ErrPairMismatch},
		{"buying below parity", "1.00", "USD", "CNY", quoteOf("USD", CustomerBuysFX, "7.1000", "7.1234", 1), ErrRateInvalid},
		{"selling above parity", "1.00", "USD", "CNY", quoteOf("USD", CustomerSellsFX, "7.2000", "7.1234", 1), ErrRateInvalid},
		{"per 10", "1.00", "USD", "CNY", quoteOf("USD", CustomerBuysFX, "7.2", "7.1", 10), ErrRateInvalid},
		{"zero rate", "1.00", "USD", "CNY", quoteOf("USD", CustomerSellsFX, "0", "7.1", 1), ErrRateInvalid},
		{"no side", "1.00", "USD", "CNY", quoteOf("USD", "", "7.2", "7.1", 1), ErrSideInvalid},
		{"CNY/USD", "1.00", "USD", "CNY", Quotation{Pair: Pair{"CNY", "USD"}, Side: CustomerBuysFX, Rate: dec("1"), Parity: dec("1"), Unit: 1}, ErrPairInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := Convert(dec(tc.amount), tc.from, tc.to, tc.q)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Convert = %+v, %v; want %v", c, err, tc.want)
			}
		})
	}
}

// TestConvertMatchesExactArithmetic checks Convert against an independent
// oracle in exact rationals: the target is the exact quotient rounded
// half-up once, and the spread is never negative when the foreign amount is
// the source.
func TestConvertMatchesExactArithmetic(t *testing.T) {
	t.Parallel()
	currencies := []ledger.Currency{"USD", "EUR", "JPY", "KRW", "KWD"}
	rapid.Check(t, func(t *rapid.T) {
		cur := rapid.SampledFrom(currencies).Draw(t, "currency")
		side := rapid.SampledFrom([]Side{CustomerBuysFX, CustomerSellsFX}).Draw(t, "side")
		q := quotation(cur, side)
		fromCNY := rapid.Bool().Draw(t, "fromCNY")
		from, to := cur, CNY
		if fromCNY {
			from, to = CNY, cur
		}
		minor := rapid.Int64Range(1, 1_000_000_000_000).Draw(t, "minor units")
		amount := dec(big.NewInt(minor).String()).Shift(-from.MinorUnits())
		c, err := Convert(amount, from, to, q)
		want := exactHalfUp(amount.Rat(), q, fromCNY, to.MinorUnits())
		if want.Sign() == 0 {
			if !errors.Is(err, ErrAmountTooSmall) {
				t.Fatalf("%s %s → %s rounds to zero; err = %v", amount, from, to, err)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if c.TargetAmount.Rat().Cmp(want) != 0 {
			t.Fatalf("%s %s → %s = %s, exact half-up = %s", amount, from, to, c.TargetAmount, want.FloatString(int(to.MinorUnits())))
		}
		if !fromCNY && c.Spread.IsNegative() {
			t.Fatalf("spread %s < 0 with the foreign amount as source", c.Spread)
		}
	})
}

// exactHalfUp is the conversion in big.Rat: x = amount × rate ÷ unit (to
// CNY) or amount × unit ÷ rate (from CNY), then floor(x × 10^n + ½) ÷ 10^n.
func exactHalfUp(amount *big.Rat, q Quotation, fromCNY bool, n int32) *big.Rat {
	unit := new(big.Rat).SetInt64(int64(q.Unit))
	x := new(big.Rat).Mul(amount, q.Rate.Rat())
	x.Quo(x, unit)
	if fromCNY {
		x = new(big.Rat).Mul(amount, unit)
		x.Quo(x, q.Rate.Rat())
	}
	scale := new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil))
	x.Mul(x, scale)
	x.Add(x, big.NewRat(1, 2))
	floor := new(big.Int).Quo(x.Num(), x.Denom()) // positive, so truncation is floor
	return new(big.Rat).Quo(new(big.Rat).SetInt(floor), scale)
}
