package risk

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/shopspring/decimal"
)

// ClassificationInput is what Classify judges: one enterprise's figures
// over a review period [PeriodStart, PeriodEnd). Amounts are CNY, at most
// MaxAmountCNY each; goods flows count verified chains only (DESIGN §5).
type ClassificationInput struct {
	PeriodStart  time.Time
	PeriodEnd    time.Time
	RegisteredAt time.Time // the enterprise's registration date, for the guidance period

	// Goods flows: customs values of the period's verified chains.
	ExportsCNY decimal.Decimal
	ImportsCNY decimal.Decimal
	// Fund flows: the ledger's receipts and payments for the enterprise.
	ReceiptsCNY decimal.Decimal
	PaymentsCNY decimal.Decimal

	Chains ChainCounts

	// MissingReportMonths counts months of the period without the required
	// report; LateReports counts reports filed after their deadline.
	MissingReportMonths int
	LateReports         int

	// Violations recorded against the enterprise; those dated outside the
	// period are ignored, so the store may pass the whole record.
	Violations []Violation
}

// ChainCounts counts the chains submitted in the period by what became of
// them by its end. Verified + Rejected + Unverified ≤ Submitted; the rest
// were cancelled or returned.
type ChainCounts struct {
	Submitted  int `json:"submitted"`
	Verified   int `json:"verified"`
	Rejected   int `json:"rejected"`   // mismatched: a matching rule failed
	Unverified int `json:"unverified"` // still incomplete: documents missing
}

// Severity grades a recorded violation.
type Severity string

// Severities of violations: a serious one alone makes an enterprise C.
const (
	SeverityMinor   Severity = "minor"
	SeveritySerious Severity = "serious"
)

// Violation is one recorded breach of the FX rules.
type Violation struct {
	Ref      string // the record's reference, for the reviewer
	Severity Severity
	At       time.Time
}

// Proposal is Classify's answer: the category proposed to FX bureau staff,
// every reason with its figure and threshold, the figures themselves and
// the threshold table's version. Reasons come in a fixed rule order.
type Proposal struct {
	Category          Category  `json:"category"`
	Reasons           []Reason  `json:"reasons"`
	Figures           Figures   `json:"figures"`
	ThresholdsVersion string    `json:"thresholds_version"`
	PeriodStart       time.Time `json:"period_start"`
	PeriodEnd         time.Time `json:"period_end"`
}

// Figures are the numbers a proposal was decided on, as decimal strings:
// amounts to the fen, ratios and shares to 4 decimals (rounded half-up,
// the same values the thresholds were compared with). A ratio without a
// denominator (no goods, no chains) is "".
type Figures struct {
	GoodsCNY             string      `json:"goods_cny"`
	FundsCNY             string      `json:"funds_cny"`
	FundGoodsRatio       string      `json:"fund_goods_ratio"`
	TotalDifferenceRatio string      `json:"total_difference_ratio"`
	TotalDifferenceCNY   string      `json:"total_difference_cny"`
	RejectedShare        string      `json:"rejected_share"`
	UnverifiedShare      string      `json:"unverified_share"`
	Chains               ChainCounts `json:"chains"`
	MissingReportMonths  int         `json:"missing_report_months"`
	LateReports          int         `json:"late_reports"`
	MinorViolations      int         `json:"minor_violations"`
	SeriousViolations    int         `json:"serious_violations"`
	ViolationRefs        []string    `json:"violation_refs,omitempty"` // sorted
	TenureMonths         int         `json:"tenure_months"`
}

// ratioScale is the number of decimals ratios and shares are rounded to
// (half-up) before they are compared or shown.
const ratioScale = 4

// Classify proposes an FX category for in under the table th. Rules, each
// with its reason code, in this order (docs/risk.md has the table):
//
//   - NO_TRADE (A) when there were neither goods nor funds, FUNDS_WITHOUT_GOODS
//     (C) when funds moved without any verified goods;
//   - FUND_GOODS_RATIO_LOW / _HIGH outside the A band (B), outside the B band (C);
//   - TOTAL_DIFFERENCE_HIGH above B or C, for a material difference;
//   - REJECTED_CHAINS_HIGH, UNVERIFIED_CHAINS_HIGH above B or C;
//   - REPORTING_GAPS, LATE_REPORTS, VIOLATIONS, SERIOUS_VIOLATIONS at least B or C;
//   - GUIDANCE_PERIOD: an enterprise younger than th.GuidanceMonths without
//     violations in the period is A; the other reasons stay listed, waived.
//
// The result depends only on the values of in, never on the order of its
// violations. Errors: ErrInputInvalid when in breaks its contract.
func Classify(in ClassificationInput, th Thresholds) (Proposal, error) {
	if th.Version == "" {
		return Proposal{}, ErrInputInvalid.With("no threshold table: load one with LoadThresholds")
	}
	if err := in.validate(); err != nil {
		return Proposal{}, err
	}
	f := figuresOf(in)
	c := classifier{th: th, in: in, f: &f}
	c.trade()
	c.chainShares()
	c.counts()
	p := Proposal{Category: CategoryA, Reasons: c.reasons, Figures: f, ThresholdsVersion: th.Version,
		PeriodStart: in.PeriodStart, PeriodEnd: in.PeriodEnd}
	if f.TenureMonths < th.GuidanceMonths && f.MinorViolations+f.SeriousViolations == 0 {
		for i := range p.Reasons {
			p.Reasons[i].Waived = p.Reasons[i].Category != CategoryA
		}
		p.Reasons = append(p.Reasons, Reason{Code: "GUIDANCE_PERIOD", Value: strconv.Itoa(f.TenureMonths),
			Op: "<", Threshold: strconv.Itoa(th.GuidanceMonths), Category: CategoryA})
	}
	for _, r := range p.Reasons {
		if !r.Waived {
			p.Category = p.Category.worse(r.Category)
		}
	}
	if p.Reasons == nil {
		p.Reasons = []Reason{}
	}
	return p, nil
}

