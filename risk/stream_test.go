package risk

import (
	"errors"
	"slices"
	"testing"
)

// The scanner reads amounts and lists as PostgreSQL writes them.
func TestParseUnits(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]int64{"0": 0, "12.5": 1_250_000, "1234.50000": 123_450_000, "0.00001": 1,
		"1.0000000": 100_000, "9999999999999.99999": 999_999_999_999_999_999} {
		if got, err := parseUnits([]byte(in)); err != nil || got != want {
			t.Errorf("parseUnits(%s) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "1.000001", "-1", "1e5", "1.2.3", "abc", "10000000000000.00000", "99999999999999"} {
		if _, err := parseUnits([]byte(in)); !errors.Is(err, ErrInputInvalid) {
			t.Errorf("parseUnits(%q) = %v, want RISK_INPUT_INVALID", in, err)
		}
	}
}

func TestSplitArray(t *testing.T) {
	t.Parallel()
	var c chainScanner
	c.names = map[string]string{}
	for in, want := range map[string][]string{"{US,DE}": {"US", "DE"}, "{61}": {"61"}, "{}": nil, `{"A B",C}`: {"A B", "C"}, "": nil} {
		if got := c.splitArray(nil, []byte(in)); !slices.Equal(got, want) {
			t.Errorf("splitArray(%s) = %q, want %q", in, got, want)
		}
	}
}
