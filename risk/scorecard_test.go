package risk

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
)

// pointsRow is one line of a hand computation: the bin a feature falls in
// and the points of that bin in models/scorecard-v1.json.
type pointsRow struct {
	feature, value, bin, points string
}

// handScored is an enterprise whose score was computed by hand.
type handScored struct {
	name    string
	in      FeatureInput
	rows    []pointsRow // in model order
	points  string      // Σ rows
	score   int
	grade   string
	limit   string
	reasons []string // top reason codes, most points lost first
}

// steadyExporter: registered 2019-03-10 (75 months before 2025-07-01).
// Every window month, ten verified chains of 50,000.00: four on P1, three
// on P2, three on P3; buyers alternately US and DE; every chain HS
// chapters 61 and 64. Over the year also 2 rejected and 3 returned chains.
// FX category A, tax class 1.
//
//	verified volume 12 × 500,000 = 6,000,000.00        [5e6, 2e7)     55.6
//	growth (1.5e6 − 1.5e6)/1.5e6 = 0                    [-0.1, 0.1)    48.1
//	volatility: twelve equal months, CV 0               [-inf, 0.25)   52.5
//	completeness 120 / (120 + 2 + 3) = 0.96             [0.9, 0.97)    47.3
//	rejection rate 2 / 125 = 0.016                      [0.01, 0.03)   47.5
//	cancellation rate 0 / 123 = 0                       [-inf, 0.02)   47.0
//	return rate 3 / 123 = 0.02439… → 0.0244             [-inf, 0.03)   48.7
//	platform HHI .4² + .3² + .3² = 0.34                 [-inf, 0.4)    47.8
//	country HHI .5² + .5² = 0.5                         [0.5, 0.8)     44.4
//	chapter HHI .5² + .5² = 0.5                         [0.3, 0.6)     45.2
//	tenure 75 months                                    [60, +inf)     52.5
//	FX category A                                                      53.9
//	tax class 1                                                        53.9
//	Σ = 644.4 → 644: AA (640-659), limit 2.5 × 500,000.00 = 1,250,000.00
//	points lost against the best bin: rejection 7.0, completeness 6.0,
//	volume 5.2, country 3.4, growth 2.9, chapter 1.2.
func steadyExporter() handScored {
	var chains []ChainFact
	for k := range 12 {
		for i := range 10 {
			c := ChainFact{At: inMonth(k), Status: ChainVerified, Platform: "P3", Countries: []string{"DE"},
				HSChapters: []string{"61", "64"}, AmountCNY: dec("50000.00")}
			switch {
			case i < 4:
				c.Platform = "P1"
			case i < 7:
				c.Platform = "P2"
			}
			if i%2 == 0 {
				c.Countries = []string{"US"}
			}
			chains = append(chains, c)
		}
	}
	chains = append(chains, chainsOf(5, 2, ChainRejected, "0")...)
	chains = append(chains, chainsOf(7, 3, ChainReturned, "50000.00")...)
	return handScored{
		name: "steady exporter",
		in:   FeatureInput{Subject: subject(day(2019, 3, 10), CategoryA, 1), Chains: chains},
		rows: []pointsRow{
			{"verified_volume_12m", "6000000.00", "[5000000, 20000000)", "55.6"},
			{"growth_3m", "0.0000", "[-0.1, 0.1)", "48.1"},
			{"volatility_12m", "0.0000", "[-inf, 0.25)", "52.5"},
			{"completeness_12m", "0.9600", "[0.9, 0.97)", "47.3"},
			{"rejection_rate_12m", "0.0160", "[0.01, 0.03)", "47.5"},
			{"cancellation_rate_12m", "0.0000", "[-inf, 0.02)", "47.0"},
			{"return_rate_12m", "0.0244", "[-inf, 0.03)", "48.7"},
			{"hhi_platform_12m", "0.3400", "[-inf, 0.4)", "47.8"},
			{"hhi_country_12m", "0.5000", "[0.5, 0.8)", "44.4"},
			{"hhi_hs_chapter_12m", "0.5000", "[0.3, 0.6)", "45.2"},
			{"tenure_months", "75", "[60, +inf)", "52.5"},
			{"fx_category", "A", "A", "53.9"},
			{"tax_class", "1", "1", "53.9"},
		},
		points: "644.4", score: 644, grade: "AA", limit: "1250000",
		reasons: []string{"HIGH_REJECTION_RATE", "LOW_CHAIN_COMPLETENESS", "LOW_VERIFIED_VOLUME", "COUNTRY_CONCENTRATION"},
	}
}