// classifier collects the reasons of one classification.
type classifier struct {
	th      Thresholds
	in      ClassificationInput
	f       *Figures
	reasons []Reason
}

func (c *classifier) add(code string, cat Category, value, op, threshold string) {
	c.reasons = append(c.reasons, Reason{Code: code, Value: value, Op: op, Threshold: threshold, Category: cat})
}

// trade applies the rules on goods and fund flows.
func (c *classifier) trade() {
	in, th := c.in, c.th
	goods, funds := in.ExportsCNY.Add(in.ImportsCNY), in.ReceiptsCNY.Add(in.PaymentsCNY)
	if !goods.IsPositive() {
		if funds.IsPositive() {
			c.add("FUNDS_WITHOUT_GOODS", CategoryC, c.f.FundsCNY, ">", "0.00")
		} else {
			c.add("NO_TRADE", CategoryA, c.f.GoodsCNY, "=", "0.00")
		}
		return
	}
	ratio := goodsRatio(funds, goods)
	a, b := th.FundGoodsRatio.A, th.FundGoodsRatio.B
	switch {
	case ratio.GreaterThan(b.High):
		c.add("FUND_GOODS_RATIO_HIGH", CategoryC, c.f.FundGoodsRatio, ">", fixed4(b.High))
	case ratio.GreaterThan(a.High):
		c.add("FUND_GOODS_RATIO_HIGH", CategoryB, c.f.FundGoodsRatio, ">", fixed4(a.High))
	case ratio.LessThan(b.Low):
		c.add("FUND_GOODS_RATIO_LOW", CategoryC, c.f.FundGoodsRatio, "<", fixed4(b.Low))
	case ratio.LessThan(a.Low):
		c.add("FUND_GOODS_RATIO_LOW", CategoryB, c.f.FundGoodsRatio, "<", fixed4(a.Low))
	}
	diff := totalDifference(in)
	if diff.LessThan(th.TotalDifference.MinDifferenceCNY) {
		return
	}
	td := goodsRatio(diff, goods)
	c.above("TOTAL_DIFFERENCE_HIGH", td, th.TotalDifference.B, th.TotalDifference.C)
}

// above adds code at C when v > cLimit, at B when v > bLimit.
func (c *classifier) above(code string, v, bLimit, cLimit decimal.Decimal) {
	switch {
	case v.GreaterThan(cLimit):
		c.add(code, CategoryC, fixed4(v), ">", fixed4(cLimit))
	case v.GreaterThan(bLimit):
		c.add(code, CategoryB, fixed4(v), ">", fixed4(bLimit))
	}
}

// chainShares applies the rules on rejected and unverified chains.
func (c *classifier) chainShares() {
	n := c.in.Chains
	for _, s := range []struct {
		code   string
		count  int
		limits ShareLimits
	}{
		{"REJECTED_CHAINS_HIGH", n.Rejected, c.th.RejectedShare},
		{"UNVERIFIED_CHAINS_HIGH", n.Unverified, c.th.UnverifiedShare},
	} {
		if n.Submitted >= s.limits.MinChains {
			c.above(s.code, share(s.count, n.Submitted), s.limits.B, s.limits.C)
		}
	}
}

// counts applies the rules on reporting and violations.
func (c *classifier) counts() {
	for _, r := range []struct {
		code   string
		count  int
		limits CountLimits
	}{
		{"REPORTING_GAPS", c.f.MissingReportMonths, c.th.MissingReportMonths},
		{"LATE_REPORTS", c.f.LateReports, c.th.LateReports},
		{"VIOLATIONS", c.f.MinorViolations, c.th.MinorViolations},
		{"SERIOUS_VIOLATIONS", c.f.SeriousViolations, c.th.SeriousViolations},
	} {
		v := strconv.Itoa(r.count)
		switch {
		case r.count >= r.limits.C:
			c.add(r.code, CategoryC, v, ">=", strconv.Itoa(r.limits.C))
		case r.limits.B > 0 && r.count >= r.limits.B:
			c.add(r.code, CategoryB, v, ">=", strconv.Itoa(r.limits.B))
		}
	}
}

