package risk

import (
	"errors"
	"testing"
	"time"
)

// asOf is the as-of instant of the feature tests.
var asOf = day(2025, 7, 1)

// inMonth is the middle of window month k (0 is the latest 30 days).
func inMonth(k int) time.Time { return asOf.Add(-time.Duration(30*k+15) * 24 * time.Hour) }

func subject(registered time.Time, fx Category, taxClass int) Subject {
	return Subject{AsOf: asOf, RegisteredAt: registered, FXCategory: fx, TaxClass: taxClass}
}

// chainsOf returns n chains of status in window month k, each of amount.
func chainsOf(k, n int, status ChainStatus, amount string) []ChainFact {
	out := make([]ChainFact, n)
	for i := range out {
		out[i] = ChainFact{At: inMonth(k), Status: status, Platform: "P1", Countries: []string{"US"}, HSChapters: []string{"61"}, AmountCNY: dec(amount)}
	}
	return out
}

func mustFeatures(t *testing.T, in FeatureInput) Features {
	t.Helper()
	f, err := ComputeFeatures(in)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func wantValues(t *testing.T, f Features, want map[string]string) {
	t.Helper()
	got := map[string]string{}
	for _, v := range f.Values() {
		got[v.Name] = v.Text
	}
	for name, w := range want {
		if g, ok := got[name]; !ok || g != w {
			t.Errorf("%s = %q, want %q", name, g, w)
		}
	}
}

// A window month is 30 days back from the as-of instant, which is included;
// the 12-month window is 360 days.
func TestFeaturesPlaceChainsInWindows(t *testing.T) {
	t.Parallel()
	at := func(d time.Duration) ChainFact {
		return ChainFact{At: asOf.Add(-d), Status: ChainVerified, Platform: "P", AmountCNY: dec("1")}
	}
	const dayLen = 24 * time.Hour
	f := mustFeatures(t, FeatureInput{Subject: subject(day(2020, 1, 1), CategoryA, 0), Chains: []ChainFact{
		at(0),                            // the as-of instant: month 1
		at(30*dayLen - time.Nanosecond),  // still month 1
		at(30 * dayLen),                  // month 2
		at(90*dayLen - time.Nanosecond),  // month 3: inside the 3-month window
		at(90 * dayLen),                  // month 4
		at(180 * dayLen),                 // month 7
		at(360*dayLen - time.Nanosecond), // month 12
		at(360 * dayLen),                 // too old
		at(-time.Nanosecond),             // after the as-of instant
	}})
	wantValues(t, f, map[string]string{
		"verified_count_3m": "4", "verified_count_6m": "5", "verified_count_12m": "7",
		"verified_volume_3m": "4.00", "verified_volume_12m": "7.00",
	})
}

func TestFeaturesCountsAndRates(t *testing.T) {
	t.Parallel()
	var chains []ChainFact
	chains = append(chains, chainsOf(0, 90, ChainVerified, "10")...)
	chains = append(chains, chainsOf(1, 4, ChainRejected, "10")...)
	chains = append(chains, chainsOf(1, 2, ChainIncomplete, "10")...)
	chains = append(chains, chainsOf(2, 3, ChainCancelled, "10")...)
	chains = append(chains, chainsOf(4, 7, ChainReturned, "10")...)
	chains = append(chains, chainsOf(4, 10, ChainVerified, "10")...)
	f := mustFeatures(t, FeatureInput{Subject: subject(day(2020, 1, 1), CategoryA, 0), Chains: chains})
	wantValues(t, f, map[string]string{
		// 3 months: 90 verified, 4 rejected, 2 incomplete, 3 cancelled = 99.
		"submitted_count_3m": "99", "verified_count_3m": "90", "rejected_count_3m": "4",
		"incomplete_count_3m": "2", "cancelled_count_3m": "3", "returned_count_3m": "0",
		"completeness_3m":      "0.9091", // 90/99
		"rejection_rate_3m":    "0.0404", // 4/99
		"cancellation_rate_3m": "0.0323", // 3/(90+3): rejected chains do not dilute it
		"return_rate_3m":       "0.0000",
		// 6 months add 7 returned and 10 verified: 116 submitted, 100 verified.
		"completeness_6m": "0.8621", "rejection_rate_6m": "0.0345",
		"cancellation_rate_6m": "0.0273", // 3/110
		"return_rate_6m":       "0.0636", // 7/110
		"verified_volume_6m":   "1000.00",
	})
	empty := mustFeatures(t, FeatureInput{Subject: subject(day(2020, 1, 1), CategoryA, 0)})
	wantValues(t, empty, map[string]string{
		"completeness_12m": "null", "rejection_rate_12m": "null", "return_rate_12m": "null",
		"growth_3m": "null", "volatility_12m": "null", "hhi_platform_12m": "null",
		"fund_goods_ratio_12m": "null", "verified_volume_12m": "0.00", "avg_monthly_volume_12m": "0.00",
	})
}

func TestFeaturesGrowthAndVolatility(t *testing.T) {
	t.Parallel()
	// Registered 120 days before as-of: 4 observed months. Monthly volumes
	// 100, 100, 100, 500 (months 1-4): mean 200, population variance
	// (3·100² + 300²)/4 = 30,000, CV = √30000/200 = 0.866025… → 0.8660.
	// Growth: L = 300 (months 1-3), P = 500 (months 4-6): (300−500)/500 = −0.4.
	var chains []ChainFact
	for k, amount := range []string{"100", "100", "100", "500"} {
		chains = append(chains, chainsOf(k, 1, ChainVerified, amount)...)
	}
	reg := asOf.Add(-120 * 24 * time.Hour)
	f := mustFeatures(t, FeatureInput{Subject: subject(reg, CategoryA, 0), Chains: chains})
	wantValues(t, f, map[string]string{"observed_months": "4", "volatility_12m": "0.8660", "growth_3m": "-0.4000"})

	// A day less: 3 observed months (100, 100, 100): CV 0.
	f = mustFeatures(t, FeatureInput{Subject: subject(reg.Add(24*time.Hour), CategoryA, 0), Chains: chains})
	wantValues(t, f, map[string]string{"observed_months": "3", "volatility_12m": "0.0000"})
	// Under 3 observed months there is no volatility.
	f = mustFeatures(t, FeatureInput{Subject: subject(asOf.Add(-89*24*time.Hour), CategoryA, 0), Chains: chains})
	wantValues(t, f, map[string]string{"observed_months": "2", "volatility_12m": "null"})
}

// For two months CV = |a − b| / (a + b), a rational: 24,690 / 200,000 is
// 0.12345 exactly and rounds half-up to 0.1235; 24,688 / 200,000 = 0.12344.
func TestCoefficientOfVariationRoundsHalfUp(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		a, b int64
		want string
	}{{112345, 87655, "0.1235"}, {112344, 87656, "0.1234"}, {1, 3, "0.5000"}, {7, 7, "0.0000"}, {0, 5, "1.0000"}} {
		var xs [2]u128
		xs[0].add(tc.a)
		xs[1].add(tc.b)
		got, ok := coefficientOfVariation(xs[:])
		if !ok || got.StringFixed(4) != tc.want {
			t.Errorf("CV(%d, %d) = %s, want %s", tc.a, tc.b, got.StringFixed(4), tc.want)
		}
	}
}

