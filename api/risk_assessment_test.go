package api_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/xbsettle/xbsettle/api"
	"github.com/xbsettle/xbsettle/risk"
	"github.com/xbsettle/xbsettle/risk/risktest"
)

// handEnterprise is an enterprise whose score the test computes by hand
// (the rows of docs/risk.md §6.2), as of the start of today in Beijing.
type handEnterprise struct {
	code       string
	registered time.Time // before as-of
	profile    map[string]any
	category   string // "" for the default, A
	chains     []risk.ChainFact
	points     string
	score      int
	grade      string
	limit      string
}

// month places facts in the middle of window month k before asOf.
func month(asOf time.Time, k int) time.Time {
	return asOf.Add(-time.Duration(30*k+15) * 24 * time.Hour)
}

// chainsIn returns n chains of status in window month k on platform P1,
// buyers in country, goods of chapter, each of amount.
func chainsIn(asOf time.Time, k, n int, status risk.ChainStatus, amount, country, chapter string) []risk.ChainFact {
	out := make([]risk.ChainFact, n)
	for i := range out {
		out[i] = risk.ChainFact{At: month(asOf, k), Status: status, Platform: "P1", Countries: []string{country},
			HSChapters: []string{chapter}, AmountCNY: decimal.RequireFromString(amount)}
	}
	return out
}