// figuresOf computes the figures of a valid input.
func figuresOf(in ClassificationInput) Figures {
	goods, funds := in.ExportsCNY.Add(in.ImportsCNY), in.ReceiptsCNY.Add(in.PaymentsCNY)
	diff := totalDifference(in)
	f := Figures{
		GoodsCNY: fixed2(goods), FundsCNY: fixed2(funds), TotalDifferenceCNY: fixed2(diff),
		Chains: in.Chains, MissingReportMonths: in.MissingReportMonths, LateReports: in.LateReports,
		TenureMonths: wholeMonths(in.RegisteredAt, in.PeriodEnd),
	}
	if goods.IsPositive() {
		f.FundGoodsRatio = fixed4(goodsRatio(funds, goods))
		f.TotalDifferenceRatio = fixed4(goodsRatio(diff, goods))
	}
	if in.Chains.Submitted > 0 {
		f.RejectedShare = fixed4(share(in.Chains.Rejected, in.Chains.Submitted))
		f.UnverifiedShare = fixed4(share(in.Chains.Unverified, in.Chains.Submitted))
	}
	for _, v := range in.Violations {
		if v.At.Before(in.PeriodStart) || !v.At.Before(in.PeriodEnd) {
			continue
		}
		if v.Severity == SeveritySerious {
			f.SeriousViolations++
		} else {
			f.MinorViolations++
		}
		f.ViolationRefs = append(f.ViolationRefs, v.Ref)
	}
	slices.Sort(f.ViolationRefs)
	return f
}

// totalDifference is |receipts − exports| + |payments − imports|, rounded
// half-up to the fen: the amount shown is the amount judged.
func totalDifference(in ClassificationInput) decimal.Decimal {
	return in.ReceiptsCNY.Sub(in.ExportsCNY).Abs().Add(in.PaymentsCNY.Sub(in.ImportsCNY).Abs()).Round(2)
}

// goodsRatio is num / den rounded half-up to ratioScale decimals; den > 0.
func goodsRatio(num, den decimal.Decimal) decimal.Decimal { return num.DivRound(den, ratioScale) }

// share is part / whole rounded half-up to ratioScale decimals; whole > 0.
func share(part, whole int) decimal.Decimal {
	return decimal.NewFromInt(int64(part)).DivRound(decimal.NewFromInt(int64(whole)), ratioScale)
}

func (in ClassificationInput) validate() error {
	switch {
	case in.PeriodStart.IsZero() || !in.PeriodStart.Before(in.PeriodEnd):
		return ErrInputInvalid.With("classification period %s – %s is empty", in.PeriodStart, in.PeriodEnd)
	case in.RegisteredAt.IsZero() || !in.RegisteredAt.Before(in.PeriodEnd):
		return ErrInputInvalid.With("registration date %s is not before the period's end", in.RegisteredAt)
	case in.MissingReportMonths < 0 || in.LateReports < 0:
		return ErrInputInvalid.With("reporting counts are negative")
	}
	for _, a := range []struct {
		name string
		d    decimal.Decimal
	}{{"exports", in.ExportsCNY}, {"imports", in.ImportsCNY}, {"receipts", in.ReceiptsCNY}, {"payments", in.PaymentsCNY}} {
		if err := checkAmount(a.d); err != nil {
			return ErrInputInvalid.With("%s: %v", a.name, err)
		}
	}
	n := in.Chains
	if n.Submitted < 0 || n.Verified < 0 || n.Rejected < 0 || n.Unverified < 0 || n.Verified+n.Rejected+n.Unverified > n.Submitted {
		return ErrInputInvalid.With("chain counts %+v: each ≥ 0, verified + rejected + unverified ≤ submitted", n)
	}
	for _, v := range in.Violations {
		if v.Severity != SeverityMinor && v.Severity != SeveritySerious {
			return ErrInputInvalid.With("violation %q has severity %q, not minor or serious", v.Ref, v.Severity)
		}
	}
	return nil
}

// MaxAmountCNY bounds every amount the risk core takes: 10^13 CNY, far above
// any enterprise's flows, low enough that sums in 10^-5 CNY units of a
// million chains stay exact in 128-bit integers.
var MaxAmountCNY = decimal.New(1, 13)

// checkAmount accepts 0 ≤ d < MaxAmountCNY.
func checkAmount(d decimal.Decimal) error {
	if d.IsNegative() || d.GreaterThanOrEqual(MaxAmountCNY) {
		return fmt.Errorf("amount %s is not in [0, %s)", d, MaxAmountCNY)
	}
	return nil
}

// fixed2 formats an amount to the fen, rounded half-up.
func fixed2(d decimal.Decimal) string { return d.StringFixed(2) }

// fixed4 formats a ratio to ratioScale decimals, rounded half-up.
func fixed4(d decimal.Decimal) string { return d.StringFixed(ratioScale) }
