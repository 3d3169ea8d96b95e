package risk

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// cleanInput is an established one-way exporter whose figures hit no rule:
// goods 10,000,000 = funds, 1,000 chains all verified.
func cleanInput() ClassificationInput {
	return ClassificationInput{
		PeriodStart: day(2024, 1, 1), PeriodEnd: day(2025, 1, 1), RegisteredAt: day(2018, 5, 20),
		ExportsCNY: dec("10000000.00"), ImportsCNY: dec("0"),
		ReceiptsCNY: dec("10000000.00"), PaymentsCNY: dec("0"),
		Chains: ChainCounts{Submitted: 1000, Verified: 1000},
	}
}

// flows sets goods and funds of a one-way exporter.
func flows(exports, receipts string) func(*ClassificationInput) {
	return func(in *ClassificationInput) { in.ExportsCNY, in.ReceiptsCNY = dec(exports), dec(receipts) }
}

// twoWay sets the four flows.
func twoWay(exports, imports, receipts, payments string) func(*ClassificationInput) {
	return func(in *ClassificationInput) {
		in.ExportsCNY, in.ImportsCNY, in.ReceiptsCNY, in.PaymentsCNY = dec(exports), dec(imports), dec(receipts), dec(payments)
	}
}

func chains(submitted, rejected, unverified int) func(*ClassificationInput) {
	return func(in *ClassificationInput) {
		in.Chains = ChainCounts{Submitted: submitted, Rejected: rejected, Unverified: unverified, Verified: submitted - rejected - unverified}
	}
}

func violations(vs ...Violation) func(*ClassificationInput) {
	return func(in *ClassificationInput) { in.Violations = vs }
}

func minor(ref string, at time.Time) Violation {
	return Violation{Ref: ref, Severity: SeverityMinor, At: at}
}

// r abbreviates a reason: code, category, value, op, threshold.
func r(code string, cat Category, value, op, threshold string) Reason {
	return Reason{Code: code, Category: cat, Value: value, Op: op, Threshold: threshold}
}

