package risk

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/lib/pq"

	"github.com/xbsettle/xbsettle/settlement"
)

// DefaultCategory is the category of an enterprise no decision covers:
// never classified, in its guidance period, or past its last decision's
// year. The bureau's practice is that enterprises are A unless designated B
// or C (docs/risk.md, "The category in effect").
const DefaultCategory = CategoryA

// InEffect is the FX category in effect for an enterprise at an instant,
// and where it comes from: a decision, or the default.
type InEffect struct {
	Category Category  `json:"category"`
	Source   string    `json:"source"` // "decision" or "default"
	Decision *Decision `json:"decision"`
}

// inEffectSQL finds, per enterprise, the decision in effect on a Beijing
// date: the one whose [effective_from, effective_to) holds it, latest
// effective_from first, then the latest decided.
const inEffectSQL = `
SELECT DISTINCT ON (tenant_id) ` + decisionColumns + `
FROM fx_category_decisions
WHERE tenant_id = ANY($1) AND effective_from <= $2 AND effective_to > $2
ORDER BY tenant_id, effective_from DESC, decided_at DESC, id DESC`

// categoriesAt returns the category in effect at at for every enterprise
// named, in one query.
func categoriesAt(ctx context.Context, q querier, enterprises []string, at time.Time) (map[string]InEffect, error) {
	var rows []decisionRow
	if err := q.SelectContext(ctx, &rows, inEffectSQL, pq.Array(enterprises), DateOf(at).Format(time.DateOnly)); err != nil {
		return nil, fmt.Errorf("FX categories of %d enterprises: %w", len(enterprises), err)
	}
	out := make(map[string]InEffect, len(enterprises))
	for _, e := range enterprises {
		out[e] = InEffect{Category: DefaultCategory, Source: "default"}
	}
	for _, r := range rows {
		d := r.decision()
		out[d.Enterprise] = InEffect{Category: d.Category, Source: "decision", Decision: &d}
	}
	return out, nil
}

// CategoryAt returns the FX category in effect for an enterprise at at.
func (s *Service) CategoryAt(ctx context.Context, enterprise string, at time.Time) (InEffect, error) {
	m, err := categoriesAt(ctx, s.db, []string{enterprise}, at)
	if err != nil {
		return InEffect{}, err
	}
	return m[enterprise], nil
}

// Policy is settlement's view of the FX categories: it implements
// settlement.CategoryPolicy (and its batch form) from the bureau's
// decisions.
//
//	settlement.NewService(db, led, fx, settlement.WithCategoryPolicy(riskSvc.Policy()))
type Policy struct{ s *Service }

// Policy returns the category policy over the service's decisions.
func (s *Service) Policy() *Policy { return &Policy{s: s} }

var _ settlement.BatchCategoryPolicy = (*Policy)(nil)

// CategoryOf implements settlement.CategoryPolicy.
func (p *Policy) CategoryOf(ctx context.Context, enterprise string, at time.Time) (settlement.Category, error) {
	e, err := p.s.CategoryAt(ctx, enterprise, at)
	if err != nil {
		return "", err
	}
	return settlement.Category(e.Category), nil
}

// CategoriesOf implements settlement.BatchCategoryPolicy.
func (p *Policy) CategoriesOf(ctx context.Context, enterprises []string, at time.Time) (map[string]settlement.Category, error) {
	m, err := categoriesAt(ctx, p.s.db, enterprises, at)
	if err != nil {
		return nil, err
	}
	out := make(map[string]settlement.Category, len(m))
	for e, c := range m {
		out[e] = settlement.Category(c.Category)
	}
	return out, nil
}

// Decision is FX bureau staff's decision on a proposal: approve its
// category, or override it with another and a reason. It takes effect on
// the Beijing dates [EffectiveFrom, EffectiveTo). Decisions are never
// changed: they are the audit of who decided what, when and why.
type Decision struct {
	ID               uuid.UUID `json:"id"`
	Enterprise       string    `json:"enterprise"`
	ClassificationID uuid.UUID `json:"classification_id"`
	Action           string    `json:"action"` // approve or override
	Category         Category  `json:"category"`
	ProposedCategory Category  `json:"proposed_category"`
	Reason           string    `json:"reason"`
	EffectiveFrom    time.Time `json:"effective_from"` // Beijing date, midnight UTC
	EffectiveTo      time.Time `json:"effective_to"`   // exclusive
	DecidedBy        string    `json:"decided_by"`
	DecidedRole      string    `json:"decided_role"`
	DecidedAt        time.Time `json:"decided_at"`
}

const decisionColumns = `tenant_id, id, classification_id, action, category, proposed_category, reason, effective_from,
	effective_to, decided_by, decided_role, decided_at`

type decisionRow struct {
	Enterprise       string    `db:"tenant_id"`
	ID               uuid.UUID `db:"id"`
	ClassificationID uuid.UUID `db:"classification_id"`
	Action           string    `db:"action"`
	Category         string    `db:"category"`
	ProposedCategory string    `db:"proposed_category"`
	Reason           string    `db:"reason"`
	EffectiveFrom    time.Time `db:"effective_from"`
	EffectiveTo      time.Time `db:"effective_to"`
	DecidedBy        string    `db:"decided_by"`
	DecidedRole      string    `db:"decided_role"`
	DecidedAt        time.Time `db:"decided_at"`
}

func (r decisionRow) decision() Decision {
	return Decision{ID: r.ID, Enterprise: r.Enterprise, ClassificationID: r.ClassificationID, Action: r.Action,
		Category: Category(r.Category), ProposedCategory: Category(r.ProposedCategory), Reason: r.Reason,
		EffectiveFrom: dateOnly(r.EffectiveFrom), EffectiveTo: dateOnly(r.EffectiveTo), DecidedBy: r.DecidedBy,
		DecidedRole: r.DecidedRole, DecidedAt: r.DecidedAt.UTC()}
}
