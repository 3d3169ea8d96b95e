package api

import (
	"time"

	"github.com/google/uuid"

	"github.com/xbsettle/xbsettle/risk"
)

// The risk answers. Dates of the bureaus' calendar (registration, effective
// dates) are YYYY-MM-DD Beijing dates; instants are RFC 3339 in UTC;
// amounts are CNY strings to the fen.

type taxProfileView struct {
	ExporterKind       risk.ExporterKind    `json:"exporter_kind"`
	TaxCreditRating    risk.TaxCreditRating `json:"tax_credit_rating"`
	FirstRebateClaimOn *string              `json:"first_rebate_claim_on"`
	NetAssetsCNY       string               `json:"net_assets_cny"`
	RebatesCNY         string               `json:"rebates_cny"`
	risk.TaxFindings
}

func viewTaxProfile(p *risk.TaxProfile) *taxProfileView {
	if p == nil {
		return nil
	}
	v := &taxProfileView{ExporterKind: p.ExporterKind, TaxCreditRating: p.Rating, NetAssetsCNY: p.NetAssetsCNY.StringFixed(2),
		RebatesCNY: p.RebatesCNY.StringFixed(2), TaxFindings: p.TaxFindings}
	if p.FirstRebateClaimOn != nil {
		d := p.FirstRebateClaimOn.Format(time.DateOnly)
		v.FirstRebateClaimOn = &d
	}
	return v
}

type inEffectView struct {
	Category      risk.Category `json:"category"`
	Source        string        `json:"source"` // decision or default
	DecisionID    *uuid.UUID    `json:"decision_id"`
	EffectiveFrom *string       `json:"effective_from"`
	EffectiveTo   *string       `json:"effective_to"`
}

func viewInEffect(e risk.InEffect) inEffectView {
	v := inEffectView{Category: e.Category, Source: e.Source}
	if d := e.Decision; d != nil {
		from, to := d.EffectiveFrom.Format(time.DateOnly), d.EffectiveTo.Format(time.DateOnly)
		v.DecisionID, v.EffectiveFrom, v.EffectiveTo = &d.ID, &from, &to
	}
	return v
}

type enterpriseView struct {
	CustomsCode  string                  `json:"customs_code"`
	Name         string                  `json:"name"`
	Kind         string                  `json:"kind"`
	USCC         *string                 `json:"unified_social_credit_code"`
	RegisteredAt *string                 `json:"registered_at"`
	TaxProfile   *taxProfileView         `json:"tax_profile"`
	FXCategory   inEffectView            `json:"fx_category"`
	TaxClass     *risk.TaxClassification `json:"tax_class"`
	CreatedAt    time.Time               `json:"created_at"`
	CreatedBy    *string                 `json:"created_by"`
}

func viewProfile(p risk.EnterpriseProfile) enterpriseView {
	v := enterpriseView{CustomsCode: p.CustomsCode, Name: p.Name, Kind: p.Kind, USCC: optional(p.USCC),
		TaxProfile: viewTaxProfile(p.TaxProfile), FXCategory: viewInEffect(p.InEffect), TaxClass: p.TaxClass,
		CreatedAt: p.CreatedAt.UTC(), CreatedBy: optional(p.CreatedBy)}
	if !p.RegisteredAt.IsZero() {
		d := p.RegisteredAt.Format(time.DateOnly)
		v.RegisteredAt = &d
	}
	return v
}

type decisionView struct {
	ID               uuid.UUID     `json:"id"`
	Enterprise       string        `json:"enterprise"`
	ClassificationID uuid.UUID     `json:"classification_id"`
	Action           string        `json:"action"`
	Category         risk.Category `json:"category"`
	ProposedCategory risk.Category `json:"proposed_category"`
	Reason           string        `json:"reason"`
	EffectiveFrom    string        `json:"effective_from"`
	EffectiveTo      string        `json:"effective_to"`
	DecidedBy        string        `json:"decided_by"`
	DecidedRole      string        `json:"decided_role"`
	DecidedAt        time.Time     `json:"decided_at"`
}

