package ledger

import (
	"errors"
	"fmt"
	"strings"

	"github.com/shopspring/decimal"
)

// Currency is an ISO 4217 alphabetic code such as "CNY".
type Currency string

// currencyInfo is one row of the ISO 4217 table.
type currencyInfo struct {
	numeric    string // ISO 4217 numeric code, e.g. "156"
	minorUnits int32  // digits after the decimal point
}

// iso4217 lists the currencies xbsettle accepts. It is explicit on purpose:
// minor units decide what an amount may look like, so a currency we have not
// reviewed is refused rather than guessed.
var iso4217 = map[Currency]currencyInfo{
	"AED": {"784", 2}, "AUD": {"036", 2}, "BHD": {"048", 3}, "BRL": {"986", 2},
	"CAD": {"124", 2}, "CHF": {"756", 2}, "CLP": {"152", 0}, "CNY": {"156", 2},
	"CZK": {"203", 2}, "DKK": {"208", 2}, "EUR": {"978", 2}, "GBP": {"826", 2},
	"HKD": {"344", 2}, "HUF": {"348", 2}, "IDR": {"360", 2}, "ILS": {"376", 2},
	"INR": {"356", 2}, "ISK": {"352", 0}, "JOD": {"400", 3}, "JPY": {"392", 0},
	"KRW": {"410", 0}, "KWD": {"414", 3}, "KZT": {"398", 2}, "MOP": {"446", 2},
	"MXN": {"484", 2}, "MYR": {"458", 2}, "NOK": {"578", 2}, "NZD": {"554", 2},
	"OMR": {"512", 3}, "PHP": {"608", 2}, "PLN": {"985", 2}, "QAR": {"634", 2},
	"RUB": {"643", 2}, "SAR": {"682", 2}, "SEK": {"752", 2}, "SGD": {"702", 2},
	"THB": {"764", 2}, "TND": {"788", 3}, "TRY": {"949", 2}, "TWD": {"901", 2},
	"USD": {"840", 2}, "VND": {"704", 0}, "ZAR": {"710", 2},
}

// ErrUnknownCurrency is returned for a code that is not in the ISO 4217 table.
var ErrUnknownCurrency = errors.New("unknown currency")

// ParseCurrency normalises and checks an ISO 4217 alphabetic code: three
// ASCII letters, in either case.
func ParseCurrency(s string) (Currency, error) {
	c := Currency(UpperASCII(strings.TrimSpace(s)))
	if _, ok := iso4217[c]; !ok {
		return "", fmt.Errorf("%w: %q", ErrUnknownCurrency, s)
	}
	return c, nil
}

// UpperASCII is s with a-z made A-Z and every other byte left as it is.
// Codes are folded with it, never with strings.ToUpper or EqualFold:
// Unicode folding makes the Latin long s of "uſd" an S, so a look-alike
// would pass as USD.
func UpperASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// MinorUnits is the number of decimals the currency allows (CNY 2, JPY 0, KWD 3).
func (c Currency) MinorUnits() int32 { return iso4217[c].minorUnits }

// Numeric is the ISO 4217 numeric code ("156" for CNY).
func (c Currency) Numeric() string { return iso4217[c].numeric }

// Valid reports whether c is in the ISO 4217 table.
func (c Currency) Valid() bool { _, ok := iso4217[c]; return ok }

// MaxAmount bounds every single amount. Eighteen integer digits keep any sum of
// a realistic number of postings far inside the database's NUMERIC(38,4) balances.
var MaxAmount = decimal.New(1, 18)

// Amount errors, returned wrapped by ParseAmount.
var (
	ErrAmountSyntax      = errors.New("amount is not a decimal number")
	ErrAmountNotPositive = errors.New("amount must be greater than zero")
	ErrTooManyDecimals   = errors.New("amount has more decimals than the currency allows")
	ErrAmountRange       = errors.New("amount is too large")
)

// ParseAmount parses a plain decimal string such as "10.50" as a positive
// amount below MaxAmount. Signs, exponents and spaces are refused; whether
// the decimals fit a currency is CheckMinorUnits' job, since the edge often
// does not know the account's currency yet.
func ParseAmount(s string) (decimal.Decimal, error) {
	digits := strings.TrimPrefix(s, "-")
	if !plainDecimal(digits) {
		return decimal.Decimal{}, fmt.Errorf("%w: %q", ErrAmountSyntax, s)
	}
	if whole, _, _ := strings.Cut(strings.TrimLeft(digits, "0"), "."); len(whole) > 18 || len(digits) > 60 {
		return decimal.Decimal{}, fmt.Errorf("%w: %.24s…", ErrAmountRange, s)
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return decimal.Decimal{}, fmt.Errorf("%w: %q", ErrAmountSyntax, s)
	}
	if !d.IsPositive() {
		return decimal.Decimal{}, fmt.Errorf("%w: %s", ErrAmountNotPositive, s)
	}
	if d.GreaterThanOrEqual(MaxAmount) {
		return decimal.Decimal{}, fmt.Errorf("%w: %s", ErrAmountRange, s)
	}
	return d, nil
}

// plainDecimal reports whether s is digits with at most one decimal point
// and at least one digit.
func plainDecimal(s string) bool {
	dot, digits := false, 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '.' && !dot:
			dot = true
		default:
			return false
		}
	}
	return digits > 0
}

// CheckMinorUnits refuses an amount with more decimals than c allows
// ("1.005" CNY, "1.5" JPY).
func CheckMinorUnits(d decimal.Decimal, c Currency) error {
	if !d.Equal(d.Truncate(c.MinorUnits())) {
		return fmt.Errorf("%w: %s allows %d decimals, got %s", ErrTooManyDecimals, c, c.MinorUnits(), d)
	}
	return nil
}

// Format renders an amount with exactly the currency's minor units ("10.50", "1200").
func (c Currency) Format(d decimal.Decimal) string { return d.StringFixed(c.MinorUnits()) }

// RoundHalfUp rounds to the currency's minor units, halves away from zero
// (四舍五入), the rounding customs and the FX boards use.
func (c Currency) RoundHalfUp(d decimal.Decimal) decimal.Decimal { return d.Round(c.MinorUnits()) }
