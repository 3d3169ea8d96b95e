package risk

import (
	"context"
	"fmt"
	"time"

	"github.com/lib/pq"
	"github.com/shopspring/decimal"
)

// Where the review-period figures come from (docs/risk.md, "Where the
// figures come from"), each read for a chunk of enterprises in one
// set-based statement:
//
//   - goods flows and chain counts: trade_chains of the enterprise as
//     seller (ebc_code) whose order time falls in the period, judged as they
//     stood at its end (chainStatusAtSQL), amounts in CNY (chainCNYSQL);
//     plus the chains that never verified, from clearance_chains (seller
//     from their documents), first seen in the period;
//   - fund flows: the enterprise's settlement items that posted their
//     ledger entry in the period — each is one entry, key
//     settle:<payCode>:<payTransactionId> — at their CNY side (cny_amount:
//     what the buyer paid in CNY, or what the export converted to);
//     export items are receipts, import items payments;
//   - the reporting record and violations: fx_reporting_gaps (months in
//     the period) and fx_violations (occurred in it).

// tradeFiguresSQL sums the goods flows and counts the chains of each seller.
var tradeFiguresSQL = fmt.Sprintf(`
SELECT t.ebc_code,
	coalesce(sum(c.cny) FILTER (WHERE s.st = 'v' AND t.direction = 'export'), 0) AS exports,
	coalesce(sum(c.cny) FILTER (WHERE s.st = 'v' AND t.direction = 'import'), 0) AS imports,
	count(*) AS submitted,
	count(*) FILTER (WHERE s.st = 'v') AS verified,
	count(*) FILTER (WHERE s.st = 'r') AS rejected,
	count(*) FILTER (WHERE s.st = 'i') AS unverified,
	count(*) FILTER (WHERE s.st = 'v' AND c.cny IS NULL) AS unconverted
FROM trade_chains t
CROSS JOIN LATERAL (SELECT %s AS st) s
CROSS JOIN LATERAL (SELECT CASE WHEN s.st = 'v' THEN %s END AS cny) c
WHERE t.ebc_code = ANY($1) AND t.order_time >= $2 AND t.order_time < $3
GROUP BY t.ebc_code`, fmt.Sprintf(chainStatusAtSQL, "$3"), chainCNYSQL)

// clearanceOnlySQL counts each seller's chains that never verified (they
// have no trade_chains row): mismatched ones are rejected, the others still
// incomplete.
const clearanceOnlySQL = `
SELECT c.ebc_code, count(*) AS submitted,
	count(*) FILTER (WHERE c.status = 'mismatched') AS rejected,
	count(*) FILTER (WHERE c.status = 'incomplete') AS unverified
FROM clearance_chains c
WHERE c.ebc_code = ANY($1) AND c.status IN ('incomplete', 'mismatched') AND c.created_at >= $2 AND c.created_at < $3
	AND NOT EXISTS (SELECT 1 FROM trade_chains t WHERE t.tenant_id = c.tenant_id AND t.order_no = c.order_no)
GROUP BY c.ebc_code`

// fundFiguresSQL sums each enterprise's settled fund flows in CNY.
const fundFiguresSQL = `
SELECT i.enterprise,
	coalesce(sum(i.cny_amount) FILTER (WHERE i.direction = 'export'), 0) AS receipts,
	coalesce(sum(i.cny_amount) FILTER (WHERE i.direction = 'import'), 0) AS payments
FROM settlement_items i
JOIN settlement_item_events e ON e.tenant_id = i.tenant_id AND e.item_id = i.id AND e.to_status = 'posted'
WHERE i.enterprise = ANY($1) AND i.status IN ('posted', 'batched', 'settled') AND e.at >= $2 AND e.at < $3
GROUP BY i.enterprise`

// classificationInputs gathers the review-period figures of es. An
// enterprise whose verified chains cannot all be converted to CNY (no rate
// of their currency was ever loaded) is left out and reported in failed.
func classificationInputs(ctx context.Context, q querier, es []Enterprise, start, end time.Time) (map[string]*ClassificationInput, map[string]string, error) {
	codes := make([]string, len(es))
	ins := make(map[string]*ClassificationInput, len(es))
	for i, e := range es {
		codes[i] = e.CustomsCode
		since := e.Since()
		if !since.Before(end) { // registered at or after the period's end: tenure 0
			since = end.Add(-time.Microsecond)
		}
		ins[e.CustomsCode] = &ClassificationInput{PeriodStart: start, PeriodEnd: end, RegisteredAt: since,
			ExportsCNY: decimal.Zero, ImportsCNY: decimal.Zero, ReceiptsCNY: decimal.Zero, PaymentsCNY: decimal.Zero}
	}
	failed := map[string]string{}
	if err := tradeFigures(ctx, q, codes, start, end, ins, failed); err != nil {
		return nil, nil, err
	}
	if err := clearanceOnlyFigures(ctx, q, codes, start, end, ins); err != nil {
		return nil, nil, err
	}
	if err := fundFigures(ctx, q, codes, start, end, ins); err != nil {
		return nil, nil, err
	}
	if err := recordFigures(ctx, q, codes, start, end, ins); err != nil {
		return nil, nil, err
	}
	for code := range failed {
		delete(ins, code)
	}
	return ins, failed, nil
}

