package settlement

import (
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/xbsettle/xbsettle/ledger"
)

// CNY is the domestic currency: one side of every pair, and the currency of
// the spread.
const CNY ledger.Currency = "CNY"

// Side says who buys the foreign currency, seen from the customer.
type Side string

// The two sides. The bank's board rates are named from the bank's view, so
// the customer who buys pays the bank's sell rate and vice versa.
const (
	// CustomerBuysFX is 购汇 (the bank's 售汇): the customer pays CNY for
	// foreign currency at the bank's sell rate. Import.
	CustomerBuysFX Side = "customer_buys_fx"
	// CustomerSellsFX is 结汇: the customer sells foreign currency for CNY at
	// the bank's buy rate. Export.
	CustomerSellsFX Side = "customer_sells_fx"
)

// Valid reports whether s is one of the two sides.
func (s Side) Valid() bool { return s == CustomerBuysFX || s == CustomerSellsFX }

// ParseSide checks a side's name. Errors: ErrSideInvalid.
func ParseSide(s string) (Side, error) {
	if side := Side(s); side.Valid() {
		return side, nil
	}
	return "", ErrSideInvalid.With("side %q is neither %s nor %s", s, CustomerBuysFX, CustomerSellsFX)
}

// Rounding names how a conversion rounds; it is recorded with every
// conversion so the figure can be reproduced.
type Rounding string

// HalfUp is 四舍五入: to the target currency's ISO 4217 minor units, halves
// away from zero, once, at the end.
const HalfUp Rounding = "half_up"

// beijing is China Standard Time. Rate dates are Beijing business dates, and
// China keeps no daylight saving time, so a fixed zone is exact and needs no
// tzdata on the host.
var beijing = time.FixedZone("CST", 8*60*60)

// Bounds of the FX desk's configuration.
const (
	DefaultQuoteTTL   = 60 * time.Second
	MaxQuoteTTL       = 15 * time.Minute
	DefaultMaxRateAge = 10 // days: a weekend plus the longest Chinese holiday
	maxRateAgeLimit   = 31
)

// FX stores rates and locks quotes. It is safe for concurrent use.
type FX struct {
	db         *sqlx.DB
	now        func() time.Time
	quoteTTL   time.Duration
	maxRateAge int
}

// FXOption tunes an FX.
type FXOption func(*FX)

// WithQuoteTTL sets how long a quote locks its rate (default 60 s, at most
// MaxQuoteTTL).
func WithQuoteTTL(d time.Duration) FXOption { return func(f *FX) { f.quoteTTL = d } }

// WithMaxRateAge sets how many days old the latest rate of a pair may be
// and still be quoted (default DefaultMaxRateAge): no new board is published
// on weekends and holidays, but a rate from last month must not be.
func WithMaxRateAge(days int) FXOption { return func(f *FX) { f.maxRateAge = days } }

// WithClock replaces time.Now, for tests.
func WithClock(now func() time.Time) FXOption { return func(f *FX) { f.now = now } }

// NewFX returns the FX desk over db, whose migrations are applied.
//
//	fx, err := settlement.NewFX(db, settlement.WithQuoteTTL(cfg.QuoteTTL))
func NewFX(db *sqlx.DB, opts ...FXOption) (*FX, error) {
	f := &FX{db: db, now: time.Now, quoteTTL: DefaultQuoteTTL, maxRateAge: DefaultMaxRateAge}
	for _, o := range opts {
		o(f)
	}
	if f.quoteTTL < time.Second || f.quoteTTL > MaxQuoteTTL {
		return nil, fmt.Errorf("fx: quote TTL %s is outside 1s..%s", f.quoteTTL, MaxQuoteTTL)
	}
	if f.maxRateAge < 0 || f.maxRateAge > maxRateAgeLimit {
		return nil, fmt.Errorf("fx: max rate age %d days is outside 0..%d", f.maxRateAge, maxRateAgeLimit)
	}
	return f, nil
}

// clock is now at the database's precision.
func (f *FX) clock() time.Time { return f.now().UTC().Truncate(time.Microsecond) }

// today is the Beijing business date of now.
func (f *FX) today() time.Time { return dayOf(f.now().In(beijing)) }

// dayOf keeps only the calendar date of t, as read in t's own location, as
// midnight UTC: the one form dates take in this package.
func dayOf(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

const dateLayout = "2006-01-02"
