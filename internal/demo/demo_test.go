package demo_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"

	"github.com/xbsettle/xbsettle/internal/demo"
	"github.com/xbsettle/xbsettle/ledger"
	"github.com/xbsettle/xbsettle/settlement/clearance"
)

// TestDemoDay runs the demo at small scale twice, with one seed, each
// against a real API and real workers on a fresh database, and checks the
// first run's report against the ledger and the chains the service
// stored: money is conserved per currency and sits where the report says,
// every verified chain settled exactly once, every planted defect was
// caught by the rule that names it. The second run, under another tag,
// gives the same report.
func TestDemoDay(t *testing.T) {
	t.Parallel()
	waitPastMidnight(t)
	const seed, parcels = 20260316, 300
	stacks := []*stack{startStack(t), startStack(t)}
	results := make([]*demo.Result, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i, tag := range []string{"A", "B"} {
		wg.Go(func() {
			results[i], errs[i] = demo.Run(context.Background(), demo.Config{BaseURL: stacks[i].url, Keys: stacks[i].keys,
				Seed: seed, Parcels: parcels, Tag: tag})
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	res, rep := results[0], results[0].Report
	t.Logf("\n%s", res)
	if got := results[1].Report.String(); got != rep.String() {
		t.Errorf("the same seed gave two reports:\n%s\n---\n%s", rep, got)
	}

	db := stacks[0].db
	checkConserved(t, db)
	checkBalances(t, db, rep)
	checkSettledOnce(t, db, rep)
	checkDefects(t, db, res.Day)

	// The report's own sums: every verified chain settled, every batch
	// paid out, nothing left in flight.
	if rep.Unexpected != 0 || rep.Items["settled"] != rep.Chains[demo.VerdictVerified] || len(rep.Items) != 1 {
		t.Errorf("items %v for %d verified chains; %d chains not as planned", rep.Items, rep.Chains[demo.VerdictVerified], rep.Unexpected)
	}
	if n := sum(rep.Batches); n == 0 || rep.BatchesSettled != n {
		t.Errorf("%d of %d batches paid out", rep.BatchesSettled, n)
	}
	if len(rep.Credit) != 2 || len(rep.Overrides) != 1 || rep.Approved+1 != sum(rep.Proposed) {
		t.Errorf("credit %v, overrides %v, %d approved of %v proposed", rep.Credit, rep.Overrides, rep.Approved, rep.Proposed)
	}
	for _, c := range rep.Credit {
		if c.Score < 300 || c.Grade == "" || len(c.Reasons) == 0 {
			t.Errorf("credit result %+v", c)
		}
	}
}

// checkConserved: in every currency, the posted debits of the whole
// ledger equal its posted credits.
func checkConserved(t *testing.T, db *sqlx.DB) {
	t.Helper()
	var rows []struct {
		Currency string          `db:"currency"`
		Debits   decimal.Decimal `db:"debits"`
		Credits  decimal.Decimal `db:"credits"`
	}
	if err := db.Select(&rows, `SELECT currency,
		coalesce(sum(amount) FILTER (WHERE direction = 'debit'), 0) AS debits,
		coalesce(sum(amount) FILTER (WHERE direction = 'credit'), 0) AS credits
		FROM postings WHERE phase = 'posted' GROUP BY currency ORDER BY currency`); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 {
		t.Errorf("postings in %d currencies, want CNY, EUR, JPY, USD: %+v", len(rows), rows)
	}
	for _, r := range rows {
		if !r.Debits.Equal(r.Credits) {
			t.Errorf("%s: debits %s, credits %s", r.Currency, r.Debits, r.Credits)
		}
	}
}

// checkBalances: summed over the institutions, from their postings, the
// reserves hold what the report says was collected, payout clearing what
// it says was paid out, fee and spread income what it says was earned, and
// the buyer funds and the sellers' payables are empty.
func checkBalances(t *testing.T, db *sqlx.DB, rep *demo.Report) {
	t.Helper()
	var rows []struct {
		Family   string          `db:"family"`
		Currency ledger.Currency `db:"currency"`
		Balance  decimal.Decimal `db:"balance"` // debits − credits
	}
	if err := db.Select(&rows, `SELECT split_part(a.code, ':', 1) AS family, a.currency,
		sum(CASE p.direction WHEN 'debit' THEN p.amount ELSE -p.amount END) AS balance
		FROM postings p JOIN accounts a ON a.id = p.account_id
		WHERE p.phase = 'posted' GROUP BY 1, 2`); err != nil {
		t.Fatal(err)
	}
	got := map[string]decimal.Decimal{}
	for _, r := range rows {
		got[r.Family+":"+string(r.Currency)] = r.Balance
	}
	want := map[string]decimal.Decimal{"fx_spread_income:CNY": rep.SpreadCNY.Neg()}
	for _, cur := range []ledger.Currency{"CNY", "USD", "EUR", "JPY"} {
		want["reserve:"+string(cur)] = rep.Collected[cur]
		want["payout_clearing:"+string(cur)] = rep.Net[cur].Neg()
		want["fee_income:"+string(cur)] = rep.Fees[cur].Neg()
		want["buyer_funds:"+string(cur)] = decimal.Zero
		want["merchant:"+string(cur)] = decimal.Zero
		if rep.Collected[cur].IsZero() || rep.Net[cur].IsZero() {
			t.Errorf("%s: collected %s, paid out %s: the day should move every currency", cur, rep.Collected[cur], rep.Net[cur])
		}
	}
	for k, w := range want {
		if !got[k].Equal(w) {
			t.Errorf("%s: the ledger says %s (debits − credits), the report %s", k, got[k], w)
		}
	}
}

// checkSettledOnce: the settlement entries of the ledger, counted by their
// key (settle:<payCode>:<payTransactionId>), are exactly one for each
// verified chain the service stored, and there are no others.
func checkSettledOnce(t *testing.T, db *sqlx.DB, rep *demo.Report) {
	t.Helper()
	var verified []string
	if err := db.Select(&verified, `SELECT 'settle:' || pay_code || ':' || pay_transaction_id FROM trade_chains
		WHERE status = 'verified' ORDER BY 1`); err != nil {
		t.Fatal(err)
	}
	if len(verified) != rep.Chains[demo.VerdictVerified] {
		t.Errorf("%d verified trade chains, the report %d", len(verified), rep.Chains[demo.VerdictVerified])
	}
	var entries []struct {
		Key   string `db:"idempotency_key"`
		Count int    `db:"n"`
	}
	if err := db.Select(&entries, `SELECT idempotency_key, count(*) AS n FROM entries
		WHERE idempotency_key LIKE 'settle:%' GROUP BY 1 ORDER BY 1`); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, e := range entries {
		if e.Count != 1 {
			t.Errorf("%s: %d entries", e.Key, e.Count)
		}
		keys = append(keys, e.Key)
	}
	if !slices.Equal(keys, verified) {
		t.Errorf("%d settlement entries for %d verified chains; first difference %s", len(keys), len(verified), firstDiff(keys, verified))
	}
}

// checkDefects: every planted defect is caught, in the verdict the
// service stored, by the rule that names it — and only by it.
func checkDefects(t *testing.T, db *sqlx.DB, day *demo.Day) {
	t.Helper()
	var rows []struct {
		Platform string `db:"tenant_id"`
		OrderNo  string `db:"order_no"`
		Verdict  []byte `db:"verdict"`
	}
	if err := db.Select(&rows, `SELECT c.tenant_id, c.order_no, v.verdict FROM clearance_chains c
		JOIN clearance_verdicts v ON (v.tenant_id, v.order_no, v.version) = (c.tenant_id, c.order_no, c.verdict_version)`); err != nil {
		t.Fatal(err)
	}
	verdicts := map[string]clearance.Verdict{}
	for _, r := range rows {
		var v clearance.Verdict
		if err := json.Unmarshal(r.Verdict, &v); err != nil {
			t.Fatal(err)
		}
		verdicts[r.Platform+"/"+r.OrderNo] = v
	}
	if len(verdicts) != len(day.Parcels) {
		t.Errorf("%d chains stored for %d parcels", len(verdicts), len(day.Parcels))
	}
	kinds := map[demo.DefectKind]int{}
	for _, d := range day.Defects {
		kinds[d.Kind]++
		caught := 0
		for _, o := range d.Orders {
			v := verdicts[d.Platform+"/"+o]
			switch rules := codes(v); {
			case d.Kind == demo.DefectMissingWaybill:
				if v.Status != clearance.StatusIncomplete || !slices.Equal(v.Missing, []clearance.Kind{clearance.KindWaybill}) || len(rules) > 0 {
					t.Errorf("%s %s: %s, missing %v, failed %v", d.Kind, o, v.Status, v.Missing, rules)
				}
				caught++
			case v.Status == clearance.StatusMismatched && slices.Equal(rules, []clearance.RuleCode{d.Kind.Rule()}):
				caught++
			case d.Kind == demo.DefectAnnualLimit && v.Status == clearance.StatusVerified:
				// five of the buyer's six orders fit in the year's quota
			default:
				t.Errorf("%s %s: %s, failed %v, missing %v", d.Kind, o, v.Status, rules, v.Missing)
			}
		}
		if caught != 1 {
			t.Errorf("%s %v: caught %d times, want once", d.Kind, d.Orders, caught)
		}
	}
	for _, k := range demo.DefectKinds {
		if kinds[k] == 0 {
			t.Errorf("no %s planted", k)
		}
	}
}

// codes are a verdict's failed rules, once each.
func codes(v clearance.Verdict) []clearance.RuleCode {
	var out []clearance.RuleCode
	for _, f := range v.Failed {
		if !slices.Contains(out, f.Code) {
			out = append(out, f.Code)
		}
	}
	return out
}

func firstDiff(a, b []string) string {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return fmt.Sprintf("%s vs %s", a[i], b[i])
		}
	}
	return "at the end"
}

func sum[K comparable](m map[K]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