// One case per rule of fx-v1, and the boundaries on each threshold: a value
// exactly on a threshold gets the milder category.
func TestClassifyRules(t *testing.T) {
	t.Parallel()
	th := mustThresholds(t)
	mid := day(2024, 6, 1)
	for _, tc := range []struct {
		name    string
		edit    func(*ClassificationInput)
		want    Category
		reasons []Reason
	}{
		{"clean", func(*ClassificationInput) {}, CategoryA, nil},
		{"no trade", flows("0", "0"), CategoryA, []Reason{r("NO_TRADE", CategoryA, "0.00", "=", "0.00")}},
		{"funds without goods", flows("0", "0.01"), CategoryC, []Reason{r("FUNDS_WITHOUT_GOODS", CategoryC, "0.01", ">", "0.00")}},
		// Below CNY 500,000 of difference the total-difference rule is silent,
		// which isolates the fund-to-goods ratio.
		{"ratio on the A band's top", flows("1000000", "1200000"), CategoryA, nil},
		{"ratio above A rounds to 1.2001", flows("1000000", "1200050"), CategoryB,
			[]Reason{r("FUND_GOODS_RATIO_HIGH", CategoryB, "1.2001", ">", "1.2000")}},
		{"ratio 1.2 + half a unit rounds down", flows("1000000", "1200049.99"), CategoryA, nil},
		{"ratio high B", flows("1000000", "1300000"), CategoryB,
			[]Reason{r("FUND_GOODS_RATIO_HIGH", CategoryB, "1.3000", ">", "1.2000")}},
		{"ratio on the B band's top", flows("400000", "800000"), CategoryB,
			[]Reason{r("FUND_GOODS_RATIO_HIGH", CategoryB, "2.0000", ">", "1.2000")}},
		{"ratio high C", flows("200000", "450000"), CategoryC,
			[]Reason{r("FUND_GOODS_RATIO_HIGH", CategoryC, "2.2500", ">", "2.0000")}},
		{"ratio on the A band's bottom", flows("1000000", "800000"), CategoryA, nil},
		{"ratio low B", flows("1000000", "700000"), CategoryB,
			[]Reason{r("FUND_GOODS_RATIO_LOW", CategoryB, "0.7000", "<", "0.8000")}},
		{"ratio on the B band's bottom", flows("800000", "400000"), CategoryB,
			[]Reason{r("FUND_GOODS_RATIO_LOW", CategoryB, "0.5000", "<", "0.8000")}},
		// Difference 600,000 is material; the ratio 0.6 is exactly its C threshold.
		{"ratio low C", flows("1000000", "400000"), CategoryC, []Reason{
			r("FUND_GOODS_RATIO_LOW", CategoryC, "0.4000", "<", "0.5000"),
			r("TOTAL_DIFFERENCE_HIGH", CategoryB, "0.6000", ">", "0.2500")}},
		// Two-way traders whose fund-to-goods ratio is exactly 1: receipts and
		// payments each miss their goods, and the misses cancel in the ratio.
		{"total difference on B", twoWay("5000000", "5000000", "6250000", "3750000"), CategoryA, nil},
		{"total difference B", twoWay("5000000", "5000000", "8000000", "2000000"), CategoryB,
			[]Reason{r("TOTAL_DIFFERENCE_HIGH", CategoryB, "0.6000", ">", "0.2500")}},
		{"total difference C", twoWay("5000000", "5000000", "8500000", "1500000"), CategoryC,
			[]Reason{r("TOTAL_DIFFERENCE_HIGH", CategoryC, "0.7000", ">", "0.6000")}},
		{"difference exactly material", twoWay("500000", "500000", "750000", "250000"), CategoryB,
			[]Reason{r("TOTAL_DIFFERENCE_HIGH", CategoryB, "0.5000", ">", "0.2500")}},
		{"difference a fen short of material", twoWay("500000", "500000", "749999.99", "250000.01"), CategoryA, nil},
		{"rejected on B", chains(100, 5, 0), CategoryA, nil},
		{"rejected B", chains(100, 6, 0), CategoryB, []Reason{r("REJECTED_CHAINS_HIGH", CategoryB, "0.0600", ">", "0.0500")}},
		{"rejected on C", chains(100, 20, 0), CategoryB, []Reason{r("REJECTED_CHAINS_HIGH", CategoryB, "0.2000", ">", "0.0500")}},
		{"rejected C", chains(100, 21, 0), CategoryC, []Reason{r("REJECTED_CHAINS_HIGH", CategoryC, "0.2100", ">", "0.2000")}},
		{"too few chains to judge", chains(19, 19, 0), CategoryA, nil},
		{"just enough chains", chains(20, 20, 0), CategoryC, []Reason{r("REJECTED_CHAINS_HIGH", CategoryC, "1.0000", ">", "0.2000")}},
		{"unverified on B", chains(100, 0, 10), CategoryA, nil},
		{"unverified B", chains(100, 0, 11), CategoryB, []Reason{r("UNVERIFIED_CHAINS_HIGH", CategoryB, "0.1100", ">", "0.1000")}},
		{"unverified C", chains(100, 0, 31), CategoryC, []Reason{r("UNVERIFIED_CHAINS_HIGH", CategoryC, "0.3100", ">", "0.3000")}},
		{"reporting gap B", func(in *ClassificationInput) { in.MissingReportMonths = 1 }, CategoryB,
			[]Reason{r("REPORTING_GAPS", CategoryB, "1", ">=", "1")}},
		{"reporting gaps C", func(in *ClassificationInput) { in.MissingReportMonths = 3 }, CategoryC,
			[]Reason{r("REPORTING_GAPS", CategoryC, "3", ">=", "3")}},
		{"late reports below B", func(in *ClassificationInput) { in.LateReports = 2 }, CategoryA, nil},
		{"late reports B", func(in *ClassificationInput) { in.LateReports = 3 }, CategoryB,
			[]Reason{r("LATE_REPORTS", CategoryB, "3", ">=", "3")}},
		{"late reports C", func(in *ClassificationInput) { in.LateReports = 10 }, CategoryC,
			[]Reason{r("LATE_REPORTS", CategoryC, "10", ">=", "10")}},
		{"minor violation B", violations(minor("V1", mid)), CategoryB, []Reason{r("VIOLATIONS", CategoryB, "1", ">=", "1")}},
		{"minor violations C", violations(minor("V1", mid), minor("V2", mid), minor("V3", mid)), CategoryC,
			[]Reason{r("VIOLATIONS", CategoryC, "3", ">=", "3")}},
		{"violations outside the period", violations(minor("old", day(2023, 12, 31)), minor("new", day(2025, 1, 1))), CategoryA, nil},
		{"violation on the period's first instant", violations(minor("V1", day(2024, 1, 1))), CategoryB,
			[]Reason{r("VIOLATIONS", CategoryB, "1", ">=", "1")}},
		{"serious violation", violations(Violation{Ref: "S1", Severity: SeveritySerious, At: mid}), CategoryC,
			[]Reason{r("SERIOUS_VIOLATIONS", CategoryC, "1", ">=", "1")}},
		{"guidance period waives the figures", func(in *ClassificationInput) {
			in.RegisteredAt = day(2024, 3, 1)
			flows("200000", "450000")(in)
			in.MissingReportMonths = 3
		}, CategoryA, []Reason{
			{Code: "FUND_GOODS_RATIO_HIGH", Category: CategoryC, Value: "2.2500", Op: ">", Threshold: "2.0000", Waived: true},
			{Code: "REPORTING_GAPS", Category: CategoryC, Value: "3", Op: ">=", Threshold: "3", Waived: true},
			r("GUIDANCE_PERIOD", CategoryA, "10", "<", "12")}},
		{"a violation ends the guidance", func(in *ClassificationInput) {
			in.RegisteredAt = day(2024, 3, 1)
			flows("200000", "450000")(in)
			in.Violations = []Violation{minor("V1", mid)}
		}, CategoryC, []Reason{
			r("FUND_GOODS_RATIO_HIGH", CategoryC, "2.2500", ">", "2.0000"),
			r("VIOLATIONS", CategoryB, "1", ">=", "1")}},
		{"twelve whole months is past guidance", func(in *ClassificationInput) {
			in.RegisteredAt = day(2024, 1, 1)
			in.MissingReportMonths = 1
		}, CategoryB, []Reason{r("REPORTING_GAPS", CategoryB, "1", ">=", "1")}},
		{"a day short of twelve months is guidance", func(in *ClassificationInput) {
			in.RegisteredAt = day(2024, 1, 2)
			in.MissingReportMonths = 1
		}, CategoryA, []Reason{
			{Code: "REPORTING_GAPS", Category: CategoryB, Value: "1", Op: ">=", Threshold: "1", Waived: true},
			r("GUIDANCE_PERIOD", CategoryA, "11", "<", "12")}},
	} {
		in := cleanInput()
		tc.edit(&in)
		p, err := Classify(in, th)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if tc.reasons == nil {
			tc.reasons = []Reason{}
		}
		if p.Category != tc.want || !reflect.DeepEqual(p.Reasons, tc.reasons) {
			t.Errorf("%s: got %s %+v\nwant %s %+v", tc.name, p.Category, p.Reasons, tc.want, tc.reasons)
		}
		if p.ThresholdsVersion != "fx-v1" {
			t.Errorf("%s: thresholds version %q", tc.name, p.ThresholdsVersion)
		}
	}
}

