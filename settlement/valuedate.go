package settlement

import (
	"fmt"
	"time"
)

// Cutoff is the time of day, Beijing time, at which a value date's batches
// close: an item batched before it settles that day, one batched at or
// after it the next. China keeps no daylight saving time, so the fixed
// zone the rate dates use (beijing) is exact and needs no tzdata.
type Cutoff struct {
	Hour, Minute int
}

// DefaultCutoff is 23:00 Beijing time.
var DefaultCutoff = Cutoff{Hour: 23}

// ParseCutoff reads "HH:MM", 00:00 to 23:59.
func ParseCutoff(s string) (Cutoff, error) {
	t, err := time.Parse("15:04", s)
	if err != nil || len(s) != 5 {
		return Cutoff{}, fmt.Errorf("cut-off %q: want HH:MM, Beijing time, such as 23:00", s)
	}
	return Cutoff{Hour: t.Hour(), Minute: t.Minute()}, nil
}

func (c Cutoff) String() string { return fmt.Sprintf("%02d:%02d", c.Hour, c.Minute) }

// at is the cut-off instant of a value date.
func (c Cutoff) at(valueDate time.Time) time.Time {
	y, m, d := valueDate.Date()
	return time.Date(y, m, d, c.Hour, c.Minute, 0, 0, beijing)
}

// ValueDate is the value date an item batched at t joins: t's Beijing date,
// or the next day from the cut-off on. Dates are midnight UTC, like rate dates.
func (c Cutoff) ValueDate(t time.Time) time.Time {
	d := dayOf(t.In(beijing))
	if !t.Before(c.at(d)) {
		d = d.AddDate(0, 0, 1)
	}
	return d
}

// LastDue is the latest value date whose cut-off has passed at t: the
// scheduled cut-off closes every batch up to it.
func (c Cutoff) LastDue(t time.Time) time.Time { return c.ValueDate(t).AddDate(0, 0, -1) }

// Today is t's Beijing business date.
func Today(t time.Time) time.Time { return dayOf(t.In(beijing)) }
