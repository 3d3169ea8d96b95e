package bench

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/xbsettle/xbsettle/api"
	"github.com/xbsettle/xbsettle/risk"
	"github.com/xbsettle/xbsettle/risk/risktest"
)

// creditChains is the size of the assessed seller's verified record.
const creditChains = 1_000_000

// creditAssessment: a bank asks for a credit assessment of a seller with
// 1,000,000 verified chains. Timed from the request (POST, HTTP) through
// the worker's handler to the stored result read back (GET, HTTP).
// Target ≤ 2 s.
func creditAssessment(ctx context.Context, h *harness) (Result, error) {
	const seller, bank = "4403600001", "4403000BNK"
	asOf := time.Now().UTC().Truncate(time.Second)
	operator := risk.Actor{By: "bench", Role: string(api.RoleAdmin)}
	for _, e := range []risk.NewEnterprise{
		{CustomsCode: seller, Name: "Bench Seller Co.", Kind: risk.KindSeller},
		{CustomsCode: bank, Name: "Bench Bank", Kind: risk.KindBank},
	} {
		e.USCC, e.RegisteredAt = risktest.USCC(e.CustomsCode), risk.DateOf(asOf.AddDate(-5, 0, 0))
		if _, _, err := h.risk.Register(ctx, operator, e); err != nil {
			return Result{}, err
		}
	}
	fmt.Fprintf(h.log, "  writing %d verified chains…\n", creditChains)
	if err := risktest.BuildEnterprise(ctx, h.db, seller, creditChains, asOf); err != nil {
		return Result{}, err
	}
	if _, err := h.risk.GrantConsent(ctx, operator, seller, bank, asOf.AddDate(1, 0, 0)); err != nil {
		return Result{}, err
	}
	_, bankKey, err := h.keys.Create(ctx, api.RoleBank, bank)
	if err != nil {
		return Result{}, err
	}
	bankClient := *h
	bankClient.key = bankKey

	begin := time.Now()
	var asked struct {
		ID uuid.UUID `json:"id"`
	}
	code, err := bankClient.do(ctx, http.MethodPost, "/v1/credit-assessments", "credit-1",
		map[string]string{"enterprise": seller, "as_of": asOf.Format(time.RFC3339)}, &asked)
	if err := statusErr(code, http.StatusAccepted, err); err != nil {
		return Result{}, fmt.Errorf("request assessment: %w", err)
	}
	if err := h.risk.ProcessAssessment(ctx, bank, asked.ID); err != nil {
		return Result{}, err
	}
	var done struct {
		Status string `json:"status"`
	}
	code, err = bankClient.do(ctx, http.MethodGet, "/v1/credit-assessments/"+asked.ID.String(), "", nil, &done)
	if err := statusErr(code, http.StatusOK, err); err != nil {
		return Result{}, fmt.Errorf("read assessment: %w", err)
	}
	elapsed := time.Since(begin).Seconds()
	if done.Status != risk.AssessmentDone {
		return Result{}, fmt.Errorf("assessment %s is %s", asked.ID, done.Status)
	}
	r := Result{Scenario: "credit", Entries: creditChains, Seconds: elapsed, PerSecond: creditChains / elapsed,
		Target: "≤ 2 s", Met: elapsed <= 2}
	return r, nil
}
