package api_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/xbsettle/xbsettle/api"
)

// decisionOut is a decision as the audit shows it.
type decisionOut struct {
	ID               string    `json:"id"`
	Action           string    `json:"action"`
	Category         string    `json:"category"`
	ProposedCategory string    `json:"proposed_category"`
	Reason           string    `json:"reason"`
	EffectiveFrom    string    `json:"effective_from"`
	EffectiveTo      string    `json:"effective_to"`
	DecidedBy        string    `json:"decided_by"`
	DecidedRole      string    `json:"decided_role"`
	DecidedAt        time.Time `json:"decided_at"`
}

type standingOut struct {
	InEffect struct {
		Category string `json:"category"`
		Source   string `json:"source"`
	} `json:"in_effect"`
	Decisions []decisionOut `json:"decisions"`
	Proposals []proposalOut `json:"proposals"`
}

func (b *bundle) standing(key, code string) standingOut {
	b.t.Helper()
	r := b.do(req{method: "GET", path: "/v1/enterprises/" + code + "/classification", key: key})
	if r.Status != http.StatusOK {
		b.t.Fatalf("standing of %s: %d %s", code, r.Status, r.Body)
	}
	var s standingOut
	r.into(b.t, &s)
	return s
}

func codesOf(p proposalOut) []string {
	var out []string
	for _, r := range p.Reasons {
		out = append(out, r.Code)
	}
	return out
}