// youngSeller: registered 2024-11-01, 242 days (8 window months, 8 calendar
// months) before as-of. One platform, one country (US), one chapter (33).
// Verified: months 1-3 three chains of 40,000 a month; months 4-6 two of
// 30,000; months 7-8 one of 30,000. Also 3 rejected and 1 cancelled chain.
// FX category B, no tax class.
//
//	verified volume 360,000 + 180,000 + 60,000 = 600,000.00   [1e5, 1e6)     38.3
//	growth (360,000 − 180,000) / 360,000 = 0.5                 [0.1, 0.6)     51.0
//	volatility over 8 months, in 30,000s 4 4 4 2 2 2 1 1:
//	  n·Σx² − (Σx)² = 8·62 − 20² = 96, CV = √96 / 20 = 0.48990  [0.25, 0.5)    48.1
//	completeness 17 / 21 = 0.8095                             [0.8, 0.9)     37.2
//	rejection rate 3 / 21 = 0.1429                            [0.08, +inf)   19.8
//	cancellation rate 1 / (17 + 1) = 0.0556                   [0.05, 0.1)    42.6
//	return rate 0 / 18 = 0                                    [-inf, 0.03)   48.7
//	platform, country, chapter HHI 1      [0.7, +inf) 42.6, [0.8, +inf) 41.8, [0.6, +inf) 44.1
//	tenure 8 months                                           [-inf, 12)     33.7
//	FX category B                                                            27.9
//	tax class none                                                           45.2
//	Σ = 521.0 → 521: C (below 530), limit 0 × 50,000.00 = 0
//	points lost: rejection 34.7, FX 26.0, volume 22.5, tenure 18.8, …
func youngSeller() handScored {
	var chains []ChainFact
	for k := range 3 {
		chains = append(chains, chainsOf(k, 3, ChainVerified, "40000")...)
		chains = append(chains, chainsOf(k+3, 2, ChainVerified, "30000")...)
	}
	chains = append(chains, chainsOf(6, 1, ChainVerified, "30000")...)
	chains = append(chains, chainsOf(7, 1, ChainVerified, "30000")...)
	chains = append(chains, chainsOf(1, 3, ChainRejected, "40000")...)
	chains = append(chains, chainsOf(2, 1, ChainCancelled, "40000")...)
	for i := range chains {
		chains[i].HSChapters = []string{"33"}
	}
	return handScored{
		name: "young seller",
		in:   FeatureInput{Subject: subject(day(2024, 11, 1), CategoryB, 0), Chains: chains},
		rows: []pointsRow{
			{"verified_volume_12m", "600000.00", "[100000, 1000000)", "38.3"},
			{"growth_3m", "0.5000", "[0.1, 0.6)", "51.0"},
			{"volatility_12m", "0.4899", "[0.25, 0.5)", "48.1"},
			{"completeness_12m", "0.8095", "[0.8, 0.9)", "37.2"},
			{"rejection_rate_12m", "0.1429", "[0.08, +inf)", "19.8"},
			{"cancellation_rate_12m", "0.0556", "[0.05, 0.1)", "42.6"},
			{"return_rate_12m", "0.0000", "[-inf, 0.03)", "48.7"},
			{"hhi_platform_12m", "1.0000", "[0.7, +inf)", "42.6"},
			{"hhi_country_12m", "1.0000", "[0.8, +inf)", "41.8"},
			{"hhi_hs_chapter_12m", "1.0000", "[0.6, +inf)", "44.1"},
			{"tenure_months", "8", "[-inf, 12)", "33.7"},
			{"fx_category", "B", "B", "27.9"},
			{"tax_class", "none", "none", "45.2"},
		},
		points: "521.0", score: 521, grade: "C", limit: "0",
		reasons: []string{"HIGH_REJECTION_RATE", "FX_CATEGORY", "LOW_VERIFIED_VOLUME", "SHORT_TENURE"},
	}
}

