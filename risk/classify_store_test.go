package risk_test

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/xbsettle/xbsettle/internal/apperr"
	"github.com/xbsettle/xbsettle/risk"
	"github.com/xbsettle/xbsettle/settlement"
)

// The review period of the classification tests: calendar 2025, Beijing.
var (
	periodStart = date(2025, 1, 1)
	periodEnd   = date(2026, 1, 1)
	mid         = day(2025, 6, 15).Add(10 * time.Hour) // when the period's trade happens
)

// verified is n verified chains of amount each, in the middle of the period.
func verified(n int, amount string) []risk.ChainFact {
	return facts(n, risk.ChainVerified, amount)
}

func facts(n int, status risk.ChainStatus, amount string) []risk.ChainFact {
	out := make([]risk.ChainFact, n)
	for i := range out {
		out[i] = risk.ChainFact{At: mid.Add(time.Duration(i) * time.Minute), Status: status, Countries: []string{"US"},
			HSChapters: []string{"61"}, AmountCNY: decimal.RequireFromString(amount)}
	}
	return out
}

func flow(dir risk.FlowDirection, amount string) []risk.FundFact {
	return []risk.FundFact{{At: mid.Add(48 * time.Hour), Direction: dir, AmountCNY: decimal.RequireFromString(amount)}}
}

// classCase is an enterprise built to hit a rule.
type classCase struct {
	name     string
	build    func(b *bundle, code string)
	young    bool // registered 2025-06-01: in its guidance period at the period's end
	category risk.Category
	codes    []string // the reasons' codes, in rule order; waived ones marked "~"
}

