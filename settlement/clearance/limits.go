package clearance

import "github.com/shopspring/decimal"

// Limits are the cross-border retail import limits in force from a day, in
// CNY: one transaction's taxable price, and one buyer's purchases in a
// calendar year.
type Limits struct {
	From   Day
	Single decimal.Decimal
	Annual decimal.Decimal
	Source string
}

// limitEras are the limits as they changed, by first day.
var limitEras = []Limits{
	{"2016-04-08", decimal.NewFromInt(2000), decimal.NewFromInt(20000), "财关税〔2016〕18号 §3"},
	{"2019-01-01", decimal.NewFromInt(5000), decimal.NewFromInt(26000), "财关税〔2018〕49号 §1"},
}

// LimitsOn returns the limits in force on day d; none before the regime
// began (2016-04-08).
func LimitsOn(d Day) (Limits, bool) {
	for i := len(limitEras) - 1; i >= 0; i-- {
		if limitEras[i].From <= d {
			return limitEras[i], true
		}
	}
	return Limits{}, false
}
