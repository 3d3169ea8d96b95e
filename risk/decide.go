package risk

import (
	"context"
	"fmt"
	"github.com/xbsettle/xbsettle/internal/db"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
)

// Decision actions.
const (
	ActionApprove  = "approve"
	ActionOverride = "override"
)

// Bounds of a decision's dates.
const (
	// DecisionYears is how long a decision is normally in effect.
	DecisionYears = 1
	// maxEffectiveAhead bounds how far ahead a decision may start.
	maxEffectiveAhead = 366 * 24 * time.Hour
	// maxEffectiveYears bounds how long a decision may last.
	maxEffectiveYears = 3
)

// DecisionRequest is FX bureau staff's answer to a proposal: approve its
// category, or override it with Category and a mandatory Reason. The
// decision is in effect on the Beijing dates [EffectiveFrom, EffectiveTo):
// by default from today for DecisionYears.
type DecisionRequest struct {
	Action        string
	Category      Category // override only
	Reason        string   // required for override
	EffectiveFrom time.Time
	EffectiveTo   time.Time
}

// Decide records a decision on a pending proposal and closes it. The
// decision is appended to the enterprise's audit, never changed; the
// enterprise's tax class is computed again under the category now in
// effect. Errors: VALIDATION_FAILED (action: ACTION_INVALID; category:
// REQUIRED, CATEGORY_INVALID, CATEGORY_UNEXPECTED; reason: REQUIRED,
// TOO_LONG; effective_from: DATE_IN_PAST, DATE_IN_FUTURE; effective_to:
// PERIOD_INVALID), ErrClassificationNotFound, ErrNotPending.
func (s *Service) Decide(ctx context.Context, actor Actor, id uuid.UUID, req DecisionRequest) (Decision, error) {
	now := s.clock()
	if err := req.normalise(now); err != nil {
		return Decision{}, err
	}
	var d Decision
	err := db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		var c classificationRow
		err := tx.GetContext(ctx, &c, `SELECT `+classificationColumns+` FROM fx_classifications WHERE id = $1 FOR UPDATE`, id)
		if isNoRows(err) {
			return ErrClassificationNotFound.With("classification %s does not exist", id)
		}
		if err != nil {
			return fmt.Errorf("read classification %s: %w", id, err)
		}
		if c.Status != StatusPending {
			return ErrNotPending.With("classification %s is %s", id, c.Status)
		}
		d = Decision{ID: uuid.Must(uuid.NewV7()), Enterprise: c.Enterprise, ClassificationID: id, Action: req.Action,
			Category: Category(c.Category), ProposedCategory: Category(c.Category), Reason: req.Reason,
			EffectiveFrom: req.EffectiveFrom, EffectiveTo: req.EffectiveTo, DecidedBy: actor.By, DecidedRole: actor.Role, DecidedAt: now}
		status := StatusApproved
		if req.Action == ActionOverride {
			d.Category, status = req.Category, StatusOverridden
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO fx_category_decisions (`+decisionColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`, d.Enterprise, d.ID, d.ClassificationID, d.Action,
			string(d.Category), string(d.ProposedCategory), d.Reason, d.EffectiveFrom.Format(time.DateOnly),
			d.EffectiveTo.Format(time.DateOnly), d.DecidedBy, d.DecidedRole, d.DecidedAt); err != nil {
			return fmt.Errorf("record decision on %s: %w", id, err)
		}
		_, err = tx.ExecContext(ctx, `UPDATE fx_classifications SET status = $3, closed_at = $4
			WHERE tenant_id = $1 AND id = $2`, c.Enterprise, id, status, now)
		return err
	})
	if err != nil {
		return Decision{}, err
	}
	if _, err := s.RefreshTaxClass(ctx, d.Enterprise); err != nil {
		return Decision{}, err
	}
	return d, nil
}

