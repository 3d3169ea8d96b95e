package api_test

import (
	"net/http"
	"time"

	"github.com/xbsettle/xbsettle/risk/risktest"
)

// enterpriseOut is the part of an enterprise answer tests look at.
type enterpriseOut struct {
	CustomsCode  string  `json:"customs_code"`
	Name         string  `json:"name"`
	Kind         string  `json:"kind"`
	USCC         *string `json:"unified_social_credit_code"`
	RegisteredAt *string `json:"registered_at"`
	FXCategory   struct {
		Category      string  `json:"category"`
		Source        string  `json:"source"`
		EffectiveFrom *string `json:"effective_from"`
		EffectiveTo   *string `json:"effective_to"`
	} `json:"fx_category"`
	TaxClass *struct {
		Class   int `json:"class"`
		Reasons []struct {
			Code string `json:"code"`
		} `json:"reasons"`
	} `json:"tax_class"`
}

// enterpriseBody is a registration of code: a valid credit code, kind, the
// registration date and an optional tax profile.
func enterpriseBody(code, kind, registered string, profile map[string]any) map[string]any {
	body := map[string]any{"customs_code": code, "name": "Enterprise " + code, "kind": kind,
		"unified_social_credit_code": risktest.USCC(code), "registered_at": registered}
	if profile != nil {
		body["tax_profile"] = profile
	}
	return body
}

// registerEnterprise registers an enterprise through the API as admin.
func (b *bundle) registerEnterprise(code, kind, registered string, profile map[string]any) enterpriseOut {
	b.t.Helper()
	r := b.do(req{method: "POST", path: "/v1/enterprises", key: b.admin, body: enterpriseBody(code, kind, registered, profile)})
	if r.Status != http.StatusCreated {
		b.t.Fatalf("register %s: %d %s", code, r.Status, r.Body)
	}
	var e enterpriseOut
	r.into(b.t, &e)
	return e
}

// runOut is a classification run.
type runOut struct {
	ID        string `json:"id"`
	Status    string `json:"status"`
	Proposals int    `json:"proposals"`
	Failures  int    `json:"failures"`
}

// classify runs a classification through the API and waits for the worker
// to finish it.
func (b *bundle) classify(key string, body map[string]any) runOut {
	b.t.Helper()
	r := b.do(req{method: "POST", path: "/v1/classifications/run", key: key, body: body})
	if r.Status != http.StatusAccepted {
		b.t.Fatalf("run: %d %s", r.Status, r.Body)
	}
	var run runOut
	r.into(b.t, &run)
	deadline := time.Now().Add(60 * time.Second)
	for run.Status != "done" {
		if time.Now().After(deadline) {
			b.t.Fatalf("run %s not done after 60 s", run.ID)
		}
		time.Sleep(50 * time.Millisecond)
		b.do(req{method: "GET", path: "/v1/classifications/runs/" + run.ID, key: key}).into(b.t, &run)
	}
	return run
}

// proposalOut is a proposal in the review queue.
type proposalOut struct {
	ID         string `json:"id"`
	Enterprise string `json:"enterprise"`
	Status     string `json:"status"`
	Category   string `json:"category"`
	Reasons    []struct {
		Code     string `json:"code"`
		Category string `json:"category"`
		Waived   bool   `json:"waived"`
	} `json:"reasons"`
	Figures struct {
		GoodsCNY string `json:"goods_cny"`
		FundsCNY string `json:"funds_cny"`
		Chains   struct {
			Submitted  int `json:"submitted"`
			Verified   int `json:"verified"`
			Rejected   int `json:"rejected"`
			Unverified int `json:"unverified"`
		} `json:"chains"`
		SeriousViolations int `json:"serious_violations"`
	} `json:"figures"`
}

// queue reads a page of the review queue.
func (b *bundle) queue(key, query string) ([]proposalOut, *string) {
	b.t.Helper()
	r := b.do(req{method: "GET", path: "/v1/classifications/queue" + query, key: key})
	if r.Status != http.StatusOK {
		b.t.Fatalf("queue %s: %d %s", query, r.Status, r.Body)
	}
	var page struct {
		Data       []proposalOut `json:"data"`
		NextCursor *string       `json:"next_cursor"`
	}
	r.into(b.t, &page)
	return page.Data, page.NextCursor
}

// assessmentOut is a credit assessment.
type assessmentOut struct {
	ID                  string  `json:"id"`
	Status              string  `json:"status"`
	Error               *string `json:"error"`
	Score               *int    `json:"score"`
	Grade               *string `json:"grade"`
	Points              *string `json:"points"`
	RecommendedLimitCNY *string `json:"recommended_limit_cny"`
	ModelVersion        *string `json:"model_version"`
	InputHash           *string `json:"input_hash"`
	Reasons             []struct {
		Code string `json:"code"`
	} `json:"reasons"`
	ChainsRead int64 `json:"chains_read"`
}

// awaitAssessment polls an assessment until the worker has scored it.
func (b *bundle) awaitAssessment(key, id string) assessmentOut {
	b.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var a assessmentOut
		r := b.do(req{method: "GET", path: "/v1/credit-assessments/" + id, key: key})
		if r.Status != http.StatusOK {
			b.t.Fatalf("GET assessment %s: %d %s", id, r.Status, r.Body)
		}
		r.into(b.t, &a)
		if a.Status != "pending" {
			return a
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("assessment %s pending after 60 s", id)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