// HHI of platforms 600/300/100 is .36 + .09 + .01 = .46. A chain with
// several countries counts fully toward each (duplicates once), one without
// adds nothing: US 900, DE 600 → (.6)² + (.4)² = .52. Chapters: 61 1,000,
// 62 600, 64 100 → (1000² + 600² + 100²)/1700² = 1,370,000/2,890,000 = .474048….
func TestFeaturesConcentration(t *testing.T) {
	t.Parallel()
	c := func(platform string, amount string, countries, chapters []string) ChainFact {
		return ChainFact{At: inMonth(3), Status: ChainVerified, Platform: platform, Countries: countries, HSChapters: chapters, AmountCNY: dec(amount)}
	}
	f := mustFeatures(t, FeatureInput{Subject: subject(day(2020, 1, 1), CategoryA, 0), Chains: []ChainFact{
		c("P1", "600", []string{"US", "US", "DE"}, []string{"61", "62", "61"}),
		c("P2", "300", []string{"US"}, []string{"61"}),
		c("P3", "100", nil, []string{"61", "64"}),
	}, Funds: []FundFact{
		{At: inMonth(0), Direction: Receipt, AmountCNY: dec("700")},
		{At: inMonth(11), Direction: Payment, AmountCNY: dec("250.5")},
		{At: inMonth(12), Direction: Receipt, AmountCNY: dec("999")}, // too old
	}})
	wantValues(t, f, map[string]string{
		"hhi_platform_12m": "0.4600", "hhi_country_12m": "0.5200", "hhi_hs_chapter_12m": "0.4740",
		"funds_3m": "700.00", "funds_12m": "950.50", "fund_goods_ratio_12m": "0.9505",
		"avg_monthly_volume_12m": "83.33", // 1000 / 12
	})
}