// normalise checks a decision request and fills in its default dates.
func (r *DecisionRequest) normalise(now time.Time) error {
	var f fieldErrs
	switch r.Action {
	case ActionApprove:
		if r.Category != "" {
			f.add("category", FieldCategoryRedundant, "approve takes the proposed category; send override to change it")
		}
	case ActionOverride:
		switch {
		case r.Category == "":
			f.add("category", FieldRequired, "an override names the category: A, B or C")
		case !r.Category.Valid():
			f.add("category", FieldCategory, "want A, B or C")
		}
		if r.Reason == "" {
			f.add("reason", FieldRequired, "an override must say why")
		}
	default:
		f.add("action", FieldAction, "want approve or override")
	}
	if len([]rune(r.Reason)) > maxReasonLen {
		f.add("reason", FieldTooLong, "at most %d characters", maxReasonLen)
	}
	today := DateOf(now)
	if r.EffectiveFrom.IsZero() {
		r.EffectiveFrom = today
	}
	r.EffectiveFrom = dateOnly(r.EffectiveFrom)
	switch {
	case r.EffectiveFrom.Before(today):
		f.add("effective_from", FieldDateInPast, "a decision takes effect from today (Beijing) or later; it never rewrites the past")
	case r.EffectiveFrom.Sub(today) > maxEffectiveAhead:
		f.add("effective_from", FieldDateInFuture, "a decision takes effect within a year")
	}
	if r.EffectiveTo.IsZero() {
		r.EffectiveTo = r.EffectiveFrom.AddDate(DecisionYears, 0, 0)
	}
	r.EffectiveTo = dateOnly(r.EffectiveTo)
	if !r.EffectiveTo.After(r.EffectiveFrom) || r.EffectiveFrom.AddDate(maxEffectiveYears, 0, 0).Before(r.EffectiveTo) {
		f.add("effective_to", FieldPeriod, "a decision lasts from one day to %d years", maxEffectiveYears)
	}
	return f.err()
}

// EnterpriseClassification is an enterprise's FX standing: the category in
// effect now, the decisions (the audit, latest first), the proposals and
// the export-rebate classes, each list at most HistoryLimit long.
type EnterpriseClassification struct {
	Enterprise string              `json:"enterprise"`
	InEffect   InEffect            `json:"in_effect"`
	TaxClass   *TaxClassification  `json:"tax_class"`
	Decisions  []Decision          `json:"decisions"`
	Proposals  []Classification    `json:"proposals"`
	TaxClasses []TaxClassification `json:"tax_classes"`
}

// HistoryLimit bounds each list of an EnterpriseClassification: about
// eight years of monthly reviews.
const HistoryLimit = 100

// ClassificationOf returns an enterprise's FX standing now. Errors:
// ErrEnterpriseNotFound.
func (s *Service) ClassificationOf(ctx context.Context, code string) (EnterpriseClassification, error) {
	if _, err := s.Enterprise(ctx, code); err != nil {
		return EnterpriseClassification{}, err
	}
	out := EnterpriseClassification{Enterprise: code}
	var err error
	if out.InEffect, err = s.CategoryAt(ctx, code, s.clock()); err != nil {
		return EnterpriseClassification{}, err
	}
	var ds []decisionRow
	if err := s.db.SelectContext(ctx, &ds, `SELECT `+decisionColumns+` FROM fx_category_decisions WHERE tenant_id = $1
		ORDER BY decided_at DESC, id DESC LIMIT $2`, code, HistoryLimit); err != nil {
		return EnterpriseClassification{}, fmt.Errorf("read decisions of %s: %w", code, err)
	}
	out.Decisions = make([]Decision, len(ds))
	for i, r := range ds {
		out.Decisions[i] = r.decision()
	}
	var ps []classificationRow
	if err := s.db.SelectContext(ctx, &ps, `SELECT `+classificationColumns+` FROM fx_classifications WHERE tenant_id = $1
		ORDER BY created_at DESC, id DESC LIMIT $2`, code, HistoryLimit); err != nil {
		return EnterpriseClassification{}, fmt.Errorf("read proposals of %s: %w", code, err)
	}
	if out.Proposals, err = classificationsOf(ps); err != nil {
		return EnterpriseClassification{}, err
	}
	if out.TaxClasses, err = s.TaxClassHistory(ctx, code, HistoryLimit); err != nil {
		return EnterpriseClassification{}, err
	}
	if len(out.TaxClasses) > 0 {
		out.TaxClass = &out.TaxClasses[0]
	}
	return out, nil
}