func tradeFigures(ctx context.Context, q querier, codes []string, start, end time.Time, ins map[string]*ClassificationInput, failed map[string]string) error {
	var rows []struct {
		Code        string          `db:"ebc_code"`
		Exports     decimal.Decimal `db:"exports"`
		Imports     decimal.Decimal `db:"imports"`
		Submitted   int             `db:"submitted"`
		Verified    int             `db:"verified"`
		Rejected    int             `db:"rejected"`
		Unverified  int             `db:"unverified"`
		Unconverted int             `db:"unconverted"`
	}
	if err := q.SelectContext(ctx, &rows, tradeFiguresSQL, pq.Array(codes), start, end); err != nil {
		return fmt.Errorf("goods flows of %d enterprises: %w", len(codes), err)
	}
	for _, r := range rows {
		in := ins[r.Code]
		if r.Unconverted > 0 {
			failed[r.Code] = fmt.Sprintf("%d verified foreign-currency chains have no FX rate to convert them to CNY", r.Unconverted)
		}
		in.ExportsCNY, in.ImportsCNY = r.Exports, r.Imports
		in.Chains = ChainCounts{Submitted: r.Submitted, Verified: r.Verified, Rejected: r.Rejected, Unverified: r.Unverified}
	}
	return nil
}

func clearanceOnlyFigures(ctx context.Context, q querier, codes []string, start, end time.Time, ins map[string]*ClassificationInput) error {
	var rows []struct {
		Code       string `db:"ebc_code"`
		Submitted  int    `db:"submitted"`
		Rejected   int    `db:"rejected"`
		Unverified int    `db:"unverified"`
	}
	if err := q.SelectContext(ctx, &rows, clearanceOnlySQL, pq.Array(codes), start, end); err != nil {
		return fmt.Errorf("unverified chains of %d enterprises: %w", len(codes), err)
	}
	for _, r := range rows {
		n := &ins[r.Code].Chains
		n.Submitted += r.Submitted
		n.Rejected += r.Rejected
		n.Unverified += r.Unverified
	}
	return nil
}

func fundFigures(ctx context.Context, q querier, codes []string, start, end time.Time, ins map[string]*ClassificationInput) error {
	var rows []struct {
		Code     string          `db:"enterprise"`
		Receipts decimal.Decimal `db:"receipts"`
		Payments decimal.Decimal `db:"payments"`
	}
	if err := q.SelectContext(ctx, &rows, fundFiguresSQL, pq.Array(codes), start, end); err != nil {
		return fmt.Errorf("fund flows of %d enterprises: %w", len(codes), err)
	}
	for _, r := range rows {
		ins[r.Code].ReceiptsCNY, ins[r.Code].PaymentsCNY = r.Receipts, r.Payments
	}
	return nil
}

// recordFigures reads the reporting record and the violations. A gap
// counts when its month begins in the period (Beijing dates); a violation
// when it occurred in it (Classify filters by instant as well).
func recordFigures(ctx context.Context, q querier, codes []string, start, end time.Time, ins map[string]*ClassificationInput) error {
	from, to := DateOf(start).Format(time.DateOnly), DateOf(end.Add(-time.Microsecond)).Format(time.DateOnly)
	var gaps []struct {
		Code    string `db:"tenant_id"`
		Missing int    `db:"missing"`
		Late    int    `db:"late"`
	}
	if err := q.SelectContext(ctx, &gaps, `SELECT tenant_id, count(*) FILTER (WHERE kind = 'missing') AS missing,
		count(*) FILTER (WHERE kind = 'late') AS late FROM fx_reporting_gaps
		WHERE tenant_id = ANY($1) AND month BETWEEN $2 AND $3 GROUP BY tenant_id`,
		pq.Array(codes), from, to); err != nil {
		return fmt.Errorf("reporting record of %d enterprises: %w", len(codes), err)
	}
	for _, g := range gaps {
		ins[g.Code].MissingReportMonths, ins[g.Code].LateReports = g.Missing, g.Late
	}
	var vs []struct {
		Code     string    `db:"tenant_id"`
		Ref      string    `db:"ref"`
		Severity string    `db:"severity"`
		On       time.Time `db:"occurred_on"`
	}
	if err := q.SelectContext(ctx, &vs, `SELECT tenant_id, ref, severity, occurred_on FROM fx_violations
		WHERE tenant_id = ANY($1) AND occurred_on BETWEEN $2 AND $3`, pq.Array(codes), from, to); err != nil {
		return fmt.Errorf("violations of %d enterprises: %w", len(codes), err)
	}
	for _, v := range vs {
		in := ins[v.Code]
		in.Violations = append(in.Violations, Violation{Ref: v.Ref, Severity: Severity(v.Severity), At: StartOf(dateOnly(v.On))})
	}
	return nil
}