// TestClassificationAPI: a run through the API and a real worker proposes
// each enterprise's category with its reasons; the FX bureau pages and
// filters its queue, cannot override without a reason, and its decisions
// are audited with who, what and when, and take effect.
func TestClassificationAPI(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.startWorkers()
	fx := b.key(api.RoleFXBureau, "")
	const serious, gap, quiet = "4403110001", "4403110002", "4403110003"
	for _, c := range []string{serious, gap, quiet} {
		b.registerEnterprise(c, "seller", "2016-05-20", nil)
	}
	if r := b.do(req{method: "POST", path: "/v1/enterprises/" + serious + "/violations", key: fx,
		body: map[string]any{"ref": "SAFE-1", "severity": "serious", "occurred_on": "2026-05-01"}}); r.Status != http.StatusCreated {
		t.Fatalf("violation: %d %s", r.Status, r.Body)
	}
	if r := b.do(req{method: "POST", path: "/v1/enterprises/" + gap + "/reporting-gaps", key: fx,
		body: map[string]any{"month": "2026-04", "kind": "missing"}}); r.Status != http.StatusCreated {
		t.Fatalf("gap: %d %s", r.Status, r.Body)
	}
	wantProblem(t, b.do(req{method: "POST", path: "/v1/classifications/run", key: b.platform, body: map[string]any{}}), http.StatusForbidden, "FORBIDDEN")
	p := wantProblem(t, b.do(req{method: "POST", path: "/v1/classifications/run", key: fx,
		body: map[string]any{"period_start": "2026-06-01", "period_end": "2026-01-01", "enterprises": []string{"x"}}}),
		http.StatusUnprocessableEntity, "VALIDATION_FAILED")
	if !hasField(p, "period_end", "PERIOD_INVALID") || !hasField(p, "enterprises[0]", "CUSTOMS_CODE_INVALID") {
		t.Fatalf("bad run: %s", fieldList(p))
	}
	// The default period (the twelve months before this one) holds the records.
	run := b.classify(fx, map[string]any{"enterprises": []string{serious, gap, quiet}})
	if run.Proposals != 3 || run.Failures != 0 {
		t.Fatalf("run %+v", run)
	}

	all, next := b.queue(fx, "?limit=2")
	if len(all) != 2 || next == nil {
		t.Fatalf("first page: %d, next %v", len(all), next)
	}
	rest, next := b.queue(fx, "?limit=2&cursor="+*next)
	if len(rest) != 1 || next != nil {
		t.Fatalf("second page: %d, next %v", len(rest), next)
	}
	want := map[string]struct {
		cat   string
		codes []string
	}{serious: {"C", []string{"NO_TRADE", "SERIOUS_VIOLATIONS"}}, gap: {"B", []string{"NO_TRADE", "REPORTING_GAPS"}}, quiet: {"A", []string{"NO_TRADE"}}}
	byEnterprise := map[string]proposalOut{}
	for _, p := range append(all, rest...) {
		byEnterprise[p.Enterprise] = p
		if w := want[p.Enterprise]; p.Category != w.cat || !slices.Equal(codesOf(p), w.codes) || p.Status != "pending" {
			t.Errorf("%s: %s %v, want %s %v", p.Enterprise, p.Category, codesOf(p), w.cat, w.codes)
		}
	}
	if cs, _ := b.queue(fx, "?category=C"); len(cs) != 1 || cs[0].Enterprise != serious || cs[0].Figures.SeriousViolations != 1 {
		t.Fatalf("category filter: %+v", cs)
	}
	wantProblem(t, b.do(req{method: "GET", path: "/v1/classifications/queue?status=open", key: fx}), http.StatusUnprocessableEntity, "VALIDATION_FAILED")
	wantProblem(t, b.do(req{method: "GET", path: "/v1/classifications/queue?cursor=zz", key: fx}), http.StatusBadRequest, "BAD_CURSOR")
	wantProblem(t, b.do(req{method: "GET", path: "/v1/classifications/queue", key: b.platform}), http.StatusForbidden, "FORBIDDEN")

	decide := func(id string, body map[string]any) response {
		return b.do(req{method: "POST", path: "/v1/classifications/" + id + "/decision", key: fx, body: body})
	}
	// An override without a reason is refused, and nothing is decided.
	p = wantProblem(t, decide(byEnterprise[gap].ID, map[string]any{"action": "override", "category": "A"}), http.StatusUnprocessableEntity, "VALIDATION_FAILED")
	if !hasField(p, "reason", "REQUIRED") {
		t.Fatalf("override without a reason: %s", fieldList(p))
	}
	if s := b.standing(fx, gap); len(s.Decisions) != 0 || s.InEffect.Source != "default" {
		t.Fatalf("a refused override left a decision: %+v", s)
	}
	before := time.Now()
	r := decide(byEnterprise[gap].ID, map[string]any{"action": "override", "category": "A", "reason": "report filed late with the bureau's leave"})
	if r.Status != http.StatusCreated {
		t.Fatalf("override: %d %s", r.Status, r.Body)
	}
	if r := decide(byEnterprise[serious].ID, map[string]any{"action": "approve"}); r.Status != http.StatusCreated {
		t.Fatalf("approve: %d %s", r.Status, r.Body)
	}
	wantProblem(t, decide(byEnterprise[serious].ID, map[string]any{"action": "approve"}), http.StatusConflict, "CLASSIFICATION_NOT_PENDING")

	// The audit: who (the key and its role), what, why and when.
	s := b.standing(b.admin, gap)
	d := s.Decisions[0]
	var role string
	if err := b.db.Get(&role, `SELECT role FROM api_keys WHERE id = $1`, d.DecidedBy); err != nil || role != "fx_bureau" {
		t.Fatalf("decided by %q: role %q, %v", d.DecidedBy, role, err)
	}
	today := time.Now().In(time.FixedZone("CST", 8*3600)).Format(time.DateOnly)
	if len(s.Decisions) != 1 || d.Action != "override" || d.Category != "A" || d.ProposedCategory != "B" || d.DecidedRole != "fx_bureau" ||
		d.Reason == "" || d.DecidedAt.Before(before.Add(-time.Second)) || d.DecidedAt.After(time.Now()) || d.EffectiveFrom != today ||
		s.InEffect.Category != "A" || s.InEffect.Source != "decision" || s.Proposals[0].Status != "overridden" {
		t.Fatalf("audit %+v", s)
	}
	if s := b.standing(b.key(api.RolePlatform, serious), serious); s.InEffect.Category != "C" {
		t.Fatalf("the enterprise's own view: %+v", s.InEffect)
	}
	if cs, _ := b.queue(fx, "?status=overridden"); len(cs) != 1 || cs[0].Enterprise != gap {
		t.Fatalf("overridden: %+v", cs)
	}
}