// largeImporter: registered 2022-12-20 (30 months). Four verified chains a
// month on four platforms (P1-P4 in turn), each naming US, GB, DE and FR
// and chapter 85: months 1-3 of 375,000 (1.5M a month), months 4-6 of
// 625,000 (2.5M), months 7-12 of 500,000 (2M). Also 1 incomplete and 5
// returned chains. FX category A, tax class 3.
//
//	verified volume 4.5M + 7.5M + 12M = 24,000,000.00         [2e7, +inf)    60.8
//	growth (4.5M − 7.5M) / 7.5M = −0.4                         [-0.5, -0.1)   40.9
//	volatility, in 0.5M: 3 3 3 5 5 5 4 4 4 4 4 4:
//	  12·198 − 48² = 72, CV = √72 / 48 = 0.17678              [-inf, 0.25)   52.5
//	completeness 48 / 54 = 0.8889                             [0.8, 0.9)     37.2
//	rejection rate 0 / 54 = 0                                 [-inf, 0.01)   54.5
//	cancellation rate 0 / 53 = 0                              [-inf, 0.02)   47.0
//	return rate 5 / 53 = 0.0943                               [0.08, 0.15)   40.6
//	platform HHI 4 × .25² = 0.25                              [-inf, 0.4)    47.8
//	country HHI 4 × .25² = 0.25, on the bin's lower bound     [0.25, 0.5)    46.1
//	chapter HHI 1                                             [0.6, +inf)    44.1
//	tenure 30 months                                          [24, 60)       48.1
//	FX category A                                                            53.9
//	tax class 3                                                              40.0
//	Σ = 613.5 → 614 (half-up): BBB (600-619),
//	limit 1.5 × 2,000,000.00 = 3,000,000.00
//	points lost: completeness 16.1, tax 13.9, growth 10.1, return 8.1, …
func largeImporter() handScored {
	amounts := []string{"375000", "375000", "375000", "625000", "625000", "625000"}
	var chains []ChainFact
	for k := range 12 {
		amount := "500000"
		if k < len(amounts) {
			amount = amounts[k]
		}
		for _, p := range []string{"P1", "P2", "P3", "P4"} {
			chains = append(chains, ChainFact{At: inMonth(k), Status: ChainVerified, Platform: p,
				Countries: []string{"US", "GB", "DE", "FR"}, HSChapters: []string{"85"}, AmountCNY: dec(amount)})
		}
	}
	chains = append(chains, chainsOf(0, 1, ChainIncomplete, "0")...)
	chains = append(chains, chainsOf(9, 5, ChainReturned, "500000")...)
	return handScored{
		name: "large importer",
		in:   FeatureInput{Subject: subject(day(2022, 12, 20), CategoryA, 3), Chains: chains},
		rows: []pointsRow{
			{"verified_volume_12m", "24000000.00", "[20000000, +inf)", "60.8"},
			{"growth_3m", "-0.4000", "[-0.5, -0.1)", "40.9"},
			{"volatility_12m", "0.1768", "[-inf, 0.25)", "52.5"},
			{"completeness_12m", "0.8889", "[0.8, 0.9)", "37.2"},
			{"rejection_rate_12m", "0.0000", "[-inf, 0.01)", "54.5"},
			{"cancellation_rate_12m", "0.0000", "[-inf, 0.02)", "47.0"},
			{"return_rate_12m", "0.0943", "[0.08, 0.15)", "40.6"},
			{"hhi_platform_12m", "0.2500", "[-inf, 0.4)", "47.8"},
			{"hhi_country_12m", "0.2500", "[0.25, 0.5)", "46.1"},
			{"hhi_hs_chapter_12m", "1.0000", "[0.6, +inf)", "44.1"},
			{"tenure_months", "30", "[24, 60)", "48.1"},
			{"fx_category", "A", "A", "53.9"},
			{"tax_class", "3", "3", "40.0"},
		},
		points: "613.5", score: 614, grade: "BBB", limit: "3000000",
		reasons: []string{"LOW_CHAIN_COMPLETENESS", "TAX_CLASS", "UNFAVOURABLE_GROWTH", "HIGH_RETURN_RATE"},
	}
}

