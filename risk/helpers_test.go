package risk

import (
	"errors"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/xbsettle/xbsettle/internal/apperr"
)

// dec parses a decimal literal of a test.
func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// zeroTime is the zero time.Time: "no date".
var zeroTime time.Time

// day is midnight of a date in Beijing time.
func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, beijing) }

// fieldCode returns the field code of a VALIDATION_FAILED error, failing
// the test for any other error.
func fieldCode(t *testing.T, err error) string {
	t.Helper()
	var ae *apperr.Error
	if !errors.As(err, &ae) || ae.Code != "VALIDATION_FAILED" || len(ae.Fields) != 1 {
		t.Fatalf("want one VALIDATION_FAILED field error, got %#v", err)
	}
	return ae.Fields[0].Code
}

// mustThresholds loads the current FX table.
func mustThresholds(t testing.TB) Thresholds {
	t.Helper()
	th, err := LoadThresholds(CurrentThresholdsVersion)
	if err != nil {
		t.Fatal(err)
	}
	return th
}

// mustScorecard loads the current model.
func mustScorecard(t testing.TB) *Scorecard {
	t.Helper()
	m, err := LoadScorecard(CurrentScorecardVersion)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
