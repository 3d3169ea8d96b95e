package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/xbsettle/xbsettle/api"
	"github.com/xbsettle/xbsettle/risk/risktest"
	"github.com/xbsettle/xbsettle/settlement/clearance"
)

// TestEnterprisesAPI: registration with the credit code checked, replays
// and conflicts, who reads an enterprise, tax profiles and their class,
// consents, and the bureau's records.
func TestEnterprisesAPI(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const seller, bank = "4403100101", "4403000B01"
	fx := b.key(api.RoleFXBureau, "")
	own := b.key(api.RolePlatform, seller)
	other := b.key(api.RolePlatform, "4403100102")

	bad := enterpriseBody(seller, "seller", "2018-04-01", nil)
	bad["unified_social_credit_code"] = risktest.USCC(seller)[:17] + "0"
	if bad["unified_social_credit_code"] == risktest.USCC(seller) {
		bad["unified_social_credit_code"] = risktest.USCC(seller)[:17] + "1"
	}
	bad["kind"], bad["registered_at"] = "trader", "2099-01-01"
	p := wantProblem(t, b.do(req{method: "POST", path: "/v1/enterprises", key: b.admin, body: bad}), http.StatusUnprocessableEntity, "VALIDATION_FAILED")
	for _, want := range [][2]string{{"unified_social_credit_code", "USCC_CHECK_CHAR"}, {"kind", "ENTERPRISE_KIND_INVALID"},
		{"registered_at", "DATE_IN_FUTURE"}} {
		if !hasField(p, want[0], want[1]) {
			t.Errorf("missing %s %s in %s", want[0], want[1], fieldList(p))
		}
	}
	delete(bad, "registered_at")
	bad["customs_code"] = "acme"
	p = wantProblem(t, b.do(req{method: "POST", path: "/v1/enterprises", key: b.admin, body: bad}), http.StatusUnprocessableEntity, "VALIDATION_FAILED")
	if !hasField(p, "registered_at", "REQUIRED") || !hasField(p, "customs_code", "CUSTOMS_CODE_INVALID") {
		t.Errorf("registration date and code: %s", fieldList(p))
	}
	wantProblem(t, b.do(req{method: "POST", path: "/v1/enterprises", key: own, body: enterpriseBody(seller, "seller", "2018-04-01", nil)}),
		http.StatusForbidden, "FORBIDDEN")

	// A lower-case credit code with spaces is normalised, then checked.
	body := enterpriseBody(seller, "seller", "2018-04-01", map[string]any{"exporter_kind": "trader", "tax_credit_rating": "A",
		"first_rebate_claim_on": "2019-01-10", "net_assets_cny": "-5000.00", "rebates_cny": "0.00", "risk_control_system": true})
	body["unified_social_credit_code"] = " " + strings.ToLower(risktest.USCC(seller)) + " "
	r := b.do(req{method: "POST", path: "/v1/enterprises", key: b.admin, body: body})
	if r.Status != http.StatusCreated {
		t.Fatalf("register: %d %s", r.Status, r.Body)
	}
	var e enterpriseOut
	r.into(t, &e)
	if *e.USCC != risktest.USCC(seller) || *e.RegisteredAt != "2018-04-01" || e.FXCategory.Category != "A" ||
		e.FXCategory.Source != "default" || e.TaxClass == nil || e.TaxClass.Class != 2 || e.TaxClass.Reasons[0].Code != "NET_ASSETS_LOW" {
		t.Fatalf("registered: %s", r.Body)
	}
	if r := b.do(req{method: "POST", path: "/v1/enterprises", key: b.admin, body: body}); r.Status != http.StatusOK {
		t.Fatalf("replay: %d %s", r.Status, r.Body)
	}
	body["name"] = "Someone Else"
	wantProblem(t, b.do(req{method: "POST", path: "/v1/enterprises", key: b.admin, body: body}), http.StatusConflict, "ENTERPRISE_EXISTS")

	// A bare row clearance registered for rule PARTIES is completed.
	if err := b.clr.RegisterEnterprises(context.Background(), []clearance.Enterprise{{CustomsCode: bank, Name: "Bank", Kind: "bank"}}); err != nil {
		t.Fatal(err)
	}
	if got := b.registerEnterprise(bank, "bank", "1998-01-01", nil); *got.RegisteredAt != "1998-01-01" {
		t.Fatalf("completed bare row: %+v", got)
	}

	// Who reads an enterprise.
	for _, k := range []string{b.admin, fx, own} {
		if r := b.do(req{method: "GET", path: "/v1/enterprises/" + seller, key: k}); r.Status != http.StatusOK {
			t.Errorf("read: %d %s", r.Status, r.Body)
		}
	}
	wantProblem(t, b.do(req{method: "GET", path: "/v1/enterprises/" + seller, key: other}), http.StatusNotFound, "ENTERPRISE_NOT_FOUND")
	wantProblem(t, b.do(req{method: "GET", path: "/v1/enterprises/" + seller + "/classification", key: other}), http.StatusNotFound, "ENTERPRISE_NOT_FOUND")
	wantProblem(t, b.do(req{method: "GET", path: "/v1/enterprises/4403999999", key: b.admin}), http.StatusNotFound, "ENTERPRISE_NOT_FOUND")
	p = wantProblem(t, b.do(req{method: "GET", path: "/v1/enterprises/acme", key: b.admin}), http.StatusUnprocessableEntity, "VALIDATION_FAILED")
	if !hasField(p, "id", "CUSTOMS_CODE_INVALID") {
		t.Errorf("bad id: %s", fieldList(p))
	}

	// A new tax profile: class 1 now that net assets cover the rebates.
	r = b.do(req{method: "PUT", path: "/v1/enterprises/" + seller + "/tax-profile", key: b.admin, body: map[string]any{
		"exporter_kind": "trader", "tax_credit_rating": "A", "first_rebate_claim_on": "2019-01-10", "net_assets_cny": "500000.00",
		"rebates_cny": "100000.00", "risk_control_system": true}})
	r.into(t, &e)
	if r.Status != http.StatusOK || e.TaxClass == nil || e.TaxClass.Class != 1 {
		t.Fatalf("tax profile: %d %s", r.Status, r.Body)
	}
	p = wantProblem(t, b.do(req{method: "PUT", path: "/v1/enterprises/" + seller + "/tax-profile", key: b.admin, body: map[string]any{
		"exporter_kind": "shop", "tax_credit_rating": "Z", "net_assets_cny": 5, "rebates_cny": "-1.00"}}), http.StatusUnprocessableEntity, "VALIDATION_FAILED")
	if !hasField(p, "net_assets_cny", "AMOUNT_NOT_STRING") || !hasField(p, "rebates_cny", "AMOUNT_INVALID") {
		t.Errorf("tax profile shapes: %s", fieldList(p))
	}
	p = wantProblem(t, b.do(req{method: "PUT", path: "/v1/enterprises/" + seller + "/tax-profile", key: b.admin, body: map[string]any{
		"exporter_kind": "shop", "tax_credit_rating": "Z", "net_assets_cny": "5", "rebates_cny": "1.00"}}), http.StatusUnprocessableEntity, "VALIDATION_FAILED")
	if !hasField(p, "exporter_kind", "EXPORTER_KIND_INVALID") || !hasField(p, "tax_credit_rating", "RATING_INVALID") {
		t.Errorf("tax profile rules: %s", fieldList(p))
	}

	// Consents: the enterprise itself or an admin, to a registered bank.
	until := time.Now().Add(90 * 24 * time.Hour).UTC().Format(time.RFC3339)
	if r := b.do(req{method: "POST", path: "/v1/enterprises/" + seller + "/consents", key: own, body: map[string]any{"bank": bank, "valid_until": until}}); r.Status != http.StatusCreated {
		t.Fatalf("consent: %d %s", r.Status, r.Body)
	}
	wantProblem(t, b.do(req{method: "POST", path: "/v1/enterprises/" + seller + "/consents", key: other,
		body: map[string]any{"bank": bank, "valid_until": until}}), http.StatusNotFound, "ENTERPRISE_NOT_FOUND")
	wantProblem(t, b.do(req{method: "POST", path: "/v1/enterprises/" + seller + "/consents", key: fx,
		body: map[string]any{"bank": bank, "valid_until": until}}), http.StatusForbidden, "FORBIDDEN")
	p = wantProblem(t, b.do(req{method: "POST", path: "/v1/enterprises/" + seller + "/consents", key: b.admin,
		body: map[string]any{"bank": "4403100102", "valid_until": "2001-01-01T00:00:00Z"}}), http.StatusUnprocessableEntity, "VALIDATION_FAILED")
	if !hasField(p, "bank", "BANK_UNKNOWN") || !hasField(p, "valid_until", "DATE_IN_PAST") {
		t.Errorf("consent: %s", fieldList(p))
	}

	// The bureau's records.
	v := map[string]any{"ref": "SAFE-2026-001", "severity": "minor", "occurred_on": "2026-02-03", "description": "late filing"}
	if r := b.do(req{method: "POST", path: "/v1/enterprises/" + seller + "/violations", key: fx, body: v}); r.Status != http.StatusCreated {
		t.Fatalf("violation: %d %s", r.Status, r.Body)
	}
	if r := b.do(req{method: "POST", path: "/v1/enterprises/" + seller + "/violations", key: fx, body: v}); r.Status != http.StatusOK {
		t.Fatalf("violation replay: %d %s", r.Status, r.Body)
	}
	v["severity"] = "serious"
	wantProblem(t, b.do(req{method: "POST", path: "/v1/enterprises/" + seller + "/violations", key: fx, body: v}), http.StatusConflict, "VIOLATION_EXISTS")
	wantProblem(t, b.do(req{method: "POST", path: "/v1/enterprises/" + seller + "/violations", key: own, body: v}), http.StatusForbidden, "FORBIDDEN")
	gap := map[string]any{"month": "2026-01", "kind": "missing"}
	if r := b.do(req{method: "POST", path: "/v1/enterprises/" + seller + "/reporting-gaps", key: fx, body: gap}); r.Status != http.StatusCreated {
		t.Fatalf("gap: %d %s", r.Status, r.Body)
	}
	if r := b.do(req{method: "POST", path: "/v1/enterprises/" + seller + "/reporting-gaps", key: b.admin, body: gap}); r.Status != http.StatusOK {
		t.Fatalf("gap replay: %d %s", r.Status, r.Body)
	}
	p = wantProblem(t, b.do(req{method: "POST", path: "/v1/enterprises/" + seller + "/reporting-gaps", key: fx,
		body: map[string]any{"month": "2026-13", "kind": "absent"}}), http.StatusUnprocessableEntity, "VALIDATION_FAILED")
	if !hasField(p, "month", "DATE_INVALID") {
		t.Errorf("gap: %s", fieldList(p))
	}
}