// steadyExporter, by hand (scorecard-v1):
//
//	volume 12 × 10 × 50,000 = 6,000,000            55.6   growth 0            48.1
//	volatility 0 (equal months)                      52.5   completeness 120/125 47.3
//	rejection 2/125 = 0.016                          47.5   cancellation 0      47.0
//	return 3/123 = 0.0244                            48.7   platforms .34       47.8
//	countries US/DE .5                               44.4   chapters 61+64 .5   45.2
//	tenure ≥ 60 months                               52.5   FX A 53.9, tax 1    53.9
//	Σ 644.4 → 644 AA; limit 2.5 × 500,000 = 1,250,000
func steadyExporter(asOf time.Time) handEnterprise {
	var chains []risk.ChainFact
	for k := range 12 {
		for i := range 10 {
			c := risk.ChainFact{At: month(asOf, k), Status: risk.ChainVerified, Platform: "P3", Countries: []string{"DE"},
				HSChapters: []string{"61", "64"}, AmountCNY: decimal.RequireFromString("50000.00")}
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
	chains = append(chains, chainsIn(asOf, 5, 2, risk.ChainRejected, "0", "US", "61")...)
	chains = append(chains, chainsIn(asOf, 7, 3, risk.ChainReturned, "50000.00", "US", "61")...)
	return handEnterprise{code: "4403130001", registered: asOf.AddDate(0, -75, -21), category: "",
		profile: map[string]any{"exporter_kind": "trader", "tax_credit_rating": "A", "first_rebate_claim_on": "2019-06-01",
			"net_assets_cny": "1000000.00", "rebates_cny": "100000.00", "risk_control_system": true},
		chains: chains, points: "644.4", score: 644, grade: "AA", limit: "1250000"}
}

// youngSeller, by hand: registered 242 days before as-of (8 window months,
// under 12 calendar months), FX category B by the bureau's override, no tax
// profile; one platform, country and chapter.
//
//	volume 360,000 + 180,000 + 60,000 = 600,000    38.3   growth (360-180)/360 = .5  51.0
//	volatility months 4 4 4 2 2 2 1 1 (×30,000): √96/20 = .4899                        48.1
//	completeness 17/21 = .8095                      37.2   rejection 3/21 = .1429     19.8
//	cancellation 1/18 = .0556                       42.6   return 0                   48.7
//	HHIs 1: 42.6 + 41.8 + 44.1; tenure < 12: 33.7; FX B 27.9; tax none 45.2
//	Σ 521.0 → 521 C; limit 0
func youngSeller(asOf time.Time) handEnterprise {
	var chains []risk.ChainFact
	for k := range 3 {
		chains = append(chains, chainsIn(asOf, k, 3, risk.ChainVerified, "40000", "US", "33")...)
		chains = append(chains, chainsIn(asOf, k+3, 2, risk.ChainVerified, "30000", "US", "33")...)
	}
	chains = append(chains, chainsIn(asOf, 6, 1, risk.ChainVerified, "30000", "US", "33")...)
	chains = append(chains, chainsIn(asOf, 7, 1, risk.ChainVerified, "30000", "US", "33")...)
	chains = append(chains, chainsIn(asOf, 1, 3, risk.ChainRejected, "0", "US", "33")...)
	chains = append(chains, chainsIn(asOf, 2, 1, risk.ChainCancelled, "40000", "US", "33")...)
	return handEnterprise{code: "4403130002", registered: asOf.AddDate(0, 0, -242), category: "B",
		chains: chains, points: "521.0", score: 521, grade: "C", limit: "0"}
}

// largeImporter, by hand: four chains a month on P1-P4, each naming US, GB,
// DE and FR and chapter 85; 1.5M a month for months 1-3, 2.5M for 4-6, 2M
// for 7-12; 1 incomplete and 5 returned chains; tax class 3 (rating C).
//
//	volume 24,000,000 ≥ 20M                         60.8   growth (4.5-7.5)/7.5 = -.4 40.9
//	volatility √72/48 = .1768                       52.5   completeness 48/54 = .8889 37.2
//	rejection 0                                     54.5   cancellation 0             47.0
//	return 5/53 = .0943                             40.6   platforms .25              47.8
//	countries .25 (on the bin's edge)               46.1   chapter 1                  44.1
//	tenure 30 months                                48.1   FX A 53.9, tax 3           40.0
//	Σ 613.5 → 614 (half-up) BBB; limit 1.5 × 2,000,000 = 3,000,000
func largeImporter(asOf time.Time) handEnterprise {
	var chains []risk.ChainFact
	for k := range 12 {
		amount := "500000"
		if k < 3 {
			amount = "375000"
		} else if k < 6 {
			amount = "625000"
		}
		for _, p := range []string{"P1", "P2", "P3", "P4"} {
			chains = append(chains, risk.ChainFact{At: month(asOf, k), Status: risk.ChainVerified, Platform: p,
				Countries: []string{"US", "GB", "DE", "FR"}, HSChapters: []string{"85"}, AmountCNY: decimal.RequireFromString(amount)})
		}
	}
	chains = append(chains, chainsIn(asOf, 0, 1, risk.ChainIncomplete, "0", "US", "85")...)
	chains = append(chains, chainsIn(asOf, 9, 5, risk.ChainReturned, "500000", "US", "85")...)
	return handEnterprise{code: "4403130003", registered: asOf.AddDate(0, -30, -11),
		profile: map[string]any{"exporter_kind": "manufacturer", "tax_credit_rating": "C", "first_rebate_claim_on": "2021-03-01",
			"net_assets_cny": "5000000.00", "rebates_cny": "1000000.00"},
		chains: chains, points: "613.5", score: 614, grade: "BBB", limit: "3000000"}
}

// TestCreditAssessmentsAPI: three enterprises built from verified chains and
// the bureau's decisions are assessed through the API by a real worker,
// each to the score computed by hand; the same inputs give the same score
// and hash; a bank without consent is refused (403) and another bank does
// not see the result (404).
func TestCreditAssessmentsAPI(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.startWorkers()
	ctx := context.Background()
	fx := b.key(api.RoleFXBureau, "")
	const bankCode, otherCode = "4403000B11", "4403000B12"
	b.registerEnterprise(bankCode, "bank", "1990-01-01", nil)
	b.registerEnterprise(otherCode, "bank", "1990-01-01", nil)
	bank, other := b.key(api.RoleBank, bankCode), b.key(api.RoleBank, otherCode)
	beijing := time.FixedZone("CST", 8*3600)
	now := time.Now().In(beijing)
	today := now.Format(time.DateOnly)
	asOf := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, beijing)
	until := time.Now().Add(30 * 24 * time.Hour).UTC().Format(time.RFC3339)

	for _, e := range []handEnterprise{steadyExporter(asOf), youngSeller(asOf), largeImporter(asOf)} {
		b.registerEnterprise(e.code, "seller", e.registered.Format(time.DateOnly), e.profile)
		if err := risktest.InsertChains(ctx, b.db, e.code, e.code, "export", e.chains); err != nil {
			t.Fatal(err)
		}
		if e.category != "" {
			// The bureau's way: a run proposes, staff override with a reason.
			b.classify(fx, map[string]any{"enterprises": []string{e.code}})
			ps, _ := b.queue(fx, "?enterprise="+e.code)
			if r := b.do(req{method: "POST", path: "/v1/classifications/" + ps[0].ID + "/decision", key: fx, body: map[string]any{
				"action": "override", "category": e.category, "reason": "verified item by item while it grows", "effective_from": today,
			}}); r.Status != http.StatusCreated {
				t.Fatalf("%s: override: %d %s", e.code, r.Status, r.Body)
			}
		}
		ask := map[string]any{"enterprise": e.code, "as_of": asOf.UTC().Format(time.RFC3339)}
		wantProblem(t, b.do(req{method: "POST", path: "/v1/credit-assessments", key: bank, body: ask}), http.StatusForbidden, "CONSENT_REQUIRED")
		if r := b.do(req{method: "POST", path: "/v1/enterprises/" + e.code + "/consents", key: b.key(api.RolePlatform, e.code),
			body: map[string]any{"bank": bankCode, "valid_until": until}}); r.Status != http.StatusCreated {
			t.Fatalf("consent: %d %s", r.Status, r.Body)
		}
		r := b.do(req{method: "POST", path: "/v1/credit-assessments", key: bank, body: ask, headers: []string{"Idempotency-Key", "a-" + e.code}})
		if r.Status != http.StatusAccepted {
			t.Fatalf("%s: request: %d %s", e.code, r.Status, r.Body)
		}
		var a assessmentOut
		r.into(t, &a)
		got := b.awaitAssessment(bank, a.ID)
		if got.Status != "done" || *got.Score != e.score || *got.Grade != e.grade || !d(*got.RecommendedLimitCNY).Equal(d(e.limit)) ||
			!d(*got.Points).Equal(d(e.points)) || *got.ModelVersion != risk.CurrentScorecardVersion || len(*got.InputHash) != 64 ||
			got.ChainsRead != int64(len(e.chains)) || len(got.Reasons) == 0 {
			t.Errorf("%s: %s score %v grade %v limit %v points %v, want %d %s %s %s",
				e.code, got.Status, deref(got.Score), deref(got.Grade), deref(got.RecommendedLimitCNY), deref(got.Points),
				e.score, e.grade, e.limit, e.points)
		}
		// A retry of the request answers the first; a new request of the
		// same inputs scores the same, with the same hash.
		r = b.do(req{method: "POST", path: "/v1/credit-assessments", key: bank, body: ask, headers: []string{"Idempotency-Key", "a-" + e.code}})
		var replay assessmentOut
		r.into(t, &replay)
		if r.Status != http.StatusOK || r.Header.Get("Idempotent-Replayed") != "true" || replay.ID != a.ID {
			t.Fatalf("replay: %d %s", r.Status, r.Body)
		}
		r = b.do(req{method: "POST", path: "/v1/credit-assessments", key: bank, body: ask})
		r.into(t, &replay)
		again := b.awaitAssessment(bank, replay.ID)
		if again.ID == got.ID || *again.InputHash != *got.InputHash || *again.Score != *got.Score {
			t.Errorf("%s: same inputs, score %v hash %v; first %v %v", e.code, deref(again.Score), deref(again.InputHash),
				deref(got.Score), deref(got.InputHash))
		}
		// Another bank: no consent, and the result is not its to read.
		wantProblem(t, b.do(req{method: "POST", path: "/v1/credit-assessments", key: other, body: ask}), http.StatusForbidden, "CONSENT_REQUIRED")
		wantProblem(t, b.do(req{method: "GET", path: "/v1/credit-assessments/" + a.ID, key: other}), http.StatusNotFound, "CREDIT_ASSESSMENT_NOT_FOUND")
		if r := b.do(req{method: "GET", path: "/v1/credit-assessments/" + a.ID, key: b.admin}); r.Status != http.StatusOK {
			t.Fatalf("admin reads: %d", r.Status)
		}
	}
	wantProblem(t, b.do(req{method: "POST", path: "/v1/credit-assessments", key: bank, body: map[string]any{"enterprise": "4403999999"}}),
		http.StatusForbidden, "CONSENT_REQUIRED")
	wantProblem(t, b.do(req{method: "POST", path: "/v1/credit-assessments", key: fx, body: map[string]any{"enterprise": "4403130001"}}),
		http.StatusForbidden, "FORBIDDEN")
	p := wantProblem(t, b.do(req{method: "POST", path: "/v1/credit-assessments", key: bank,
		body: map[string]any{"enterprise": "4403130001", "as_of": "2999-01-01T00:00:00Z"}}), http.StatusUnprocessableEntity, "VALIDATION_FAILED")
	if !hasField(p, "as_of", "DATE_IN_FUTURE") {
		t.Fatalf("future as_of: %s", fieldList(p))
	}
}

// deref prints a pointer's value, or nil.
func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}
