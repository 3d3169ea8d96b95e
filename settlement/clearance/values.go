package clearance

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"github.com/xbsettle/xbsettle/ledger"
)

// customsCurrencies maps the customs currency codes (海关币制代码) that feeds
// use to ISO 4217. It is small on purpose: a code we have not reviewed is
// refused rather than guessed. ISO codes are accepted as they are.
var customsCurrencies = map[string]ledger.Currency{
	"110": "HKD",
	"116": "JPY",
	"121": "MOP",
	"132": "SGD",
	"133": "KRW",
	"142": "CNY",
	"300": "EUR",
	"303": "GBP",
	"331": "CHF",
	"501": "CAD",
	"502": "USD",
	"601": "AUD",
}

// ParseCurrency accepts a customs currency code ("142", "502") or an ISO 4217
// code ("CNY") and returns the ISO code.
func ParseCurrency(s string) (ledger.Currency, error) {
	if c, ok := customsCurrencies[s]; ok {
		return c, nil
	}
	c, err := ledger.ParseCurrency(s)
	if err != nil {
		return "", fmt.Errorf("parse currency: %w", err)
	}
	return c, nil
}

// cny is the currency of import documents and of the retail limits.
const cny ledger.Currency = "CNY"

// errDecimalSyntax is returned for anything but [-]digits[.digits].
var errDecimalSyntax = errors.New("not a plain decimal number")

// parseDecimal reads a decimal strictly: optional minus, digits, optional
// fraction. Exponents, a plus sign, ".5" and "5." are refused, so that what
// is stored is what a human reads.
func parseDecimal(s string) (decimal.Decimal, error) {
	body := strings.TrimPrefix(s, "-")
	intPart, frac, hasDot := strings.Cut(body, ".")
	if len(s) > 40 || !allDigits(intPart) || (hasDot && !allDigits(frac)) {
		return decimal.Decimal{}, fmt.Errorf("%w: %q", errDecimalSyntax, s)
	}
	return decimal.NewFromString(s)
}

// allDigits reports whether s is non-empty and only ASCII digits.
func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// chinaTime is China Standard Time; customs times carry no zone and mean it.
// A fixed zone avoids depending on the tz database.
var chinaTime = time.FixedZone("CST", 8*60*60)

// customsTimeLayout is the standard's yyyyMMddHHmmss.
const customsTimeLayout = "20060102150405"

// parseTime accepts the customs form "20151111093015" (China time) or RFC
// 3339, and returns UTC so that equal instants are equal values.
func parseTime(s string) (time.Time, error) {
	if len(s) == len(customsTimeLayout) && allDigits(s) {
		t, err := time.ParseInLocation(customsTimeLayout, s, chinaTime)
		return t.UTC(), err
	}
	t, err := time.Parse(time.RFC3339, s)
	return t.UTC(), err
}

// formatDecimal renders d canonically: no trailing zeros beyond the second
// decimal ("123.06", "100.00", "0.12345"). Equal values render equally however
// they were written ("123.060" or "123.06"), so verdicts compare equal.
func formatDecimal(d decimal.Decimal) string {
	places := int32(2)
	for !d.Equal(d.Truncate(places)) {
		places++
	}
	return d.StringFixed(places)
}
