package settlement

import (
	"testing"
	"time"
)

// TestCutoffValueDate: an item batched before the cut-off, Beijing time,
// takes that day's value date, from the cut-off on the next; a value date is
// due once its cut-off has passed.
func TestCutoffValueDate(t *testing.T) {
	t.Parallel()
	bj := func(s string) time.Time {
		at, err := time.ParseInLocation("2006-01-02 15:04:05", s, beijing)
		if err != nil {
			t.Fatal(err)
		}
		return at.UTC() // the instant, however it is written
	}
	for _, tc := range []struct {
		cut        Cutoff
		at         string
		value, due string
	}{
		{DefaultCutoff, "2026-03-16 10:00:00", "2026-03-16", "2026-03-15"},
		{DefaultCutoff, "2026-03-16 22:59:59", "2026-03-16", "2026-03-15"},
		{DefaultCutoff, "2026-03-16 23:00:00", "2026-03-17", "2026-03-16"},
		{DefaultCutoff, "2026-03-16 23:59:59", "2026-03-17", "2026-03-16"},
		{DefaultCutoff, "2026-03-17 00:00:00", "2026-03-17", "2026-03-16"}, // 16:00 UTC the day before
		{Cutoff{Hour: 0, Minute: 30}, "2026-03-17 00:10:00", "2026-03-17", "2026-03-16"},
		{Cutoff{Hour: 0, Minute: 30}, "2026-03-17 00:30:00", "2026-03-18", "2026-03-17"},
		{DefaultCutoff, "2026-12-31 23:30:00", "2027-01-01", "2026-12-31"},
	} {
		at := bj(tc.at)
		if got := tc.cut.ValueDate(at).Format(dateLayout); got != tc.value {
			t.Errorf("cut-off %s, %s Beijing: value date %s, want %s", tc.cut, tc.at, got, tc.value)
		}
		if got := tc.cut.LastDue(at).Format(dateLayout); got != tc.due {
			t.Errorf("cut-off %s, %s Beijing: last due %s, want %s", tc.cut, tc.at, got, tc.due)
		}
	}
	for in, ok := range map[string]bool{"23:00": true, "00:00": true, "23:59": true, "24:00": false, "9:30": false, "23:0": false,
		"2300": false, "": false, "23:00:00": false} {
		c, err := ParseCutoff(in)
		if (err == nil) != ok || (ok && c.String() != in) {
			t.Errorf("ParseCutoff(%q) = %v, %v", in, c, err)
		}
	}
}
