package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/xbsettle/xbsettle/risk"
)

type runInput struct {
	PeriodStart string   `json:"period_start"`
	PeriodEnd   string   `json:"period_end"`
	Enterprises []string `json:"enterprises"`
}

// startClassificationRun: POST /v1/classifications/run (admin, FX bureau).
// Stored first, carried out by the workers: 202 with the pending run.
func (s *Server) startClassificationRun(c echo.Context) error {
	var in runInput
	if err := decodeBody(c, &in, maxBody, true); err != nil {
		return err
	}
	var f fields
	var req risk.RunRequest
	if in.PeriodStart != "" {
		req.PeriodStart = parseDate(in.PeriodStart, "period_start", &f)
	}
	if in.PeriodEnd != "" {
		req.PeriodEnd = parseDate(in.PeriodEnd, "period_end", &f)
	}
	req.Enterprises = in.Enterprises
	if err := f.err(); err != nil {
		return err
	}
	run, err := s.risk.StartRun(c.Request().Context(), riskActor(c), req)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, run)
}

// getClassificationRun: GET /v1/classifications/runs/{id}.
func (s *Server) getClassificationRun(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	run, err := s.risk.ClassificationRun(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, run)
}

// classificationQueue: GET /v1/classifications/queue?status=&category=
// &enterprise=&limit=&cursor=, the review queue in creation order.
func (s *Server) classificationQueue(c echo.Context) error {
	limit, cursor, err := page(c)
	if err != nil {
		return err
	}
	after, err := parseCursor(cursor)
	if err != nil {
		return err
	}
	filter := risk.QueueFilter{Status: c.QueryParam("status"), Category: risk.Category(c.QueryParam("category")),
		Enterprise: c.QueryParam("enterprise")}
	cs, err := s.risk.Queue(c.Request().Context(), filter, after, limit+1)
	if err != nil {
		return err
	}
	next := ""
	if len(cs) > limit {
		cs = cs[:limit]
		next = cs[limit-1].ID.String()
	}
	return c.JSON(http.StatusOK, newList(viewAll(cs, viewClassification), next))
}

type decisionInput struct {
	Action        string `json:"action"`
	Category      string `json:"category"`
	Reason        string `json:"reason"`
	EffectiveFrom string `json:"effective_from"`
	EffectiveTo   string `json:"effective_to"`
}

// decideClassification: POST /v1/classifications/{id}/decision (FX bureau,
// admin): approve, or override with a category and a mandatory reason.
func (s *Server) decideClassification(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	var in decisionInput
	if err := decodeBody(c, &in, maxBody, false); err != nil {
		return err
	}
	var f fields
	req := risk.DecisionRequest{Action: in.Action, Category: risk.Category(in.Category), Reason: in.Reason}
	if in.EffectiveFrom != "" {
		req.EffectiveFrom = parseDate(in.EffectiveFrom, "effective_from", &f)
	}
	if in.EffectiveTo != "" {
		req.EffectiveTo = parseDate(in.EffectiveTo, "effective_to", &f)
	}
	if err := f.err(); err != nil {
		return err
	}
	d, err := s.risk.Decide(c.Request().Context(), riskActor(c), id, req)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, viewDecision(d))
}

// getClassification: GET /v1/enterprises/{id}/classification — the
// category in effect, the decisions (the audit), the proposals and the tax
// classes.
func (s *Server) getClassification(c echo.Context) error {
	id, err := enterpriseID(c)
	if err != nil {
		return err
	}
	if !seesEnterprise(c, id) {
		return risk.ErrEnterpriseNotFound.With("no enterprise has customs code %q", id)
	}
	ec, err := s.risk.ClassificationOf(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, classificationOfView{Enterprise: ec.Enterprise, InEffect: viewInEffect(ec.InEffect),
		TaxClass: ec.TaxClass, Decisions: viewAll(ec.Decisions, viewDecision),
		Proposals: viewAll(ec.Proposals, viewClassification), TaxClasses: ec.TaxClasses})
}

type classificationOfView struct {
	Enterprise string                   `json:"enterprise"`
	InEffect   inEffectView             `json:"in_effect"`
	TaxClass   *risk.TaxClassification  `json:"tax_class"`
	Decisions  []decisionView           `json:"decisions"`
	Proposals  []classificationView     `json:"proposals"`
	TaxClasses []risk.TaxClassification `json:"tax_classes"`
}
