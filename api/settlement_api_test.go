package api_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/xbsettle/xbsettle/api"
	"github.com/xbsettle/xbsettle/settlement"
)

func uuidOf(t testing.TB, s string) uuid.UUID {
	t.Helper()
	id, err := uuid.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// settled settles n import trades paid out in CNY through CIPS (fee 1.00)
// for the test institution: verified, submitted through the API, processed
// and cut off. It returns the institution's key, the instruction and the
// value date.
func (b *bundle) settled(n int) (string, instructionOut, string) {
	b.t.Helper()
	return b.settledAs(n, "ORDS", "PAYS")
}

// settledAs is settled with order numbers and payment references that
// start with orderNo and payRef.
func (b *bundle) settledAs(n int, orderNo, payRef string) (string, instructionOut, string) {
	b.t.Helper()
	pi := b.key(api.RolePaymentInstitution, testInstitution)
	var specs []tradeSpec
	var items []map[string]any
	for i := range n {
		s := tradeSpec{orderNo: fmt.Sprintf("%s%03d", orderNo, i), seller: "4403100001", payCode: testInstitution,
			payRef: fmt.Sprintf("%s%03d", payRef, i), goods: d("100.00").Add(d(fmt.Sprint(i)))}
		specs = append(specs, s)
		items = append(items, map[string]any{"ebpCode": testPlatform, "orderNo": s.orderNo, "payTransactionId": s.payRef,
			"enterprise": s.seller, "currency": "CNY", "amount": s.paid().StringFixed(2), "payout_currency": "CNY", "fee": "1.00"})
	}
	b.verifyTrades(specs)
	ins := b.submitSettlement(pi, "settled", items)
	if err := b.settle.ProcessInstruction(context.Background(), testInstitution, uuidOf(b.t, ins.ID)); err != nil {
		b.t.Fatal(err)
	}
	vd := *b.settlementOf(pi, ins.ID).Items[0].ValueDate
	if r := b.do(req{method: "POST", path: "/v1/settlement-batches/cutoff?date=" + vd, key: b.admin,
		headers: []string{"X-Tenant-ID", testInstitution}}); r.Status != http.StatusOK {
		b.t.Fatalf("cut-off: %d %s", r.Status, r.Body)
	}
	return pi, b.settlementOf(pi, ins.ID), vd
}

// TestSubmitSettlementAPI: the edge refuses what cannot be an instruction
// with every bad field named; retries replay; roles and tenants are kept
// apart.
func TestSubmitSettlementAPI(t *testing.T) {
	t.Parallel()
	b := setup(t)
	item := map[string]any{"ebpCode": testPlatform, "orderNo": "O1", "payTransactionId": "P1", "enterprise": "4403100001",
		"currency": "CNY", "amount": "10.00", "payout_currency": "CNY"}
	body := map[string]any{"items": []any{item}}
	wantProblem(t, b.do(req{method: "POST", path: "/v1/settlements", key: b.pi, body: body}), http.StatusBadRequest, "IDEMPOTENCY_KEY_REQUIRED")
	wantProblem(t, b.do(req{method: "POST", path: "/v1/settlements", key: b.platform, body: body, headers: []string{"Idempotency-Key", "k"}}),
		http.StatusForbidden, "FORBIDDEN")

	bad := []any{
		map[string]any{"ebpCode": testPlatform, "orderNo": "O1", "payTransactionId": "P1", "enterprise": "4403100001",
			"currency": "CNY", "amount": 10, "payout_currency": "USD"},
		map[string]any{"ebpCode": "", "orderNo": "O 2", "payTransactionId": "P1", "enterprise": "acme", "currency": "USD",
			"amount": "10.001", "payout_currency": "EUR", "quote_id": "nope", "fee": "-1"},
	}
	p := wantProblem(t, b.do(req{method: "POST", path: "/v1/settlements", key: b.pi, body: map[string]any{"items": bad},
		headers: []string{"Idempotency-Key", "bad"}}), http.StatusUnprocessableEntity, "VALIDATION_FAILED")
	for _, want := range [][2]string{{"items[0].amount", "AMOUNT_NOT_STRING"}, {"items[1].quote_id", "UUID_INVALID"},
		{"items[1].fee", "AMOUNT_NOT_POSITIVE"}} {
		if !hasField(p, want[0], want[1]) {
			t.Errorf("edge: missing %s %s in %s", want[0], want[1], fieldList(p))
		}
	}
	bad[0].(map[string]any)["amount"] = "10.00"
	bad[1].(map[string]any)["quote_id"], bad[1].(map[string]any)["fee"] = uuid.NewString(), "1.00"
	p = wantProblem(t, b.do(req{method: "POST", path: "/v1/settlements", key: b.pi, body: map[string]any{"items": bad},
		headers: []string{"Idempotency-Key", "bad"}}), http.StatusUnprocessableEntity, "VALIDATION_FAILED")
	for _, want := range [][2]string{{"items[0].quote_id", "QUOTE_REQUIRED"}, {"items[1].ebpCode", "REQUIRED"},
		{"items[1].orderNo", "REF_INVALID"}, {"items[1].enterprise", "ENTERPRISE_INVALID"}, {"items[1].amount", "AMOUNT_PRECISION"},
		{"items[1].payout_currency", "FLOW_UNSUPPORTED"}, {"items[1].payTransactionId", "DUPLICATE"}} {
		if !hasField(p, want[0], want[1]) {
			t.Errorf("domain: missing %s %s in %s", want[0], want[1], fieldList(p))
		}
	}
	many := make([]any, settlement.MaxItems+1)
	for i := range many {
		many[i] = item
	}
	wantProblem(t, b.do(req{method: "POST", path: "/v1/settlements", key: b.pi, body: map[string]any{"items": many},
		headers: []string{"Idempotency-Key", "many"}}), http.StatusUnprocessableEntity, "BATCH_TOO_LARGE")
	p = wantProblem(t, b.do(req{method: "POST", path: "/v1/settlements", key: b.pi, body: map[string]any{"items": []any{}},
		headers: []string{"Idempotency-Key", "none"}}), http.StatusUnprocessableEntity, "VALIDATION_FAILED")
	if !hasField(p, "items", "REQUIRED") {
		t.Fatalf("no items: %s", fieldList(p))
	}

	first := b.submitSettlement(b.pi, "once", []map[string]any{item})
	if len(first.Items) != 1 || first.Items[0].Status != "accepted" || len(first.Items[0].History) != 1 {
		t.Fatalf("202 body %+v", first)
	}
	r := b.do(req{method: "POST", path: "/v1/settlements", key: b.pi, body: body, headers: []string{"Idempotency-Key", "once"}})
	var again instructionOut
	r.into(t, &again)
	if r.Status != http.StatusOK || r.Header.Get("Idempotent-Replayed") != "true" || again.ID != first.ID {
		t.Fatalf("replay: %d %s", r.Status, r.Body)
	}
	item["fee"] = "1.00"
	wantProblem(t, b.do(req{method: "POST", path: "/v1/settlements", key: b.pi, body: body, headers: []string{"Idempotency-Key", "once"}}),
		http.StatusConflict, "IDEMPOTENCY_CONFLICT")
	wantProblem(t, b.do(req{method: "GET", path: "/v1/settlements/" + first.ID, key: b.piOther}), http.StatusNotFound, "SETTLEMENT_NOT_FOUND")
	if r := b.do(req{method: "GET", path: "/v1/settlements/" + first.ID, key: b.admin, headers: []string{"X-Tenant-ID", "T1"}}); r.Status != http.StatusOK {
		t.Fatalf("admin reads T1's instruction: %d", r.Status)
	}

	wantProblem(t, b.do(req{method: "POST", path: "/v1/settlement-batches/cutoff", key: b.pi}), http.StatusForbidden, "FORBIDDEN")
	tomorrow := settlement.Today(time.Now()).AddDate(0, 0, 1).Format(time.DateOnly)
	p = wantProblem(t, b.do(req{method: "POST", path: "/v1/settlement-batches/cutoff?date=" + tomorrow, key: b.admin,
		headers: []string{"X-Tenant-ID", "T1"}}), http.StatusUnprocessableEntity, "VALIDATION_FAILED")
	if !hasField(p, "date", "DATE_IN_FUTURE") {
		t.Fatalf("cut-off of tomorrow: %s", fieldList(p))
	}
	p = wantProblem(t, b.do(req{method: "GET", path: "/v1/settlement-batches?currency=XYZ&date=16-03-2026", key: b.pi}),
		http.StatusUnprocessableEntity, "VALIDATION_FAILED")
	if !hasField(p, "currency", "CURRENCY_INVALID") || !hasField(p, "date", "DATE_INVALID") {
		t.Fatalf("batch list filters: %s", fieldList(p))
	}
	wantProblem(t, b.do(req{method: "GET", path: "/v1/settlement-batches?cursor=zz", key: b.pi}), http.StatusBadRequest, "BAD_CURSOR")
	wantProblem(t, b.do(req{method: "GET", path: "/v1/reports/transactions?date=2026-03-16&cursor=zz", key: b.pi}), http.StatusBadRequest, "BAD_CURSOR")
}

// TestReportsAPI: the day's statement and 逐笔 report in both formats; the
// FX bureau reads an institution's report by naming it, other roles and
// tenants do not.
func TestReportsAPI(t *testing.T) {
	t.Parallel()
	b := setup(t)
	pi, ins, vd := b.settled(3)
	for _, it := range ins.Items {
		if it.Status != "settled" {
			t.Fatalf("item %s: %s %v", it.PayTransactionID, it.Status, it.Codes)
		}
	}
	r := b.do(req{method: "GET", path: "/v1/reports/transactions?date=" + vd, key: pi, headers: []string{"Accept", "text/csv"}})
	if r.Status != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("CSV by Accept: %d %s", r.Status, r.Header.Get("Content-Type"))
	}
	recs, _ := csv.NewReader(strings.NewReader(string(r.Body))).ReadAll()
	if len(recs) != 4 || recs[1][10] != "CIPS" {
		t.Fatalf("CSV report: %v", recs)
	}
	r = b.do(req{method: "GET", path: "/v1/reports/transactions?limit=2&date=" + vd, key: pi})
	var page struct {
		Data       []map[string]*string `json:"data"`
		NextCursor *string              `json:"next_cursor"`
	}
	r.into(t, &page)
	if len(page.Data) != 2 || page.NextCursor == nil {
		t.Fatalf("first page: %s", r.Body)
	}
	r = b.do(req{method: "GET", path: "/v1/reports/transactions?limit=2&date=" + vd + "&cursor=" + *page.NextCursor, key: pi})
	r.into(t, &page)
	if len(page.Data) != 1 || page.NextCursor != nil {
		t.Fatalf("last page: %s", r.Body)
	}
	p := wantProblem(t, b.do(req{method: "GET", path: "/v1/reports/transactions?format=xml", key: pi}), http.StatusUnprocessableEntity, "VALIDATION_FAILED")
	if !hasField(p, "format", "FORMAT_INVALID") || !hasField(p, "date", "REQUIRED") {
		t.Fatalf("bad report request: %s", fieldList(p))
	}

	bureau := b.key(api.RoleFXBureau, "")
	r = b.do(req{method: "GET", path: "/v1/reports/transactions?format=json&date=" + vd, key: bureau, headers: []string{"X-Tenant-ID", testInstitution}})
	r.into(t, &page)
	if r.Status != http.StatusOK || len(page.Data) != 3 {
		t.Fatalf("the bureau's read: %d %s", r.Status, r.Body)
	}
	wantProblem(t, b.do(req{method: "GET", path: "/v1/reports/transactions?date=" + vd, key: bureau}), http.StatusBadRequest, "TENANT_REQUIRED")
	wantProblem(t, b.do(req{method: "GET", path: "/v1/reports/transactions?date=" + vd, key: b.key(api.RoleBank, "B1")}), http.StatusForbidden, "FORBIDDEN")
	r = b.do(req{method: "GET", path: "/v1/reports/transactions?date=" + vd, key: b.piOther})
	r.into(t, &page)
	if len(page.Data) != 0 {
		t.Fatalf("another institution sees %d lines", len(page.Data))
	}

	// 3 items of 100 + i CNY goods with 9.1% tax, paid out less 1.00 each.
	var st struct {
		Batches []batchOut `json:"batches"`
		Totals  []struct {
			Currency  string `json:"currency"`
			Collected string `json:"collected"`
			Items     int    `json:"items"`
			Net       string `json:"net"`
			Fees      string `json:"fees"`
		} `json:"totals"`
		Balances []struct {
			Code   string `json:"code"`
			Posted string `json:"posted"`
		} `json:"balances"`
	}
	r = b.do(req{method: "GET", path: "/v1/reports/statement?date=" + vd, key: pi})
	r.into(t, &st)
	collected := d("100.00").Add(importTax(d("100.00"))).Add(d("101.00")).Add(importTax(d("101.00"))).Add(d("102.00")).Add(importTax(d("102.00")))
	if len(st.Batches) != 1 || st.Batches[0].Status != "settled" || len(st.Totals) != 1 || st.Totals[0].Items != 3 ||
		!d(st.Totals[0].Collected).Equal(collected) || !d(st.Totals[0].Net).Equal(collected.Sub(d("3.00"))) || st.Totals[0].Fees != "3.00" {
		t.Fatalf("statement: %s", r.Body)
	}
	balances := map[string]string{}
	for _, bal := range st.Balances {
		balances[bal.Code] = bal.Posted
	}
	if !d(balances["reserve:CNY"]).Equal(collected) || balances["fee_income:CNY"] != "3.00" || balances["buyer_funds:CNY"] != "0.00" {
		t.Fatalf("statement balances %v", balances)
	}
	r = b.do(req{method: "GET", path: "/v1/reports/statement?format=csv&date=" + vd, key: pi})
	recs, _ = csv.NewReader(strings.NewReader(string(r.Body))).ReadAll()
	if r.Status != http.StatusOK || len(recs) < 4 || recs[0][0] != "line" || recs[1][0] != "batch" || recs[2][0] != "total" {
		t.Fatalf("statement CSV: %v", recs)
	}
}

