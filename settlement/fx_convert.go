package settlement

import (
	"encoding/json"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/xbsettle/xbsettle/ledger"
)

// Quotation is the rate one conversion uses: a board rate for one side and
// the central parity it is measured against, both CNY per Unit units of
// Pair.Base. It comes from Rate.Quotation or from a Quote.
type Quotation struct {
	Pair    Pair
	Side    Side
	Rate    decimal.Decimal // Sell when the customer buys FX, Buy when it sells
	Parity  decimal.Decimal
	Unit    int32
	Date    time.Time
	RateID  uuid.UUID
	QuoteID uuid.UUID // uuid.Nil unless the rate was locked by a quote
}

// validate asserts what Convert relies on. A quotation read from the store
// always passes; one built by hand may not.
func (q Quotation) validate() error {
	if err := q.Pair.Validate(); err != nil {
		return err
	}
	if !q.Side.Valid() {
		return ErrSideInvalid.With("side %q is neither %s nor %s", q.Side, CustomerBuysFX, CustomerSellsFX)
	}
	if q.Unit != 1 && q.Unit != 100 {
		return ErrRateInvalid.With("%s is quoted per %d; the unit is 1 or 100", q.Pair, q.Unit)
	}
	if !q.Rate.IsPositive() || !q.Parity.IsPositive() {
		return ErrRateInvalid.With("%s rate %s and parity %s must be greater than zero", q.Pair, q.Rate, q.Parity)
	}
	// The customer never gets a better rate than parity: buying costs at
	// least parity, selling yields at most parity. That is what makes the
	// spread income.
	if (q.Side == CustomerBuysFX && q.Rate.LessThan(q.Parity)) || (q.Side == CustomerSellsFX && q.Rate.GreaterThan(q.Parity)) {
		return ErrRateInvalid.With("%s %s rate %s is on the wrong side of parity %s", q.Pair, q.Side, q.Rate, q.Parity)
	}
	return nil
}

// Conversion records how an amount was converted: with it and nothing else
// the figures can be computed again.
type Conversion struct {
	Quotation    Quotation
	Rounding     Rounding
	From         ledger.Currency
	To           ledger.Currency
	SourceAmount decimal.Decimal // in From, as given
	TargetAmount decimal.Decimal // in To, rounded half-up to To's minor units
	// ParityAmount is the target amount the same source would have made at
	// central parity, rounded the same way: the parity-equivalent amount.
	ParityAmount decimal.Decimal
	// ParityCNY is the foreign leg valued at parity in CNY (see SpreadCNY):
	// the CNY leg of the FX position.
	ParityCNY decimal.Decimal
	// Spread is the FX spread income in CNY (see SpreadCNY). It is never
	// negative when the foreign amount is the source; when CNY is the source
	// the foreign amount is rounded, and rounding it up can cost a fraction
	// of a fen, so Spread may then be slightly negative.
	Spread decimal.Decimal
}

// Foreign is the conversion's foreign currency.
func (c Conversion) Foreign() ledger.Currency { return c.Quotation.Pair.Base }

// ForeignAmount is the conversion's amount in the foreign currency.
func (c Conversion) ForeignAmount() decimal.Decimal {
	if c.From == CNY {
		return c.TargetAmount
	}
	return c.SourceAmount
}

// CNYAmount is the conversion's amount in CNY: what the customer paid
// (购汇) or received (结汇).
func (c Conversion) CNYAmount() decimal.Decimal {
	if c.From == CNY {
		return c.SourceAmount
	}
	return c.TargetAmount
}

// Convert turns amount, in from, into to at the quotation's rate: CNY =
// foreign × rate ÷ unit, or foreign = CNY × unit ÷ rate. The result is
// computed exactly and rounded half-up (四舍五入) once, at the end, to the
// target's ISO 4217 minor units. Which amount is the source is the caller's
// choice: an import priced in USD converts USD to CNY on the customer-buys
// side to learn what the buyer pays; a buyer's CNY converts to USD on the
// same side to learn what it buys. Errors: ErrPairInvalid, ErrSideInvalid,
// ErrRateInvalid, ErrPairMismatch, ErrAmountInvalid, ErrAmountTooSmall.
//
//	c, err := settlement.Convert(dec("1234.56"), "USD", "CNY", rate.Quotation(settlement.CustomerSellsFX))
//	// c.TargetAmount = 8766.86 CNY at buy 7.1012; c.Spread = 27.40 CNY against parity 7.1234
func Convert(amount decimal.Decimal, from, to ledger.Currency, q Quotation) (Conversion, error) {
	if err := q.validate(); err != nil {
		return Conversion{}, err
	}
	foreign := q.Pair.Base
	if !(from == foreign && to == CNY) && !(from == CNY && to == foreign) {
		return Conversion{}, ErrPairMismatch.With("cannot convert %s to %s at a %s rate", from, to, q.Pair)
	}
	if err := checkAmount(amount, from); err != nil {
		return Conversion{}, err
	}
	c := Conversion{Quotation: q, Rounding: HalfUp, From: from, To: to, SourceAmount: amount,
		TargetAmount: convertAt(amount, from, to, q.Rate, q.Unit),
		ParityAmount: convertAt(amount, from, to, q.Parity, q.Unit)}
	if c.TargetAmount.IsZero() {
		return Conversion{}, ErrAmountTooSmall.With("%s %s is %s %s at %s per %d %s", from, from.Format(amount), to,
			to.Format(c.TargetAmount), q.Rate, q.Unit, foreign)
	}
	if c.TargetAmount.GreaterThanOrEqual(ledger.MaxAmount) {
		return Conversion{}, ErrAmountInvalid.With("%s %s converts to %s, beyond the largest amount", from, from.Format(amount), to)
	}
	c.ParityCNY, c.Spread = SpreadCNY(c.ForeignAmount(), c.CNYAmount(), q)
	return c, nil
}