var classCases = []classCase{
	{name: "clean", category: risk.CategoryA, codes: []string{}, build: func(b *bundle, c string) {
		b.chains(c, "import", verified(25, "40000.00"))
		b.funds(c, flow(risk.Payment, "1000000.00"))
	}},
	{name: "no trade", category: risk.CategoryA, codes: []string{"NO_TRADE"}, build: func(*bundle, string) {}},
	{name: "funds without goods", category: risk.CategoryC, codes: []string{"FUNDS_WITHOUT_GOODS"}, build: func(b *bundle, c string) {
		b.funds(c, flow(risk.Receipt, "100000.00"))
	}},
	{name: "ratio high", category: risk.CategoryB, codes: []string{"FUND_GOODS_RATIO_HIGH"}, build: func(b *bundle, c string) {
		b.chains(c, "export", verified(25, "40000.00"))
		b.funds(c, flow(risk.Receipt, "1300000.00")) // 1.3; the difference 300,000 is below materiality
	}},
	{name: "ratio low, material difference", category: risk.CategoryC, codes: []string{"FUND_GOODS_RATIO_LOW", "TOTAL_DIFFERENCE_HIGH"},
		build: func(b *bundle, c string) {
			b.chains(c, "export", verified(20, "100000.00"))
			b.funds(c, flow(risk.Receipt, "800000.00")) // 0.4 (C); difference 1.2M / 2M = 0.6, not above C: B
		}},
	{name: "two-way difference", category: risk.CategoryB, codes: []string{"TOTAL_DIFFERENCE_HIGH"}, build: func(b *bundle, c string) {
		b.chains(c, "export", verified(10, "100000.00"))
		b.chains(c, "import", verified(10, "100000.00"))
		b.funds(c, append(flow(risk.Receipt, "1400000.00"), flow(risk.Payment, "600000.00")...)) // ratio 1.0, difference 0.4
	}},
	{name: "rejected chains", category: risk.CategoryB, codes: []string{"REJECTED_CHAINS_HIGH"}, build: func(b *bundle, c string) {
		b.chains(c, "import", append(verified(20, "50000.00"), facts(2, risk.ChainRejected, "0")...)) // 2 / 22 = 0.0909
		b.funds(c, flow(risk.Payment, "1000000.00"))
	}},
	{name: "unverified chains", category: risk.CategoryC, codes: []string{"UNVERIFIED_CHAINS_HIGH"}, build: func(b *bundle, c string) {
		b.chains(c, "import", append(verified(20, "50000.00"), facts(10, risk.ChainIncomplete, "0")...)) // 10 / 30
		b.funds(c, flow(risk.Payment, "1000000.00"))
	}},
	{name: "reporting gap", category: risk.CategoryB, codes: []string{"NO_TRADE", "REPORTING_GAPS"}, build: func(b *bundle, c string) {
		b.gap(c, "2025-03", risk.GapMissing)
		b.gap(c, "2024-12", risk.GapMissing) // before the period: not counted
	}},
	{name: "late reports", category: risk.CategoryB, codes: []string{"NO_TRADE", "LATE_REPORTS"}, build: func(b *bundle, c string) {
		for _, m := range []string{"2025-02", "2025-05", "2025-09"} {
			b.gap(c, m, risk.GapLate)
		}
	}},
	{name: "minor violation", category: risk.CategoryB, codes: []string{"NO_TRADE", "VIOLATIONS"}, build: func(b *bundle, c string) {
		b.violation(c, "V-1", risk.SeverityMinor, date(2025, 4, 2))
		b.violation(c, "V-0", risk.SeveritySerious, date(2024, 4, 2)) // before the period
	}},
	{name: "serious violation", category: risk.CategoryC, codes: []string{"NO_TRADE", "SERIOUS_VIOLATIONS"}, build: func(b *bundle, c string) {
		b.violation(c, "V-2", risk.SeveritySerious, date(2025, 12, 31))
	}},
	{name: "guidance period", young: true, category: risk.CategoryA, codes: []string{"~FUND_GOODS_RATIO_HIGH", "GUIDANCE_PERIOD"},
		build: func(b *bundle, c string) {
			b.chains(c, "export", verified(10, "100000.00"))
			b.funds(c, flow(risk.Receipt, "1300000.00"))
		}},
	{name: "guidance ends with a violation", young: true, category: risk.CategoryB, codes: []string{"FUND_GOODS_RATIO_HIGH", "VIOLATIONS"},
		build: func(b *bundle, c string) {
			b.chains(c, "export", verified(10, "100000.00"))
			b.funds(c, flow(risk.Receipt, "1300000.00"))
			b.violation(c, "V-3", risk.SeverityMinor, date(2025, 8, 1))
		}},
	{name: "status as at the period's end", category: risk.CategoryC, codes: []string{"UNVERIFIED_CHAINS_HIGH"},
		build: func(b *bundle, c string) {
			// 20 chains verified in the period, 10 only after it: at the end
			// those 10 were unverified, whatever they are now.
			b.chains(c, "import", verified(20, "50000.00"))
			b.funds(c, flow(risk.Payment, "1000000.00"))
			late := verified(10, "50000.00")
			for i := range late {
				late[i].At = day(2025, 12, 31).Add(23*time.Hour + 30*time.Minute)
			}
			if err := insertLate(b, c, late); err != nil {
				b.t.Fatal(err)
			}
		}},
}

// insertLate writes verified chains whose verification came after the
// period (an hour after their order, past midnight).
func insertLate(b *bundle, seller string, fs []risk.ChainFact) error {
	for i, f := range fs {
		if _, err := b.db.Exec(`INSERT INTO trade_chains (tenant_id, order_no, ebc_code, pay_code, pay_transaction_id,
			logistics_code, logistics_no, direction, trade_mode, currency, amount, amount_cny, goods_value, tax, order_time,
			hs_chapters, countries, status, verified_at, version) VALUES ('4403960001', $1, $2, 'P', 'P', 'L', 'N', 'import',
			'9610', 'CNY', 50000, 50000, 50000, 0, $3, '{61}', '{US}', 'verified', $4, 1)`,
			fmt.Sprintf("LATE%s%d", seller, i), seller, f.At, f.At.Add(time.Hour)); err != nil {
			return err
		}
	}
	return nil
}

func (b *bundle) gap(code, month, kind string) {
	b.t.Helper()
	m, _ := time.Parse("2006-01", month)
	if _, _, err := b.svc.RecordReportingGap(b.ctx, b.staff, risk.ReportingGap{Enterprise: code, Month: m, Kind: kind}); err != nil {
		b.t.Fatal(err)
	}
}

