package settlement

import (
	"errors"
	"sort"
	"sync"
	"testing"

	"github.com/xbsettle/xbsettle/internal/apperr"
	"github.com/xbsettle/xbsettle/ledger"
)

func TestParsePair(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"USD/CNY": "USD/CNY", " jpy/cny ": "JPY/CNY", "CNY/USD": "", "USD/EUR": "",
		"CNY/CNY": "", "XXX/CNY": "", "USDCNY": "", "": ""} {
		p, err := ParsePair(in)
		switch {
		case want == "" && !errors.Is(err, ErrPairInvalid):
			t.Errorf("ParsePair(%q) = %v, %v; want FX_PAIR_INVALID", in, p, err)
		case want != "" && (err != nil || p.String() != want):
			t.Errorf("ParsePair(%q) = %v, %v; want %s", in, p, err, want)
		}
	}
}

// TestValidateRates lists, for each bad load, the field errors it must get.
func TestValidateRates(t *testing.T) {
	t.Parallel()
	today := day("2026-03-16")
	ok := boardRate("USD", "2026-03-16")
	with := func(f func(r *RateInput)) []RateInput { r := ok; f(&r); return []RateInput{r} }
	cases := []struct {
		name string
		in   []RateInput
		want []string // field:code
	}{
		{"valid", []RateInput{ok, boardRate("JPY", "2026-03-16"), boardRate("USD", "2026-03-13")}, nil},
		{"buy = parity = sell is allowed", with(func(r *RateInput) { r.Buy, r.Sell = r.Parity, r.Parity }), nil},
		{"tomorrow is allowed", with(func(r *RateInput) { r.Date = day("2026-03-17") }), nil},
		{"buy above parity", with(func(r *RateInput) { r.Buy = dec("7.2") }), []string{"rates[0].buy:RATE_ORDER"}},
		{"sell below parity", with(func(r *RateInput) { r.Sell = dec("7.1") }), []string{"rates[0].buy:RATE_ORDER"}},
		{"zero and negative", with(func(r *RateInput) { r.Parity, r.Buy = dec("0"), dec("-7.1") }),
			[]string{"rates[0].parity:AMOUNT_NOT_POSITIVE", "rates[0].buy:AMOUNT_NOT_POSITIVE"}},
		{"nine decimals", with(func(r *RateInput) { r.Sell = dec("7.145600001") }), []string{"rates[0].sell:RATE_PRECISION"}},
		{"a million", with(func(r *RateInput) { r.Sell = dec("1000000") }), []string{"rates[0].sell:AMOUNT_OUT_OF_RANGE"}},
		{"per 10", with(func(r *RateInput) { r.Unit = 10 }), []string{"rates[0].unit:UNIT_INVALID"}},
		{"no unit", with(func(r *RateInput) { r.Unit = 0 }), []string{"rates[0].unit:UNIT_INVALID"}},
		{"CNY/USD", with(func(r *RateInput) { r.Pair = Pair{"CNY", "USD"} }), []string{"rates[0].pair:PAIR_INVALID"}},
		{"USD/EUR", with(func(r *RateInput) { r.Pair = Pair{"USD", "EUR"} }), []string{"rates[0].pair:PAIR_INVALID"}},
		{"unknown currency", with(func(r *RateInput) { r.Pair = Pair{"XAU", "CNY"} }), []string{"rates[0].pair:CURRENCY_INVALID"}},
		{"no date", with(func(r *RateInput) { r.Date = day("0001-01-01") }), []string{"rates[0].date:REQUIRED"}},
		{"in two days", with(func(r *RateInput) { r.Date = day("2026-03-18") }), []string{"rates[0].date:DATE_IN_FUTURE"}},
		{"no source", with(func(r *RateInput) { r.Source = " " }), []string{"rates[0].source:REQUIRED"}},
		{"same pair and date twice", []RateInput{ok, boardRate("JPY", "2026-03-16"), ok}, []string{"rates[2].date:DUPLICATE"}},
		{"every error of a load at once", []RateInput{ok, func() RateInput { r := ok; r.Unit, r.Source = 3, ""; return r }()},
			[]string{"rates[1].unit:UNIT_INVALID", "rates[1].source:REQUIRED", "rates[1].date:DUPLICATE"}},
		{"empty", nil, []string{"rates:REQUIRED"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := validateRates(tc.in, today)
			var got []string
			if err != nil {
				var ae *apperr.Error
				if !errors.As(err, &ae) || ae.Code != "VALIDATION_FAILED" {
					t.Fatalf("err = %v, want VALIDATION_FAILED", err)
				}
				for _, f := range ae.Fields {
					got = append(got, f.Field+":"+f.Code)
				}
			}
			sort.Strings(got)
			want := append([]string(nil), tc.want...)
			sort.Strings(want)
			if len(got) != len(want) || (len(got) > 0 && !equalStrings(got, want)) {
				t.Fatalf("field errors = %v, want %v", got, want)
			}
		})
	}
	if err := validateRates(make([]RateInput, MaxRateLoad+1), today); !errors.Is(err, ErrTooManyRates) {
		t.Fatalf("a load of %d: err = %v, want BATCH_TOO_LARGE", MaxRateLoad+1, err)
	}
}