// SpreadCNY values a foreign amount at central parity in CNY and returns
// that value with the spread: what the customer paid above it when buying
// foreign currency, or received below it when selling. The parity value is
// rounded half-up to the fen, once, the same rounding as Convert; the spread
// is then an exact difference of two amounts in fen.
//
// The spread is income: the ledger entry books the customer's CNY, the FX
// position's CNY at parityCNY, and the difference to fx_spread_income:CNY.
func SpreadCNY(foreign, cny decimal.Decimal, q Quotation) (parityCNY, spread decimal.Decimal) {
	parityCNY = roundHalfUp(foreign.Mul(q.Parity), decimal.NewFromInt32(q.Unit), CNY)
	if q.Side == CustomerBuysFX {
		return parityCNY, cny.Sub(parityCNY)
	}
	return parityCNY, parityCNY.Sub(cny)
}

// convertAt converts at one rate, quoted as CNY per unit of the foreign
// currency.
func convertAt(amount decimal.Decimal, from, to ledger.Currency, rate decimal.Decimal, unit int32) decimal.Decimal {
	u := decimal.NewFromInt32(unit)
	if to == CNY {
		return roundHalfUp(amount.Mul(rate), u, to)
	}
	return roundHalfUp(amount.Mul(u), rate, to)
}

// roundHalfUp is num ÷ den rounded half-up to the minor units of cur. The
// quotient is never rounded before this, so there is exactly one rounding:
// DivRound compares the exact remainder with half the divisor, and for the
// positive amounts here "away from zero" is "up".
func roundHalfUp(num, den decimal.Decimal, cur ledger.Currency) decimal.Decimal {
	return num.DivRound(den, cur.MinorUnits())
}

// checkAmount refuses an amount that is not positive, not below
// ledger.MaxAmount or finer than its currency's minor units.
func checkAmount(amount decimal.Decimal, cur ledger.Currency) error {
	switch {
	case !amount.IsPositive():
		return ErrAmountInvalid.With("%s amount %s must be greater than zero", cur, amount)
	case amount.GreaterThanOrEqual(ledger.MaxAmount):
		return ErrAmountInvalid.With("%s amount %s is beyond the largest amount", cur, amount)
	case ledger.CheckMinorUnits(amount, cur) != nil:
		return ErrAmountInvalid.With("%s amount %s has more than %d decimals", cur, amount, cur.MinorUnits())
	}
	return nil
}

// MarshalJSON renders the record with amounts as fixed-decimal strings in
// their currency's minor units ("8766.86", "12345"), rates as given, and the
// rate date as YYYY-MM-DD. The ledger entry's metadata carries it.
func (c Conversion) MarshalJSON() ([]byte, error) {
	var quote *uuid.UUID
	if c.Quotation.QuoteID != uuid.Nil {
		quote = &c.Quotation.QuoteID
	}
	return json.Marshal(struct {
		Pair         string     `json:"pair"`
		Side         Side       `json:"side"`
		Rate         string     `json:"rate"`
		Parity       string     `json:"parity"`
		Unit         int32      `json:"unit"`
		RateDate     string     `json:"rate_date"`
		RateID       uuid.UUID  `json:"rate_id"`
		QuoteID      *uuid.UUID `json:"quote_id,omitempty"`
		Rounding     Rounding   `json:"rounding"`
		SourceCur    string     `json:"source_currency"`
		SourceAmount string     `json:"source_amount"`
		TargetCur    string     `json:"target_currency"`
		TargetAmount string     `json:"target_amount"`
		ParityAmount string     `json:"parity_amount"`
		ParityCNY    string     `json:"parity_cny"`
		SpreadCNY    string     `json:"spread_cny"`
	}{c.Quotation.Pair.String(), c.Quotation.Side, c.Quotation.Rate.String(), c.Quotation.Parity.String(), c.Quotation.Unit,
		c.Quotation.Date.Format(dateLayout), c.Quotation.RateID, quote, c.Rounding,
		string(c.From), c.From.Format(c.SourceAmount), string(c.To), c.To.Format(c.TargetAmount),
		c.To.Format(c.ParityAmount), CNY.Format(c.ParityCNY), CNY.Format(c.Spread)})
}