func (b *bundle) violation(code, ref string, sev risk.Severity, on time.Time) {
	b.t.Helper()
	if _, _, err := b.svc.RecordViolation(b.ctx, b.staff, risk.RecordedViolation{Enterprise: code, Ref: ref, Severity: sev, OccurredOn: on}); err != nil {
		b.t.Fatal(err)
	}
}

func reasonCodes(rs []risk.Reason) []string {
	out := []string{}
	for _, r := range rs {
		c := r.Code
		if r.Waived {
			c = "~" + c
		}
		out = append(out, c)
	}
	return out
}

// TestClassificationRules: one enterprise per rule, built from trade
// chains, chains that never verified, settled fund flows, the reporting
// record and violations, classified by one run over calendar 2025: each
// gets its category and reason codes; a repeated run adds nothing.
func TestClassificationRules(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var codes []string
	for i, tc := range classCases {
		code := fmt.Sprintf("44033000%02d", i)
		registered := day(2015, 3, 1)
		if tc.young {
			registered = day(2025, 6, 1)
		}
		b.register(code, risk.KindSeller, registered, nil)
		tc.build(b, code)
		codes = append(codes, code)
	}
	run := b.runOver(periodStart, periodEnd, codes...)
	if run.Status != "done" || run.Proposals != len(classCases) || run.Failures != 0 {
		t.Fatalf("run %+v", run)
	}
	for i, tc := range classCases {
		p := b.pending(codes[i])
		if p.Category != tc.category || !reflect.DeepEqual(reasonCodes(p.Reasons), tc.codes) {
			t.Errorf("%s: %s %v, want %s %v (figures %+v)", tc.name, p.Category, reasonCodes(p.Reasons), tc.category, tc.codes, p.Figures)
		}
		if p.ThresholdsVersion != risk.CurrentThresholdsVersion || !p.PeriodStart.Equal(risk.StartOf(periodStart)) {
			t.Errorf("%s: version %s period %s", tc.name, p.ThresholdsVersion, p.PeriodStart)
		}
	}
	// The figures say what was judged.
	if f := b.pending(codes[6]).Figures; f.RejectedShare != "0.0909" || f.Chains.Submitted != 22 || f.GoodsCNY != "1000000.00" || f.FundGoodsRatio != "1.0000" {
		t.Errorf("rejected chains figures %+v", f)
	}
	if f := b.pending(codes[10]).Figures; f.MinorViolations != 1 || f.SeriousViolations != 0 || !reflect.DeepEqual(f.ViolationRefs, []string{"V-1"}) {
		t.Errorf("violation figures %+v", f)
	}
	var rows int
	count := func() int {
		if err := b.db.Get(&rows, `SELECT count(*) FROM fx_classifications`); err != nil {
			t.Fatal(err)
		}
		return rows
	}
	before := count()
	again := b.runOver(periodStart, periodEnd, codes...)
	if again.Proposals != len(classCases) || count() != before {
		t.Fatalf("a repeated run wrote proposals: %d rows, was %d", count(), before)
	}
}