// TestCategoryCHoldsSettlement crosses the issues through the API: an
// enterprise registered with its credit code trades through clearance (three
// verified chains, one left incomplete), is made C by a classification run
// and the FX bureau's approval, and the settlement of its payments is held;
// the bureau then releases one held item (it settles), refuses another, and
// the third stays held. FX category C also forces export-rebate class 4.
func TestCategoryCHoldsSettlement(t *testing.T) {
	t.Parallel()
	b := setup(t)
	fx := b.key(api.RoleFXBureau, "")
	const seller = "4403120001"
	b.registerEnterprise(seller, "seller", "2014-09-01", map[string]any{"exporter_kind": "trader", "tax_credit_rating": "A",
		"first_rebate_claim_on": "2015-01-01", "net_assets_cny": "900000.00", "rebates_cny": "100000.00", "risk_control_system": true})
	pi := b.key(api.RolePaymentInstitution, testInstitution)
	var specs []tradeSpec
	var items []map[string]any
	for i := range 3 {
		s := tradeSpec{orderNo: fmt.Sprintf("ORDC%03d", i), seller: seller, payCode: testInstitution,
			payRef: fmt.Sprintf("PAYC%03d", i), goods: decimal.NewFromInt(int64(200 + i))}
		specs = append(specs, s)
		items = append(items, map[string]any{"ebpCode": testPlatform, "orderNo": s.orderNo, "payTransactionId": s.payRef,
			"enterprise": seller, "currency": "CNY", "amount": s.paid().StringFixed(2), "payout_currency": "CNY", "fee": "1.00"})
	}
	b.verifyTrades(specs)
	// A fourth chain of the seller stays incomplete: its order and inventory only.
	lone := tradeSpec{orderNo: "ORDC999", seller: seller, payCode: testInstitution, payRef: "PAYC999", goods: d("50.00")}
	docs := lone.documents(99)
	platform := b.key(api.RolePlatform, testPlatform)
	if r := b.do(req{method: "POST", path: "/v1/documents/batch", key: platform, body: map[string]any{"documents": []any{
		rawJSON(docs[0]), rawJSON(docs[3])}}}); r.Status != http.StatusCreated {
		t.Fatalf("lone chain: %d %s", r.Status, r.Body)
	}
	waitFor(t, "the lone chain to be matched", func() bool {
		var st *string
		_ = b.db.Get(&st, `SELECT status FROM clearance_chains WHERE tenant_id = $1 AND order_no = 'ORDC999'`, testPlatform)
		return st != nil && *st == "incomplete"
	})

	// The chains were ordered on 2026-03-16 but verified only now: a period
	// ending before today would judge them as they stood then, unverified.
	tomorrow := time.Now().In(time.FixedZone("CST", 8*3600)).AddDate(0, 0, 1).Format(time.DateOnly)
	run := b.classify(fx, map[string]any{"enterprises": []string{seller}, "period_start": "2026-01-01", "period_end": tomorrow})
	if run.Proposals != 1 {
		t.Fatalf("run %+v", run)
	}
	ps, _ := b.queue(fx, "?enterprise="+seller)
	p := ps[0]
	// Goods without funds (nothing settled yet) is C; the counts come from
	// the verified chains and, through its documents, the incomplete one.
	if p.Category != "C" || !slices.Contains(codesOf(p), "FUND_GOODS_RATIO_LOW") || p.Figures.Chains.Submitted != 4 ||
		p.Figures.Chains.Verified != 3 || p.Figures.Chains.Unverified != 1 || p.Figures.FundsCNY != "0.00" {
		t.Fatalf("proposal %+v", p)
	}
	if r := b.do(req{method: "POST", path: "/v1/classifications/" + p.ID + "/decision", key: fx, body: map[string]any{"action": "approve"}}); r.Status != http.StatusCreated {
		t.Fatalf("approve: %d %s", r.Status, r.Body)
	}
	var e enterpriseOut
	b.do(req{method: "GET", path: "/v1/enterprises/" + seller, key: fx}).into(t, &e)
	if e.FXCategory.Category != "C" || e.TaxClass == nil || e.TaxClass.Class != 4 || e.TaxClass.Reasons[0].Code != "FX_CATEGORY_C" {
		t.Fatalf("enterprise after C: %+v", e)
	}

	ins := b.submitSettlement(pi, "held", items)
	got := b.awaitAtRest(pi, ins.ID)[0]
	for _, it := range got.Items {
		if it.Status != "held" || !slices.Equal(it.Codes, []string{"FX_CATEGORY_C"}) || it.EntryID != nil {
			t.Fatalf("item %s: %s %v", it.PayTransactionID, it.Status, it.Codes)
		}
	}

	register := func(item string, body map[string]any) response {
		return b.do(req{method: "POST", path: "/v1/settlements/" + ins.ID + "/items/" + item + "/registration", key: fx,
			body: body, headers: []string{"X-Tenant-ID", testInstitution}})
	}
	wantProblem(t, b.do(req{method: "POST", path: "/v1/settlements/" + ins.ID + "/items/" + got.Items[0].ID + "/registration",
		key: pi, body: map[string]any{"action": "release", "reference": "R1"}}), http.StatusForbidden, "FORBIDDEN")
	p2 := wantProblem(t, register(got.Items[1].ID, map[string]any{"action": "refuse", "reference": "R2"}), http.StatusUnprocessableEntity, "VALIDATION_FAILED")
	if !hasField(p2, "reason", "REQUIRED") {
		t.Fatalf("refusal without a reason: %s", fieldList(p2))
	}
	if r := register(got.Items[0].ID, map[string]any{"action": "release", "reference": "SAFE-REG-1"}); r.Status != http.StatusOK {
		t.Fatalf("release: %d %s", r.Status, r.Body)
	}
	if r := register(got.Items[0].ID, map[string]any{"action": "release", "reference": "SAFE-REG-1"}); r.Status != http.StatusOK {
		t.Fatalf("release replayed: %d %s", r.Status, r.Body)
	}
	wantProblem(t, register(got.Items[0].ID, map[string]any{"action": "refuse", "reference": "SAFE-REG-9", "reason": "changed mind"}),
		http.StatusConflict, "ITEM_NOT_HELD")
	if r := register(got.Items[1].ID, map[string]any{"action": "refuse", "reference": "SAFE-REG-2", "reason": "no trade contract"}); r.Status != http.StatusOK {
		t.Fatalf("refuse: %d %s", r.Status, r.Body)
	}
	final := b.awaitAtRest(pi, ins.ID)[0]
	statuses := []string{final.Items[0].Status, final.Items[1].Status, final.Items[2].Status}
	if !slices.Equal(statuses, []string{"batched", "rejected", "held"}) || final.Items[0].EntryID == nil ||
		!slices.Equal(final.Items[1].Codes, []string{"FX_REGISTRATION_REFUSED"}) {
		t.Fatalf("after registration: %v %+v", statuses, final.Items[:2])
	}
	// The refused payment is free again; the released one settled once.
	var claims int
	if err := b.db.Get(&claims, `SELECT count(*) FROM settlement_claims WHERE tenant_id = $1`, testInstitution); err != nil || claims != 2 {
		t.Fatalf("claims %d, %v", claims, err)
	}
	if err := b.settle.ProcessInstruction(context.Background(), testInstitution, uuidOf(t, ins.ID)); err != nil {
		t.Fatal(err)
	}
	var entries int
	if err := b.db.Get(&entries, `SELECT count(*) FROM entries WHERE idempotency_key LIKE 'settle:%'`); err != nil || entries != 1 {
		t.Fatalf("settlement entries %d, %v", entries, err)
	}
}

// rawJSON passes a JSON document through unchanged.
type rawJSON string

func (r rawJSON) MarshalJSON() ([]byte, error) { return []byte(r), nil }