func TestClassifyFigures(t *testing.T) {
	t.Parallel()
	in := cleanInput()
	twoWay("5000000", "5000000", "8000000", "2000000")(&in)
	in.Chains = ChainCounts{Submitted: 300, Verified: 280, Rejected: 7, Unverified: 9}
	in.Violations = []Violation{minor("V2", day(2024, 2, 1)), minor("V1", day(2024, 3, 1)), minor("OLD", day(2020, 1, 1))}
	p, err := Classify(in, mustThresholds(t))
	if err != nil {
		t.Fatal(err)
	}
	want := Figures{
		GoodsCNY: "10000000.00", FundsCNY: "10000000.00", FundGoodsRatio: "1.0000",
		TotalDifferenceRatio: "0.6000", TotalDifferenceCNY: "6000000.00",
		RejectedShare: "0.0233", UnverifiedShare: "0.0300", Chains: in.Chains,
		MinorViolations: 2, ViolationRefs: []string{"V1", "V2"},
		TenureMonths: 79, // 2018-05-20 → 2025-01-01: 6 years and 7 months
	}
	if !reflect.DeepEqual(p.Figures, want) {
		t.Errorf("figures\n got %+v\nwant %+v", p.Figures, want)
	}
}

// The proposal depends on the violations' values, not their order.
func TestClassifyIgnoresViolationOrder(t *testing.T) {
	t.Parallel()
	th := mustThresholds(t)
	rapid.Check(t, func(t *rapid.T) {
		in := cleanInput()
		n := rapid.IntRange(0, 6).Draw(t, "violations")
		for i := range n {
			sev := rapid.SampledFrom([]Severity{SeverityMinor, SeveritySerious}).Draw(t, "severity")
			at := in.PeriodStart.Add(time.Duration(rapid.IntRange(-30, 400).Draw(t, "day")) * 24 * time.Hour)
			in.Violations = append(in.Violations, Violation{Ref: "V" + string(rune('a'+i)), Severity: sev, At: at})
		}
		first, err := Classify(in, th)
		if err != nil {
			t.Fatal(err)
		}
		shuffled := slices.Clone(in.Violations)
		perm := rapid.Permutation(shuffled).Draw(t, "order")
		in.Violations = perm
		again, err := Classify(in, th)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(first, again) {
			t.Fatalf("order changed the proposal:\n%+v\n%+v", first, again)
		}
	})
}