func TestScoreHandComputedEnterprises(t *testing.T) {
	t.Parallel()
	model := mustScorecard(t)
	for _, e := range []handScored{steadyExporter(), youngSeller(), largeImporter()} {
		f := mustFeatures(t, e.in)
		a := model.Score(f)
		var got []pointsRow
		sum := decimal.Zero
		for _, p := range a.Breakdown {
			got = append(got, pointsRow{p.Feature, p.Value, p.Bin, p.Points.StringFixed(1)})
			sum = sum.Add(p.Points)
		}
		if !reflect.DeepEqual(got, e.rows) {
			t.Errorf("%s: breakdown\n got %v\nwant %v", e.name, got, e.rows)
		}
		if !sum.Equal(dec(e.points)) || !a.Points.Equal(dec(e.points)) {
			t.Errorf("%s: points %s (rows sum to %s), want %s", e.name, a.Points, sum, e.points)
		}
		var reasons []string
		for _, r := range a.Reasons {
			reasons = append(reasons, r.Code)
		}
		if a.Score != e.score || a.Grade != e.grade || !a.RecommendedLimitCNY.Equal(dec(e.limit)) || !reflect.DeepEqual(reasons, e.reasons) {
			t.Errorf("%s: score %d grade %s limit %s reasons %v; want %d %s %s %v",
				e.name, a.Score, a.Grade, a.RecommendedLimitCNY, reasons, e.score, e.grade, e.limit, e.reasons)
		}
		if a.ModelVersion != "scorecard-v1" || a.InputHash != f.Hash() || len(a.InputHash) != 64 {
			t.Errorf("%s: model %q hash %q", e.name, a.ModelVersion, a.InputHash)
		}
	}
}

// Reasons carry the value, the bin and the points lost.
func TestScoreReasonDetail(t *testing.T) {
	t.Parallel()
	e := youngSeller()
	a := mustScorecard(t).Score(mustFeatures(t, e.in))
	want := ScoreReason{Code: "HIGH_REJECTION_RATE", Feature: "rejection_rate_12m", Value: "0.1429", Bin: "[0.08, +inf)", PointsLost: dec("34.7")}
	if got := a.Reasons[0]; got.Code != want.Code || got.Feature != want.Feature || got.Value != want.Value || got.Bin != want.Bin || !got.PointsLost.Equal(want.PointsLost) {
		t.Errorf("first reason %+v, want %+v", got, want)
	}
}

func TestRoundHalfUp(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]int{"613.5": 614, "613.49": 613, "613.51": 614, "-0.5": 0, "-1.5": -1, "-1.51": -2, "0": 0} {
		if got := RoundHalfUp(dec(in)); got != want {
			t.Errorf("RoundHalfUp(%s) = %d, want %d", in, got, want)
		}
	}
}

