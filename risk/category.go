package risk

import "time"

// Category is an enterprise's FX category (货物贸易外汇管理分类): A is
// settled in the simplified way, B is verified item by item, C is
// registered case by case with the FX bureau.
type Category string

// The three FX categories, best first.
const (
	CategoryA Category = "A"
	CategoryB Category = "B"
	CategoryC Category = "C"
)

// Valid reports whether c is A, B or C.
func (c Category) Valid() bool { return c == CategoryA || c == CategoryB || c == CategoryC }

// worse returns the stricter of c and d ("" counts as A).
func (c Category) worse(d Category) Category {
	if d > c { // "" < "A" < "B" < "C"
		return d
	}
	return c
}

// Reason explains one part of a classification: a stable UPPER_SNAKE code,
// the figure that led to it and the threshold it was compared with.
// Op says how Value stands to Threshold when the reason applies (">", ">=",
// "<", "="), so that "REJECTED_CHAINS_HIGH 0.0800 > 0.0500" reads as is.
type Reason struct {
	Code      string `json:"code"`
	Value     string `json:"value,omitempty"`
	Op        string `json:"op,omitempty"`
	Threshold string `json:"threshold,omitempty"`
	// Category is, for an FX reason, the category this reason alone leads to.
	Category Category `json:"category,omitempty"`
	// Waived marks an FX reason that is shown but does not count, because
	// the enterprise is in its guidance period.
	Waived bool `json:"waived,omitempty"`
}

// beijing is the calendar the bureaus keep: registration dates, review
// periods and tenure are counted in China Standard Time (UTC+8, no DST).
var beijing = time.FixedZone("CST", 8*60*60)

// wholeMonths is the number of whole calendar months from from to to, in
// Beijing time: 2024-01-15 → 2024-02-14 is 0, → 2024-02-15 is 1. A month
// end counts only once the day is reached (2024-01-31 → 2024-02-29 is 0).
// It is never negative.
func wholeMonths(from, to time.Time) int {
	f, t := from.In(beijing), to.In(beijing)
	n := (t.Year()-f.Year())*12 + int(t.Month()) - int(f.Month())
	if clockOf(t) < clockOf(f) {
		n--
	}
	return max(n, 0)
}

// clockOf is the position of t inside its month, comparable across months.
func clockOf(t time.Time) time.Duration {
	return time.Duration(t.Day())*24*time.Hour + time.Duration(t.Hour())*time.Hour +
		time.Duration(t.Minute())*time.Minute + time.Duration(t.Second())*time.Second +
		time.Duration(t.Nanosecond())
}