func viewDecision(d risk.Decision) decisionView {
	return decisionView{ID: d.ID, Enterprise: d.Enterprise, ClassificationID: d.ClassificationID, Action: d.Action,
		Category: d.Category, ProposedCategory: d.ProposedCategory, Reason: d.Reason,
		EffectiveFrom: d.EffectiveFrom.Format(time.DateOnly), EffectiveTo: d.EffectiveTo.Format(time.DateOnly),
		DecidedBy: d.DecidedBy, DecidedRole: d.DecidedRole, DecidedAt: d.DecidedAt.UTC()}
}

type classificationView struct {
	ID                uuid.UUID     `json:"id"`
	Enterprise        string        `json:"enterprise"`
	RunID             uuid.UUID     `json:"run_id"`
	Status            string        `json:"status"`
	Category          risk.Category `json:"category"`
	Reasons           []risk.Reason `json:"reasons"`
	Figures           risk.Figures  `json:"figures"`
	ThresholdsVersion string        `json:"thresholds_version"`
	PeriodStart       time.Time     `json:"period_start"`
	PeriodEnd         time.Time     `json:"period_end"`
	CreatedAt         time.Time     `json:"created_at"`
	ClosedAt          *time.Time    `json:"closed_at"`
}

func viewClassification(c risk.Classification) classificationView {
	return classificationView{ID: c.ID, Enterprise: c.Enterprise, RunID: c.RunID, Status: c.Status, Category: c.Category,
		Reasons: c.Reasons, Figures: c.Figures, ThresholdsVersion: c.ThresholdsVersion, PeriodStart: c.PeriodStart.UTC(),
		PeriodEnd: c.PeriodEnd.UTC(), CreatedAt: c.CreatedAt.UTC(), ClosedAt: utc(c.ClosedAt)}
}

type assessmentView struct {
	ID                  uuid.UUID            `json:"id"`
	Bank                string               `json:"bank"`
	Enterprise          string               `json:"enterprise"`
	AsOf                time.Time            `json:"as_of"`
	Status              string               `json:"status"`
	ConsentID           uuid.UUID            `json:"consent_id"`
	RequestedAt         time.Time            `json:"requested_at"`
	RequestedBy         string               `json:"requested_by"`
	CompletedAt         *time.Time           `json:"completed_at"`
	Error               *string              `json:"error"`
	ModelVersion        *string              `json:"model_version"`
	Score               *int                 `json:"score"`
	Grade               *string              `json:"grade"`
	Points              *string              `json:"points"`
	RecommendedLimitCNY *string              `json:"recommended_limit_cny"`
	Reasons             []risk.ScoreReason   `json:"reasons"`
	Breakdown           []risk.FeaturePoints `json:"breakdown"`
	InputHash           *string              `json:"input_hash"`
	Features            *risk.Features       `json:"features"`
	Canonical           *string              `json:"canonical"`
	ChainsRead          int64                `json:"chains_read"`
	FundsRead           int64                `json:"funds_read"`
}

func viewAssessment(a risk.CreditAssessment) assessmentView {
	v := assessmentView{ID: a.ID, Bank: a.Bank, Enterprise: a.Enterprise, AsOf: a.AsOf.UTC(), Status: a.Status,
		ConsentID: a.ConsentID, RequestedAt: a.RequestedAt.UTC(), RequestedBy: a.RequestedBy, CompletedAt: utc(a.CompletedAt),
		Error: optional(a.Error), Reasons: []risk.ScoreReason{}, Breakdown: []risk.FeaturePoints{}, Features: a.Features,
		ChainsRead: a.Chains, FundsRead: a.Funds}
	if r := a.Result; r != nil {
		points, limit := r.Points.String(), r.RecommendedLimitCNY.StringFixed(2)
		v.ModelVersion, v.Score, v.Grade, v.Points, v.RecommendedLimitCNY = &r.ModelVersion, &r.Score, &r.Grade, &points, &limit
		v.Reasons, v.Breakdown, v.InputHash, v.Canonical = r.Reasons, r.Breakdown, &r.InputHash, &a.Canonical
	}
	return v
}