func TestFeaturesRefuseBadFacts(t *testing.T) {
	t.Parallel()
	s := subject(day(2020, 1, 1), CategoryA, 1)
	v := func(amount string) ChainFact {
		return ChainFact{At: inMonth(0), Status: ChainVerified, Platform: "P", AmountCNY: dec(amount)}
	}
	for name, in := range map[string]FeatureInput{
		"unknown status":      {Subject: s, Chains: []ChainFact{{At: inMonth(0), Status: "settled"}}},
		"unknown status, old": {Subject: s, Chains: []ChainFact{{At: inMonth(20), Status: "settled"}}},
		"negative amount":     {Subject: s, Chains: []ChainFact{v("-1")}},
		"six decimals":        {Subject: s, Chains: []ChainFact{v("1.000001")}},
		"too large":           {Subject: s, Chains: []ChainFact{v("10000000000000")}},
		"no platform":         {Subject: s, Chains: []ChainFact{{At: inMonth(0), Status: ChainVerified, AmountCNY: dec("1")}}},
		"unknown direction":   {Subject: s, Funds: []FundFact{{At: inMonth(0), Direction: "refund", AmountCNY: dec("1")}}},
		"no as-of":            {Subject: Subject{RegisteredAt: day(2020, 1, 1), FXCategory: CategoryA}},
		"registered after":    {Subject: subject(day(2026, 1, 1), CategoryA, 0)},
		"no FX category":      {Subject: subject(day(2020, 1, 1), "", 0)},
		"tax class 5":         {Subject: subject(day(2020, 1, 1), CategoryA, 5)},
	} {
		if _, err := ComputeFeatures(in); !errors.Is(err, ErrInputInvalid) {
			t.Errorf("%s: err = %v, want RISK_INPUT_INVALID", name, err)
		}
	}
	// A rejected chain's amount is not read, so it is not checked.
	if _, err := ComputeFeatures(FeatureInput{Subject: s, Chains: []ChainFact{{At: inMonth(0), Status: ChainRejected, AmountCNY: dec("-5")}}}); err != nil {
		t.Errorf("rejected chain with a bad amount: %v", err)
	}
}

func TestToUnits(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]int64{
		"0": 0, "1": 100000, "1.00000": 100000, "1.0000000": 100000, "0.00001": 1,
		"123e3": 12300000000, "9999999999999.99999": 999999999999999999, "0e20": 0,
	} {
		if got, err := toUnits(dec(in)); err != nil || got != want {
			t.Errorf("toUnits(%s) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"-0.00001", "0.000001", "1e13", "10000000000000.00000", "1e-30", "123456789012345678901"} {
		if got, err := toUnits(dec(in)); err == nil {
			t.Errorf("toUnits(%s) = %d, want an error", in, got)
		}
	}
}