func TestClassifyRefusesInconsistentInput(t *testing.T) {
	t.Parallel()
	th := mustThresholds(t)
	for name, edit := range map[string]func(*ClassificationInput){
		"empty period":          func(in *ClassificationInput) { in.PeriodEnd = in.PeriodStart },
		"registered after":      func(in *ClassificationInput) { in.RegisteredAt = day(2025, 2, 1) },
		"negative exports":      func(in *ClassificationInput) { in.ExportsCNY = dec("-1") },
		"huge receipts":         func(in *ClassificationInput) { in.ReceiptsCNY = dec("10000000000000") },
		"counts exceed":         chains(10, 6, 5),
		"negative count":        func(in *ClassificationInput) { in.Chains.Rejected = -1 },
		"negative late reports": func(in *ClassificationInput) { in.LateReports = -1 },
		"unknown severity":      violations(Violation{Ref: "X", Severity: "grave", At: day(2024, 6, 1)}),
	} {
		in := cleanInput()
		edit(&in)
		if _, err := Classify(in, th); !errors.Is(err, ErrInputInvalid) {
			t.Errorf("%s: err = %v, want RISK_INPUT_INVALID", name, err)
		}
	}
}

func TestLoadThresholds(t *testing.T) {
	t.Parallel()
	if got := ThresholdVersions(); !slices.Contains(got, CurrentThresholdsVersion) {
		t.Errorf("versions %v lack the current one", got)
	}
	for _, v := range []string{"fx-v0", "../thresholds/fx-v1", "FX-V1", ""} {
		if _, err := LoadThresholds(v); !errors.Is(err, ErrThresholdsNotFound) {
			t.Errorf("LoadThresholds(%q) = %v, want THRESHOLDS_VERSION_NOT_FOUND", v, err)
		}
	}
}

// A table whose numbers do not nest is refused, naming the problem; so is
// a key left out (it would read as zero) or misspelt.
func TestParseThresholdsRefusesBadTables(t *testing.T) {
	t.Parallel()
	good, err := thresholdFiles.ReadFile("thresholds/fx-v1.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, from, to, want string }{
		{"A band outside B", `b: {low: "0.50", high: "2.00"}`, `b: {low: "0.50", high: "1.10"}`, "fund_goods_ratio.b"},
		{"C milder than B", `c: "0.60"`, `c: "0.20"`, "total_difference_ratio"},
		{"missing C", `  c: "0.20"` + "\n", "", "rejected_share"},
		{"count C below B", `late_reports: {b: 3, c: 10}`, `late_reports: {b: 3, c: 2}`, "late_reports"},
		{"misspelt key", "guidance_months:", "guidance_month:", "guidance_month"},
	} {
		bad := strings.Replace(string(good), tc.from, tc.to, 1)
		if bad == string(good) {
			t.Fatalf("%s: the edit did not apply", tc.name)
		}
		if _, err := ParseThresholds([]byte(bad)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want one naming %s", tc.name, err, tc.want)
		}
	}
}