// TestReconciliationAPI: a bank statement of the CNY reserve is matched by
// reference (entry key or id) and amount; what does not match is listed on
// each side with a reason.
func TestReconciliationAPI(t *testing.T) {
	t.Parallel()
	b := setup(t)
	pi, ins, _ := b.settled(4)
	type entryOut struct {
		ID             string `json:"id"`
		IdempotencyKey string `json:"idempotency_key"`
		EffectiveAt    string `json:"effective_at"`
	}
	var entries []entryOut
	for _, it := range ins.Items {
		var e entryOut
		b.do(req{method: "GET", path: "/v1/entries/" + *it.EntryID, key: pi}).into(t, &e)
		entries = append(entries, e)
	}
	day := func(e entryOut) string {
		at, _ := time.Parse(time.RFC3339Nano, e.EffectiveAt)
		return settlement.Today(at).Format(time.DateOnly)
	}
	csvBody := strings.Join([]string{
		"Date,Reference,Amount,Direction,Description",
		fmt.Sprintf("%s,%s,%s,credit,by key", day(entries[0]), entries[0].IdempotencyKey, ins.Items[0].Amount),
		fmt.Sprintf("%s,%s,%s,credit,by id", day(entries[1]), entries[1].ID, ins.Items[1].Amount),
		fmt.Sprintf("%s,%s,%s,credit,again", day(entries[1]), entries[1].ID, ins.Items[1].Amount),
		fmt.Sprintf("%s,%s,1.00,credit,short", day(entries[2]), entries[2].IdempotencyKey),
		fmt.Sprintf("%s,unknown-ref,5.00,credit,stray", day(entries[0])),
		fmt.Sprintf("%s,%s,%s,debit,wrong way", day(entries[3]), entries[3].IdempotencyKey, ins.Items[3].Amount),
	}, "\n")
	post := func(key, query, ct, body string) response {
		return b.do(req{method: "POST", path: "/v1/reconciliations" + query, key: key, body: body, headers: []string{"Content-Type", ct}})
	}
	r := post(pi, "?currency=CNY", "text/csv", csvBody)
	var rec struct {
		Summary   map[string]int `json:"summary"`
		Unmatched []struct {
			Statement struct {
				Line int `json:"line"`
			} `json:"statement"`
			Reason string `json:"reason"`
		} `json:"unmatched_statement"`
		UnmatchedLedger []struct {
			EntryID string `json:"entry_id"`
		} `json:"unmatched_ledger"`
	}
	r.into(t, &rec)
	if r.Status != http.StatusOK || rec.Summary["matched"] != 2 || rec.Summary["unmatched_statement"] != 4 || rec.Summary["unmatched_ledger"] != 2 {
		t.Fatalf("reconciliation: %d %s", r.Status, r.Body)
	}
	reasons := map[int]string{}
	for _, u := range rec.Unmatched {
		reasons[u.Statement.Line] = u.Reason
	}
	if reasons[4] != "ALREADY_MATCHED" || reasons[5] != "AMOUNT_DIFFERS" || reasons[6] != "NO_ENTRY" || reasons[7] != "DIRECTION_DIFFERS" {
		t.Fatalf("reasons %v", reasons)
	}
	unmatched := map[string]bool{}
	for _, u := range rec.UnmatchedLedger {
		unmatched[u.EntryID] = true
	}
	if !unmatched[entries[2].ID] || !unmatched[entries[3].ID] {
		t.Fatalf("unmatched in the ledger: %v, want entries 3 and 4", unmatched)
	}

	wantProblem(t, post(pi, "?currency=CNY", "application/json", csvBody), http.StatusUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE")
	p := wantProblem(t, post(pi, "", "text/csv", csvBody), http.StatusUnprocessableEntity, "VALIDATION_FAILED")
	if !hasField(p, "currency", "REQUIRED") {
		t.Fatalf("no currency: %s", fieldList(p))
	}
	p = wantProblem(t, post(pi, "?currency=CNY", "text/csv", "date,reference,amount,direction\n2026-01-02,x,1.001,in\nnot-a-date,,1,credit\n"),
		http.StatusUnprocessableEntity, "VALIDATION_FAILED")
	for _, want := range [][2]string{{"lines[2].amount", "AMOUNT_PRECISION"}, {"lines[2].direction", "DIRECTION_INVALID"},
		{"lines[3].date", "DATE_INVALID"}, {"lines[3].reference", "REQUIRED"}} {
		if !hasField(p, want[0], want[1]) {
			t.Errorf("missing %s %s in %s", want[0], want[1], fieldList(p))
		}
	}
	p = wantProblem(t, post(pi, "?currency=CNY", "text/csv", "when,ref\n"), http.StatusUnprocessableEntity, "VALIDATION_FAILED")
	if !hasField(p, "header.date", "REQUIRED") {
		t.Fatalf("bad header: %s", fieldList(p))
	}
	// Another institution's statement matches nothing of this one's.
	r = post(b.piOther, "?currency=CNY", "text/csv", csvBody)
	r.into(t, &rec)
	if rec.Summary["matched"] != 0 || rec.Summary["unmatched_statement"] != 6 {
		t.Fatalf("another tenant: %s", r.Body)
	}
}
