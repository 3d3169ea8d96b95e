package ledger

import (
	"errors"
	"testing"
)

func TestParseAmount(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in   string
		want error
	}{
		{"10.50", nil}, {"0.001", nil}, {"999999999999999999.9999", nil},
		{"0", ErrAmountNotPositive}, {"0.00", ErrAmountNotPositive}, {"-1.00", ErrAmountNotPositive},
		{"1000000000000000000", ErrAmountRange}, {"123456789012345678901234567890123456789012345678901", ErrAmountRange},
		{"1e3", ErrAmountSyntax}, {"+1", ErrAmountSyntax}, {" 1", ErrAmountSyntax}, {"1,00", ErrAmountSyntax},
		{"", ErrAmountSyntax}, {".", ErrAmountSyntax}, {"1.2.3", ErrAmountSyntax}, {"abc", ErrAmountSyntax}, {"--1", ErrAmountSyntax},
	} {
		_, err := ParseAmount(c.in)
		if (c.want == nil && err != nil) || (c.want != nil && !errors.Is(err, c.want)) {
			t.Errorf("ParseAmount(%q) = %v, want %v", c.in, err, c.want)
		}
	}
}

func TestMinorUnitsAndRounding(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		cur      Currency
		amount   string
		ok       bool
		rounded  string
		rendered string
	}{
		{"CNY", "1.005", false, "1.01", "1.01"}, // half-up: 1.005 → 1.01
		{"CNY", "1.50", true, "1.50", "1.50"},
		{"JPY", "1.5", false, "2", "2"},
		{"JPY", "1200", true, "1200", "1200"},
		{"KWD", "0.0005", false, "0.001", "0.001"},
		{"KWD", "1.234", true, "1.234", "1.234"},
	} {
		d := dec(c.amount)
		if err := CheckMinorUnits(d, c.cur); (err == nil) != c.ok {
			t.Errorf("CheckMinorUnits(%s %s) = %v", c.amount, c.cur, err)
		}
		if !c.cur.RoundHalfUp(d).Equal(dec(c.rounded)) {
			t.Errorf("%s %s rounds to %s, want %s", c.amount, c.cur, c.cur.RoundHalfUp(d), c.rounded)
		}
		if got := c.cur.Format(c.cur.RoundHalfUp(d)); got != c.rendered {
			t.Errorf("%s %s rounds to %s, want %s", c.amount, c.cur, got, c.rendered)
		}
	}
	if _, err := ParseCurrency("XXX"); !errors.Is(err, ErrUnknownCurrency) {
		t.Errorf("XXX accepted")
	}
	if c, err := ParseCurrency("cny"); err != nil || c != "CNY" || c.Numeric() != "156" {
		t.Errorf("cny = %s %v", c, err)
	}
}

// TestParseCurrencyFoldsOnlyASCII: look-alike letters are not folded into
// a code: the Latin long s of "uſd" would upper-case to S.
func TestParseCurrencyFoldsOnlyASCII(t *testing.T) {
	for _, s := range []string{"uſd", "СNY", "ｕｓｄ", "US", "USDX", "cnʏ"} {
		if c, err := ParseCurrency(s); !errors.Is(err, ErrUnknownCurrency) {
			t.Errorf("ParseCurrency(%q) = %q, %v; want ErrUnknownCurrency", s, c, err)
		}
	}
	if c, err := ParseCurrency(" usd "); err != nil || c != "USD" {
		t.Fatalf("usd: %q, %v", c, err)
	}
}
