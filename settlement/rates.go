package settlement

import (
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/xbsettle/xbsettle/internal/apperr"
	"github.com/xbsettle/xbsettle/ledger"
)

// Bounds of a rate. They match the database columns (numeric(16,8)) with
// room to spare: a board rate has 4 to 6 decimals, and no currency costs a
// million CNY per 100 units.
const (
	MaxRateDecimals = 8
	MaxRateLoad     = 1000 // rates per LoadRates call
	maxSourceLen    = 200
	maxRateVersions = 100 // history returned by Rates
)

// MaxRate bounds every rate, exclusive.
var MaxRate = decimal.New(1, 6)

// Pair is a currency pair quoted directly, as the Chinese boards do: Base is
// the foreign currency, Quote is always CNY, and a rate is CNY per Unit
// units of Base. An indirect quote (CFETS's CNY/KRW) is loaded inverted.
type Pair struct {
	Base  ledger.Currency
	Quote ledger.Currency
}

// PairOf returns the pair of a foreign currency against CNY.
func PairOf(foreign ledger.Currency) Pair { return Pair{Base: foreign, Quote: CNY} }

// ParsePair reads "USD/CNY". Errors: ErrPairInvalid.
func ParsePair(s string) (Pair, error) {
	base, quote, ok := strings.Cut(ledger.UpperASCII(strings.TrimSpace(s)), "/")
	p := Pair{Base: ledger.Currency(base), Quote: ledger.Currency(quote)}
	if !ok {
		return Pair{}, ErrPairInvalid.With("pair %q is not of the form USD/CNY", s)
	}
	if err := p.Validate(); err != nil {
		return Pair{}, err
	}
	return p, nil
}

// String is "USD/CNY".
func (p Pair) String() string { return string(p.Base) + "/" + string(p.Quote) }

// Validate checks that the pair is a known foreign currency against CNY.
// Errors: ErrPairInvalid.
func (p Pair) Validate() error {
	if code, msg := p.problem(); code != "" {
		return ErrPairInvalid.With("%s", msg)
	}
	return nil
}

// problem is what is wrong with the pair, as a field code and a message.
func (p Pair) problem() (code, msg string) {
	switch {
	case !p.Base.Valid() || !p.Quote.Valid():
		return FieldCurrency, fmt.Sprintf("pair %s names a currency outside the ISO 4217 table", p)
	case p.Quote != CNY || p.Base == CNY:
		return FieldPair, fmt.Sprintf("pair %s is not foreign/CNY: rates are CNY per unit of foreign currency", p)
	}
	return "", ""
}

// Rate is one load of the rates of a pair for a date. Loads are kept: the
// one with the highest Version is in force, the others are its history.
type Rate struct {
	ID       uuid.UUID
	Pair     Pair
	Date     time.Time // Beijing business date, as midnight UTC
	Unit     int32     // 1, or 100 for the JPY and KRW boards
	Parity   decimal.Decimal
	Buy      decimal.Decimal // the bank buys foreign currency: the customer's 结汇
	Sell     decimal.Decimal // the bank sells foreign currency: the customer's 购汇
	Source   string
	Version  int
	LoadedAt time.Time
	LoadedBy string
}

// Quotation is the rate a conversion on the given side uses: the sell rate
// when the customer buys foreign currency, the buy rate when it sells.
func (r Rate) Quotation(side Side) Quotation {
	q := Quotation{Pair: r.Pair, Side: side, Parity: r.Parity, Unit: r.Unit, Date: r.Date, RateID: r.ID, Rate: r.Buy}
	if side == CustomerBuysFX {
		q.Rate = r.Sell
	}
	return q
}

// RateInput is one rate of a load.
type RateInput struct {
	Pair   Pair
	Date   time.Time // only the calendar date counts, read in Date's location
	Unit   int32
	Parity decimal.Decimal
	Buy    decimal.Decimal
	Sell   decimal.Decimal
	Source string // where the figures come from: "CFETS", "BOC board 09:30"
}

// RateHistory is every load of a pair for a date, newest first; InForce is
// the first.
type RateHistory struct {
	InForce  Rate
	Versions []Rate
}

// validateRates checks a whole load and lists every bad field, so an
// operator fixes a file in one go. today is the Beijing date of now.
func validateRates(in []RateInput, today time.Time) error {
	if len(in) == 0 {
		return apperr.Invalid([]apperr.FieldError{{Field: "rates", Code: FieldRequired, Message: "a load needs at least one rate"}})
	}
	if len(in) > MaxRateLoad {
		return ErrTooManyRates.With("a load has %d rates; at most %d", len(in), MaxRateLoad)
	}
	var bad []apperr.FieldError
	seen := make(map[string]int, len(in))
	for i, r := range in {
		at := func(field, code, msg string, args ...any) {
			bad = append(bad, apperr.FieldError{Field: fmt.Sprintf("rates[%d].%s", i, field), Code: code, Message: fmt.Sprintf(msg, args...)})
		}
		if code, msg := r.Pair.problem(); code != "" {
			at("pair", code, "%s", msg)
		}
		switch {
		case r.Date.IsZero():
			at("date", FieldRequired, "the rate date is required")
		case dayOf(r.Date).After(today.AddDate(0, 0, 1)):
			at("date", FieldDateInFuture, "%s is more than a day after today (%s, Beijing)", dayOf(r.Date).Format(dateLayout), today.Format(dateLayout))
		}
		if r.Unit != 1 && r.Unit != 100 {
			at("unit", FieldUnit, "the quotation unit is 1 or 100, not %d", r.Unit)
		}
		ok := true
		for _, f := range []struct {
			name string
			v    decimal.Decimal
		}{{"parity", r.Parity}, {"buy", r.Buy}, {"sell", r.Sell}} {
			if code, msg := checkRate(f.v); code != "" {
				at(f.name, code, "%s", msg)
				ok = false
			}
		}
		if ok && (r.Buy.GreaterThan(r.Parity) || r.Parity.GreaterThan(r.Sell)) {
			at("buy", FieldRateOrder, "buy %s ≤ parity %s ≤ sell %s does not hold", r.Buy, r.Parity, r.Sell)
		}
		switch {
		case strings.TrimSpace(r.Source) == "":
			at("source", FieldRequired, "the source of the rate is required")
		case len(r.Source) > maxSourceLen:
			at("source", FieldTooLong, "the source has more than %d bytes", maxSourceLen)
		}
		key := r.Pair.String() + "@" + dayOf(r.Date).Format(dateLayout)
		if j, dup := seen[key]; dup {
			at("date", FieldDuplicate, "%s is also rates[%d]; load one rate per pair and date", key, j)
		} else {
			seen[key] = i
		}
	}
	if len(bad) > 0 {
		return apperr.Invalid(bad)
	}
	return nil
}

// checkRate returns the field code and message of a rate outside its bounds.
func checkRate(v decimal.Decimal) (string, string) {
	switch {
	case !v.IsPositive():
		return FieldNotPositive, fmt.Sprintf("the rate must be greater than zero, got %s", v)
	case v.GreaterThanOrEqual(MaxRate):
		return FieldOutOfRange, fmt.Sprintf("the rate must be less than %s, got %s", MaxRate, v)
	case !v.Equal(v.Truncate(MaxRateDecimals)):
		return FieldRatePrecision, fmt.Sprintf("the rate has more than %d decimals: %s", MaxRateDecimals, v)
	}
	return "", ""
}
