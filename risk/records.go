package risk

import (
	"context"
	"fmt"
	"time"
)

// RecordedViolation is an FX violation the bureau recorded against an
// enterprise; Classify counts those that occurred in the review period.
type RecordedViolation struct {
	Enterprise  string    `json:"enterprise"`
	Ref         string    `json:"ref"`
	Severity    Severity  `json:"severity"`
	OccurredOn  time.Time `json:"occurred_on"` // a Beijing date, midnight UTC
	Description string    `json:"description"`
	RecordedAt  time.Time `json:"recorded_at"`
	RecordedBy  string    `json:"recorded_by"`
}

// RecordViolation records a violation. The same reference with the same
// data again is a replay (created = false). Errors: ErrEnterpriseNotFound,
// VALIDATION_FAILED (ref, severity, occurred_on, description),
// ErrViolationExists (the reference with other data).
func (s *Service) RecordViolation(ctx context.Context, actor Actor, v RecordedViolation) (RecordedViolation, bool, error) {
	now := s.clock()
	var f fieldErrs
	switch {
	case v.Ref == "":
		f.add("ref", FieldRequired, "the bureau's reference of the violation is required")
	case len(v.Ref) > maxRefLen:
		f.add("ref", FieldTooLong, "at most %d characters", maxRefLen)
	}
	if v.Severity != SeverityMinor && v.Severity != SeveritySerious {
		f.add("severity", FieldSeverity, "want minor or serious")
	}
	switch {
	case v.OccurredOn.IsZero():
		f.add("occurred_on", FieldRequired, "the date the violation occurred is required")
	case v.OccurredOn.After(DateOf(now)):
		f.add("occurred_on", FieldDateInFuture, "the date is after today (Beijing)")
	}
	if len([]rune(v.Description)) > maxDescLen {
		f.add("description", FieldTooLong, "at most %d characters", maxDescLen)
	}
	if err := f.err(); err != nil {
		return RecordedViolation{}, false, err
	}
	if _, err := s.Enterprise(ctx, v.Enterprise); err != nil {
		return RecordedViolation{}, false, err
	}
	v.OccurredOn, v.RecordedAt, v.RecordedBy = dateOnly(v.OccurredOn), now, actor.By
	res, err := s.db.ExecContext(ctx, `INSERT INTO fx_violations (tenant_id, ref, severity, occurred_on, description, recorded_at, recorded_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (tenant_id, ref) DO NOTHING`,
		v.Enterprise, v.Ref, v.Severity, v.OccurredOn.Format(time.DateOnly), v.Description, v.RecordedAt, v.RecordedBy)
	if err != nil {
		return RecordedViolation{}, false, fmt.Errorf("record violation %s of %s: %w", v.Ref, v.Enterprise, err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return v, true, nil
	}
	var old struct {
		Severity    Severity  `db:"severity"`
		OccurredOn  time.Time `db:"occurred_on"`
		Description string    `db:"description"`
		RecordedAt  time.Time `db:"recorded_at"`
		RecordedBy  string    `db:"recorded_by"`
	}
	if err := s.db.GetContext(ctx, &old, `SELECT severity, occurred_on, description, recorded_at, recorded_by FROM fx_violations
		WHERE tenant_id = $1 AND ref = $2`, v.Enterprise, v.Ref); err != nil {
		return RecordedViolation{}, false, fmt.Errorf("read violation %s of %s: %w", v.Ref, v.Enterprise, err)
	}
	if old.Severity != v.Severity || !dateOnly(old.OccurredOn).Equal(v.OccurredOn) || old.Description != v.Description {
		return RecordedViolation{}, false, ErrViolationExists.With("violation %s of %s is recorded with other data", v.Ref, v.Enterprise)
	}
	v.RecordedAt, v.RecordedBy = old.RecordedAt.UTC(), old.RecordedBy
	return v, false, nil
}

// Reporting gap kinds: a month whose report is missing, or was late.
const (
	GapMissing = "missing"
	GapLate    = "late"
)

// ReportingGap is one month of an enterprise's reporting record that was
// missing or late (rules REPORTING_GAPS and LATE_REPORTS).
type ReportingGap struct {
	Enterprise string    `json:"enterprise"`
	Month      time.Time `json:"month"` // the first day of the month, midnight UTC
	Kind       string    `json:"kind"`
	RecordedAt time.Time `json:"recorded_at"`
	RecordedBy string    `json:"recorded_by"`
}

// RecordReportingGap records that month's report of the enterprise was
// missing or late. A month and kind already recorded is a replay (created
// = false). Errors: ErrEnterpriseNotFound, VALIDATION_FAILED (month,
// kind).
func (s *Service) RecordReportingGap(ctx context.Context, actor Actor, g ReportingGap) (ReportingGap, bool, error) {
	now := s.clock()
	var f fieldErrs
	g.Month = time.Date(g.Month.Year(), g.Month.Month(), 1, 0, 0, 0, 0, time.UTC)
	switch {
	case g.Month.Year() < 2000:
		f.add("month", FieldRequired, "want a month such as 2026-03")
	case g.Month.After(DateOf(now)):
		f.add("month", FieldDateInFuture, "the month has not begun (Beijing)")
	}
	if g.Kind != GapMissing && g.Kind != GapLate {
		f.add("kind", FieldGapKind, "want missing or late")
	}
	if err := f.err(); err != nil {
		return ReportingGap{}, false, err
	}
	if _, err := s.Enterprise(ctx, g.Enterprise); err != nil {
		return ReportingGap{}, false, err
	}
	res, err := s.db.ExecContext(ctx, `INSERT INTO fx_reporting_gaps (tenant_id, month, kind, recorded_at, recorded_by)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, month, kind) DO NOTHING`,
		g.Enterprise, g.Month.Format(time.DateOnly), g.Kind, now, actor.By)
	if err != nil {
		return ReportingGap{}, false, fmt.Errorf("record reporting gap of %s: %w", g.Enterprise, err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		g.RecordedAt, g.RecordedBy = now, actor.By
		return g, true, nil
	}
	var old struct {
		At time.Time `db:"recorded_at"`
		By string    `db:"recorded_by"`
	}
	if err := s.db.GetContext(ctx, &old, `SELECT recorded_at, recorded_by FROM fx_reporting_gaps
		WHERE tenant_id = $1 AND month = $2 AND kind = $3`, g.Enterprise, g.Month.Format(time.DateOnly), g.Kind); err != nil {
		return ReportingGap{}, false, fmt.Errorf("read reporting gap of %s: %w", g.Enterprise, err)
	}
	g.RecordedAt, g.RecordedBy = old.At.UTC(), old.By
	return g, false, nil
}