// TestForeignGoodsAtParity: an export chain in USD counts at the central
// parity of the latest rate on or before its order date; a currency with no
// rate at all leaves its enterprise unclassified, and the run says so.
func TestForeignGoodsAtParity(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const usd, jpy = "4403400001", "4403400002"
	b.register(usd, risk.KindSeller, day(2015, 1, 1), nil)
	b.register(jpy, risk.KindSeller, day(2015, 1, 1), nil)
	for _, r := range []struct {
		date, parity string
	}{{"2025-06-13", "7.1234"}, {"2025-06-16", "7.2000"}} {
		if _, err := b.db.Exec(`INSERT INTO fx_rates (id, base_currency, quote_currency, rate_date, unit, parity, buy_rate,
			sell_rate, source, version, load_id, loaded_at, loaded_by) VALUES ($1, 'USD', 'CNY', $2, 1, $3, 7, 7.3, 'test', 1, $1, now(), 'test')`,
			uuid.New(), r.date, r.parity); err != nil {
			t.Fatal(err)
		}
	}
	for code, cur := range map[string]string{usd: "USD", jpy: "JPY"} {
		if _, err := b.db.Exec(`INSERT INTO trade_chains (tenant_id, order_no, ebc_code, pay_code, pay_transaction_id,
			logistics_code, logistics_no, direction, trade_mode, currency, amount, goods_value, tax, order_time, hs_chapters,
			countries, status, verified_at, version) VALUES ('4403960001', $1, $1, 'P', 'P', 'L', 'N', 'export', '9610', $2,
			10000, 10000, 0, $3, '{61}', '{US}', 'verified', $4, 1)`, code, cur, mid, mid.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	b.funds(usd, flow(risk.Receipt, "71234.00"))
	run := b.runOver(periodStart, periodEnd, usd, jpy)
	if run.Proposals != 1 || run.Failures != 1 || run.LastError == "" {
		t.Fatalf("run %+v", run)
	}
	p := b.pending(usd)
	if p.Figures.GoodsCNY != "71234.00" || p.Figures.FundGoodsRatio != "1.0000" || p.Category != risk.CategoryA {
		t.Fatalf("USD exporter: %s %+v", p.Category, p.Figures)
	}
}

// TestDecisions: an override needs a reason; decisions are recorded with
// who, what and when, take effect from their date for a year, cannot be
// made twice or backdated; settlement's policy answers the category in
// effect (A for an enterprise never classified); FX category C forces
// export-rebate class 4.
func TestDecisions(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const seller, fresh = "4403500001", "4403500002"
	b.register(seller, risk.KindSeller, day(2015, 1, 1), taxProfileOf(1))
	b.register(fresh, risk.KindSeller, day(2015, 1, 1), nil)
	b.violation(seller, "V-9", risk.SeveritySerious, date(2025, 5, 5))
	b.runOver(periodStart, periodEnd, seller)
	p := b.pending(seller)
	if p.Category != risk.CategoryC {
		t.Fatalf("proposal %s", p.Category)
	}
	if tc, err := b.svc.Profile(b.ctx, seller); err != nil || tc.TaxClass == nil || tc.TaxClass.Class != 1 {
		t.Fatalf("tax class before the decision: %+v %v", tc.TaxClass, err)
	}

	for _, tc := range []struct {
		req          risk.DecisionRequest
		field, fcode string
	}{
		{risk.DecisionRequest{Action: risk.ActionOverride, Category: risk.CategoryB}, "reason", "REQUIRED"},
		{risk.DecisionRequest{Action: risk.ActionOverride, Reason: "why"}, "category", "REQUIRED"},
		{risk.DecisionRequest{Action: risk.ActionOverride, Category: "D", Reason: "why"}, "category", "CATEGORY_INVALID"},
		{risk.DecisionRequest{Action: "rubber-stamp"}, "action", "ACTION_INVALID"},
		{risk.DecisionRequest{Action: risk.ActionApprove, Category: risk.CategoryA}, "category", "CATEGORY_UNEXPECTED"},
		{risk.DecisionRequest{Action: risk.ActionApprove, EffectiveFrom: risk.DateOf(time.Now()).AddDate(0, 0, -1)}, "effective_from", "DATE_IN_PAST"},
	} {
		_, err := b.svc.Decide(b.ctx, b.staff, p.ID, tc.req)
		var ae *apperr.Error
		if !errors.As(err, &ae) || ae.Code != "VALIDATION_FAILED" || ae.Fields[0].Field != tc.field || ae.Fields[0].Code != tc.fcode {
			t.Errorf("%+v: %v, want %s %s", tc.req, err, tc.field, tc.fcode)
		}
	}
	if _, err := b.svc.Decide(b.ctx, b.staff, uuid.New(), risk.DecisionRequest{Action: risk.ActionApprove}); !errors.Is(err, risk.ErrClassificationNotFound) {
		t.Fatalf("unknown proposal: %v", err)
	}

	d, err := b.svc.Decide(b.ctx, b.staff, p.ID, risk.DecisionRequest{Action: risk.ActionApprove})
	if err != nil {
		t.Fatal(err)
	}
	today := risk.DateOf(time.Now())
	if d.Category != risk.CategoryC || d.DecidedBy != b.staff.By || d.DecidedRole != "fx_bureau" || !d.EffectiveFrom.Equal(today) ||
		!d.EffectiveTo.Equal(today.AddDate(1, 0, 0)) || time.Since(d.DecidedAt) > time.Minute {
		t.Fatalf("decision %+v", d)
	}
	if _, err := b.svc.Decide(b.ctx, b.staff, p.ID, risk.DecisionRequest{Action: risk.ActionApprove}); !errors.Is(err, risk.ErrNotPending) {
		t.Fatalf("second decision: %v", err)
	}
	ec, err := b.svc.ClassificationOf(b.ctx, seller)
	if err != nil {
		t.Fatal(err)
	}
	if ec.InEffect.Category != risk.CategoryC || ec.InEffect.Source != "decision" || len(ec.Decisions) != 1 ||
		ec.Decisions[0].ID != d.ID || ec.Proposals[0].Status != risk.StatusApproved {
		t.Fatalf("standing %+v", ec)
	}
	if ec.TaxClass == nil || ec.TaxClass.Class != 4 || ec.TaxClass.Reasons[0].Code != "FX_CATEGORY_C" || len(ec.TaxClasses) != 2 {
		t.Fatalf("tax class after C: %+v (history %d)", ec.TaxClass, len(ec.TaxClasses))
	}
	cats, err := b.svc.Policy().CategoriesOf(b.ctx, []string{seller, fresh}, time.Now())
	if err != nil || cats[seller] != settlement.CategoryC || cats[fresh] != settlement.CategoryA {
		t.Fatalf("policy: %v %v", cats, err)
	}
	// Before the decision took effect, and after its year, the default.
	if c, _ := b.svc.Policy().CategoryOf(b.ctx, seller, time.Now().AddDate(0, 0, -2)); c != settlement.CategoryA {
		t.Fatalf("before the decision: %s", c)
	}
	if c, _ := b.svc.Policy().CategoryOf(b.ctx, seller, time.Now().AddDate(1, 0, 2)); c != settlement.CategoryA {
		t.Fatalf("after the decision's year: %s", c)
	}
	// The audit is append-only.
	if _, err := b.db.Exec(`UPDATE fx_category_decisions SET category = 'A'`); err == nil {
		t.Fatal("a decision was changed")
	}
}

// TestConcurrentRuns: runs over the same enterprises at once (the monthly
// one and others on demand, of different periods) all finish, and each
// enterprise has one pending proposal.
func TestConcurrentRuns(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var codes []string
	for i := range 20 {
		code := fmt.Sprintf("44038000%02d", i)
		b.register(code, risk.KindSeller, day(2015, 1, 1), nil)
		b.chains(code, "import", verified(1+i, "1000.00"))
		codes = append(codes, code)
	}
	var runs []risk.Run
	for m := range 6 {
		end := periodEnd.AddDate(0, m, 0)
		run, err := b.svc.StartRun(b.ctx, b.staff, risk.RunRequest{PeriodStart: periodStart, PeriodEnd: end, Enterprises: codes})
		if err != nil {
			t.Fatal(err)
		}
		runs = append(runs, run)
	}
	errs := make([]error, len(runs))
	var wg sync.WaitGroup
	for i, run := range runs {
		wg.Go(func() { errs[i] = b.svc.ProcessRun(b.ctx, run.ID) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	var pending, enterprises int
	if err := b.db.QueryRow(`SELECT count(*), count(DISTINCT tenant_id) FROM fx_classifications WHERE status = 'pending'`).Scan(&pending, &enterprises); err != nil {
		t.Fatal(err)
	}
	if pending != len(codes) || enterprises != len(codes) {
		t.Fatalf("%d pending proposals for %d enterprises, want one each of %d", pending, enterprises, len(codes))
	}
}
