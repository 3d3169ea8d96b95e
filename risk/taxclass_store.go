package risk

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// TaxClassification is a stored export-rebate class: TaxClass's result,
// the FX category it was computed under, and when.
type TaxClassification struct {
	TaxClassResult
	FXCategory Category  `json:"fx_category"`
	ComputedAt time.Time `json:"computed_at"`
}

// taxClassAt computes e's export-rebate class as of at from its stored
// profile and the FX category in effect then; ok is false for an
// enterprise without a profile (not an exporter: no class).
func (s *Service) taxClassAt(ctx context.Context, q querier, e Enterprise, at time.Time) (TaxClassification, bool, error) {
	if e.TaxProfile == nil {
		return TaxClassification{}, false, nil
	}
	cats, err := categoriesAt(ctx, q, []string{e.CustomsCode}, at)
	if err != nil {
		return TaxClassification{}, false, err
	}
	cat := cats[e.CustomsCode].Category
	since := e.Since()
	if since.After(at) { // registered later today than the instant asked: tenure 0
		since = at
	}
	r, err := TaxClass(e.TaxProfile.input(since, at, cat))
	if err != nil {
		return TaxClassification{}, false, fmt.Errorf("tax class of %s: %w", e.CustomsCode, err)
	}
	return TaxClassification{TaxClassResult: r, FXCategory: cat, ComputedAt: at}, true, nil
}

// RefreshTaxClass computes an enterprise's export-rebate class now and
// stores it when it differs from the one stored last (class, reasons, rules
// or FX category), so the history lists each change once. It is called when
// the tax profile changes, when an FX decision is made, and by every
// classification run. ok is false for an enterprise without a tax profile.
// Errors: ErrEnterpriseNotFound.
func (s *Service) RefreshTaxClass(ctx context.Context, code string) (TaxClassification, error) {
	e, err := s.Enterprise(ctx, code)
	if err != nil {
		return TaxClassification{}, err
	}
	tc, ok, err := s.taxClassAt(ctx, s.db, e, s.clock())
	if err != nil || !ok {
		return TaxClassification{}, err
	}
	if err := storeTaxClass(ctx, s.db, code, tc); err != nil {
		return TaxClassification{}, err
	}
	return tc, nil
}

// storeTaxClass appends tc unless the latest stored class is the same.
func storeTaxClass(ctx context.Context, q querier, code string, tc TaxClassification) error {
	reasons, err := json.Marshal(tc.Reasons)
	if err != nil {
		return fmt.Errorf("encode tax class reasons: %w", err)
	}
	sum := sha256.Sum256(fmt.Appendf(nil, "%d|%s|%s|%s", tc.Class, reasons, tc.RulesVersion, tc.FXCategory))
	if _, err := q.ExecContext(ctx, `
		INSERT INTO tax_classifications (tenant_id, id, class, processing_days, reasons, rules_version, fx_category, result_hash, computed_at)
		SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9
		WHERE NOT EXISTS (SELECT 1 FROM (SELECT result_hash FROM tax_classifications WHERE tenant_id = $1
			ORDER BY computed_at DESC, id DESC LIMIT 1) l WHERE l.result_hash = $8)`,
		code, uuid.Must(uuid.NewV7()), tc.Class, tc.ProcessingDays, string(reasons), tc.RulesVersion, string(tc.FXCategory),
		sum[:], tc.ComputedAt); err != nil {
		return fmt.Errorf("store tax class of %s: %w", code, err)
	}
	return nil
}

// TaxClassHistory returns an enterprise's stored export-rebate classes,
// latest first, at most limit.
func (s *Service) TaxClassHistory(ctx context.Context, code string, limit int) ([]TaxClassification, error) {
	var rows []struct {
		Class          int       `db:"class"`
		ProcessingDays int       `db:"processing_days"`
		Reasons        []byte    `db:"reasons"`
		RulesVersion   string    `db:"rules_version"`
		FXCategory     string    `db:"fx_category"`
		ComputedAt     time.Time `db:"computed_at"`
	}
	if err := s.db.SelectContext(ctx, &rows, `SELECT class, processing_days, reasons, rules_version, fx_category, computed_at
		FROM tax_classifications WHERE tenant_id = $1 ORDER BY computed_at DESC, id DESC LIMIT $2`, code, limit); err != nil {
		return nil, fmt.Errorf("read tax classes of %s: %w", code, err)
	}
	out := make([]TaxClassification, len(rows))
	for i, r := range rows {
		out[i] = TaxClassification{TaxClassResult: TaxClassResult{Class: r.Class, ProcessingDays: r.ProcessingDays,
			RulesVersion: r.RulesVersion}, FXCategory: Category(r.FXCategory), ComputedAt: r.ComputedAt.UTC()}
		if err := json.Unmarshal(r.Reasons, &out[i].Reasons); err != nil {
			return nil, fmt.Errorf("decode tax class reasons of %s: %w", code, err)
		}
	}
	return out, nil
}