func equalStrings(a, b []string) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return len(a) == len(b)
}

// TestLoadRatesKeepsHistory loads a pair's rate twice for one date: the
// second load is in force, the first stays as it was.
func TestLoadRatesKeepsHistory(t *testing.T) {
	t.Parallel()
	b := setup(t)
	first := b.loadRates(boardRate("USD", "2026-03-16"), boardRate("JPY", "2026-03-16"))
	if first[0].Version != 1 || first[0].LoadedBy != "admin-key" || !first[0].LoadedAt.Equal(testNow) || first[1].Pair != PairOf("JPY") {
		t.Fatalf("first load = %+v", first)
	}
	fixed := boardRate("USD", "2026-03-16")
	fixed.Parity, fixed.Source = dec("7.1240"), "CFETS correction"
	second := b.loadRates(fixed)
	if second[0].Version != 2 {
		t.Fatalf("second load version = %d, want 2", second[0].Version)
	}

	h, err := b.fx.Rates(b.ctx, PairOf("USD"), day("2026-03-16"))
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Versions) != 2 || h.InForce.ID != second[0].ID || h.Versions[1].ID != first[0].ID {
		t.Fatalf("history = %+v, want the correction in force over the first load", h)
	}
	if !h.InForce.Parity.Equal(dec("7.1240")) || !h.Versions[1].Parity.Equal(dec("7.1234")) || h.Versions[1].Source != "test board" {
		t.Fatalf("parities %s (in force), %s (superseded); want 7.1240 and the untouched 7.1234", h.InForce.Parity, h.Versions[1].Parity)
	}
	if _, err := b.fx.Rates(b.ctx, PairOf("USD"), day("2026-03-15")); !errors.Is(err, ErrRateNotFound) {
		t.Fatalf("rates of a day without a load: %v, want FX_RATE_NOT_FOUND", err)
	}
	// History is kept by the database too, not only by the code.
	for _, stmt := range []string{`UPDATE fx_rates SET parity = 1 WHERE id = $1`, `DELETE FROM fx_rates WHERE id = $1`} {
		if _, err := b.db.Exec(stmt, first[0].ID); err == nil {
			t.Fatalf("%s was allowed", stmt)
		}
	}
}

// TestLoadRatesAllOrNothing: one bad rate refuses the whole load.
func TestLoadRatesAllOrNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	bad := boardRate("JPY", "2026-03-16")
	bad.Buy = dec("5")
	if _, err := b.fx.LoadRates(b.ctx, "admin-key", []RateInput{boardRate("USD", "2026-03-16"), bad}); err == nil {
		t.Fatal("a load with buy above parity was accepted")
	}
	var n int
	if err := b.db.Get(&n, `SELECT count(*) FROM fx_rates`); err != nil || n != 0 {
		t.Fatalf("%d rates stored (%v), want none", n, err)
	}
}

// TestConcurrentLoadsNumberVersions: loads racing for one pair and date each
// get a version of their own, and the last to commit is in force.
func TestConcurrentLoadsNumberVersions(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const loads = 8
	var wg sync.WaitGroup
	errs := make(chan error, loads)
	for range loads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := b.fx.LoadRates(b.ctx, "admin-key", []RateInput{boardRate("USD", "2026-03-16")})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	h, err := b.fx.Rates(b.ctx, PairOf("USD"), day("2026-03-16"))
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range h.Versions {
		if r.Version != loads-i {
			t.Fatalf("versions = %v, want %d down to 1", h.Versions, loads)
		}
	}
}

// TestRateOn: on a day without a board (a weekend) the last board is in force.
func TestRateOn(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.loadRates(boardRate("USD", "2026-03-12"), boardRate("USD", "2026-03-13"))
	for _, tc := range []struct{ on, want string }{{"2026-03-13", "2026-03-13"}, {"2026-03-15", "2026-03-13"}, {"2026-03-12", "2026-03-12"}} {
		r, err := b.fx.RateOn(b.ctx, PairOf("USD"), day(tc.on))
		if err != nil || r.Date.Format(dateLayout) != tc.want {
			t.Fatalf("RateOn(%s) = %v, %v; want the rate of %s", tc.on, r.Date, err, tc.want)
		}
	}
	if _, err := b.fx.RateOn(b.ctx, PairOf("USD"), day("2026-03-11")); !errors.Is(err, ErrRateNotFound) {
		t.Fatalf("before the first board: %v, want FX_RATE_NOT_FOUND", err)
	}
	if _, err := b.fx.RateOn(b.ctx, Pair{"CNY", ledger.Currency("USD")}, day("2026-03-13")); !errors.Is(err, ErrPairInvalid) {
		t.Fatalf("CNY/USD: %v, want FX_PAIR_INVALID", err)
	}
}