func TestGradesAndLimit(t *testing.T) {
	t.Parallel()
	m := mustScorecard(t)
	for score, want := range map[int]string{670: "AAA", 660: "AAA", 659: "AA", 640: "AA", 620: "A", 619: "BBB", 580: "BB", 560: "B", 559: "CCC", 530: "CCC", 529: "C", 0: "C", -5: "C"} {
		if got := m.grade(score).Grade; got != want {
			t.Errorf("grade(%d) = %s, want %s", score, got, want)
		}
	}
	basis := func(s string) FeatureValue { return amountValue("avg_monthly_volume_12m", dec(s)) }
	for _, tc := range []struct{ grade, basis, want string }{
		{"AAA", "1234567.89", "3703000"},  // 3 × 1,234,567.89 = 3,703,703.67 → down to 1,000
		{"AA", "999.99", "2000"},          // 2,499.975 → 2,000
		{"AAA", "3333333.34", "10000000"}, // 10,000,000.02 → 10,000,000: the cap
		{"AAA", "9000000", "10000000"},    // capped
		{"CCC", "9000000", "0"},
	} {
		var g Grade
		for _, x := range m.Grades {
			if x.Grade == tc.grade {
				g = x
			}
		}
		if got := m.limit(g, basis(tc.basis)); !got.Equal(dec(tc.want)) {
			t.Errorf("limit(%s, %s) = %s, want %s", tc.grade, tc.basis, got, tc.want)
		}
	}
}

func TestLoadScorecard(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"scorecard-v0", "../models/scorecard-v1", ""} {
		if _, err := LoadScorecard(v); !errors.Is(err, ErrScorecardNotFound) {
			t.Errorf("LoadScorecard(%q) = %v, want SCORECARD_VERSION_NOT_FOUND", v, err)
		}
	}
	m := mustScorecard(t)
	// The categorical features are ordered by hand: check them here.
	pts := func(feature, value string) decimal.Decimal {
		for _, f := range m.Features {
			if f.Name == feature {
				p, _ := f.score(categoryValue(feature, value))
				return p
			}
		}
		t.Fatalf("no feature %s", feature)
		return decimal.Zero
	}
	if !(pts("fx_category", "A").GreaterThan(pts("fx_category", "B")) && pts("fx_category", "B").GreaterThan(pts("fx_category", "C"))) {
		t.Error("FX points are not A > B > C")
	}
	for _, pair := range [][2]string{{"1", "2"}, {"2", "none"}, {"none", "3"}, {"3", "4"}} {
		if !pts("tax_class", pair[0]).GreaterThan(pts("tax_class", pair[1])) {
			t.Errorf("tax class %s does not score above %s", pair[0], pair[1])
		}
	}
}

// A model that breaks a rule of ParseScorecard is refused, naming it.
func TestParseScorecardRefusesBadModels(t *testing.T) {
	t.Parallel()
	good, err := modelFiles.ReadFile("models/scorecard-v1.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, from, to, want string }{
		{"points off their woe", `"woe": 0.9, "points": "60.8"`, `"woe": 0.9, "points": "61.8"`, "woe 0.9 gives 60.8"},
		{"not monotone", `{"min": "0.01", "max": "0.03", "woe": 0.1, "points": "47.5"}`, `{"min": "0.01", "max": "0.03", "woe": 0.5, "points": "57.4"}`, "not decreasing"},
		{"missing better than worst", `"missing": {"woe": -1.2, "points": "24.5"}`, `"missing": {"woe": 0, "points": "45.2"}`, "missing scores"},
		{"gap between bins", `{"min": "1000000", "max": "5000000"`, `{"min": "1000001", "max": "5000000"`, "does not start"},
		{"unknown feature", `"name": "tenure_months"`, `"name": "tenure_years"`, "no such feature"},
		{"unknown field", `"top_reasons": 4`, `"top_reasons": 4, "bias": 1`, "unknown field"},
		{"grades out of order", `"min_score": 640`, `"min_score": 700`, "scores must fall"},
		{"lowest grade too high", `{"grade": "C", "min_score": 0`, `{"grade": "C", "min_score": 500`, "lowest possible score"},
		{"value in two bins", `{"values": ["B"]`, `{"values": ["A"]`, "in two bins"},
		{"reason code case", `"LOW_VERIFIED_VOLUME"`, `"low_volume"`, "UPPER_SNAKE"},
	} {
		bad := strings.Replace(string(good), tc.from, tc.to, 1)
		if bad == string(good) {
			t.Fatalf("%s: the edit did not apply", tc.name)
		}
		if _, err := ParseScorecard([]byte(bad)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}
