package risk

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"reflect"
	"time"
)

// registerSQL adds an enterprise. A row clearance registered bare (no
// credit code, no registration date: RegisterEnterprises for rule PARTIES)
// is completed instead, so the registry keeps one row per customs code.
// inserted is false when the row existed with data: the caller compares.
const registerSQL = `
INSERT INTO enterprises AS e (customs_code, name, kind, unified_social_credit_code, registered_at, created_by,
	tax_profile, tax_profile_updated_at, tax_profile_updated_by)
VALUES ($1, $2, $3, $4, $5, $6, $7, CASE WHEN $7::jsonb IS NULL THEN NULL ELSE $8::timestamptz END,
	CASE WHEN $7::jsonb IS NULL THEN NULL ELSE $6 END)
ON CONFLICT (customs_code) DO UPDATE SET name = excluded.name, kind = excluded.kind,
	unified_social_credit_code = excluded.unified_social_credit_code, registered_at = excluded.registered_at,
	created_by = excluded.created_by, tax_profile = excluded.tax_profile,
	tax_profile_updated_at = excluded.tax_profile_updated_at, tax_profile_updated_by = excluded.tax_profile_updated_by
WHERE e.unified_social_credit_code IS NULL AND e.registered_at IS NULL
RETURNING customs_code`

const enterpriseColumns = `customs_code, name, kind, coalesce(unified_social_credit_code, '') AS uscc, registered_at,
	tax_profile, created_at, coalesce(created_by, '') AS created_by`

// enterpriseRow is a row of enterprises.
type enterpriseRow struct {
	CustomsCode  string     `db:"customs_code"`
	Name         string     `db:"name"`
	Kind         string     `db:"kind"`
	USCC         string     `db:"uscc"`
	RegisteredAt *time.Time `db:"registered_at"`
	TaxProfile   []byte     `db:"tax_profile"`
	CreatedAt    time.Time  `db:"created_at"`
	CreatedBy    string     `db:"created_by"`
}

func (r enterpriseRow) enterprise() (Enterprise, error) {
	e := Enterprise{CustomsCode: r.CustomsCode, Name: r.Name, Kind: r.Kind, USCC: r.USCC, CreatedAt: r.CreatedAt.UTC(),
		CreatedBy: r.CreatedBy}
	if r.RegisteredAt != nil {
		e.RegisteredAt = dateOnly(*r.RegisteredAt)
	}
	if r.TaxProfile != nil {
		var p TaxProfile
		if err := json.Unmarshal(r.TaxProfile, &p); err != nil {
			return Enterprise{}, fmt.Errorf("tax profile of %s: %w", r.CustomsCode, err)
		}
		e.TaxProfile = &p
	}
	return e, nil
}

// dateOnly is a date column's value as midnight UTC, whatever zone the
// driver gave it.
func dateOnly(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// Register adds an enterprise to the registry (or completes the bare row
// clearance made for its customs code), and computes its tax class when it
// has a tax profile. The credit code is normalised and checked (GB 32100).
// It returns the enterprise and created = false for a replay: the same
// registration again. Errors: VALIDATION_FAILED, ErrEnterpriseExists.
func (s *Service) Register(ctx context.Context, actor Actor, in NewEnterprise) (Enterprise, bool, error) {
	in.USCC = NormalizeUSCC(in.USCC)
	if !in.RegisteredAt.IsZero() {
		in.RegisteredAt = dateOnly(in.RegisteredAt)
	}
	now := s.clock()
	if err := in.validate(now); err != nil {
		return Enterprise{}, false, err
	}
	profile, err := profileJSON(in.TaxProfile)
	if err != nil {
		return Enterprise{}, false, err
	}
	var codes []string
	if err := s.db.SelectContext(ctx, &codes, registerSQL, in.CustomsCode, in.Name, in.Kind, in.USCC,
		in.RegisteredAt.Format(time.DateOnly), actor.By, profile, now); err != nil {
		return Enterprise{}, false, fmt.Errorf("register enterprise %s: %w", in.CustomsCode, err)
	}
	e, err := s.Enterprise(ctx, in.CustomsCode)
	if err != nil {
		return Enterprise{}, false, err
	}
	if len(codes) == 0 {
		if !sameRegistration(e, in) {
			return Enterprise{}, false, ErrEnterpriseExists.With("customs code %s is registered as %q (%s) with other data", e.CustomsCode, e.Name, e.Kind)
		}
		return e, false, nil
	}
	if e.TaxProfile != nil {
		if _, err := s.RefreshTaxClass(ctx, e.CustomsCode); err != nil {
			return Enterprise{}, false, err
		}
	}
	return e, true, nil
}

// sameRegistration reports whether e is what in registers.
func sameRegistration(e Enterprise, in NewEnterprise) bool {
	return e.Name == in.Name && e.Kind == in.Kind && e.USCC == in.USCC && e.RegisteredAt.Equal(in.RegisteredAt) &&
		reflect.DeepEqual(normalProfile(e.TaxProfile), normalProfile(in.TaxProfile))
}

// normalProfile is p as stored and read back, so two profiles compare by value.
func normalProfile(p *TaxProfile) *TaxProfile {
	if p == nil {
		return nil
	}
	b, _ := profileJSON(p)
	var q TaxProfile
	_ = json.Unmarshal([]byte(b.String), &q)
	return &q
}

// profileJSON is the stored form of a profile: NULL for none, amounts to
// the fen. Text, not bytes: lib/pq would send bytes as bytea.
func profileJSON(p *TaxProfile) (sql.NullString, error) {
	if p == nil {
		return sql.NullString{}, nil
	}
	q := *p
	q.NetAssetsCNY, q.RebatesCNY = q.NetAssetsCNY.Round(2), q.RebatesCNY.Round(2)
	if d := q.FirstRebateClaimOn; d != nil {
		day := dateOnly(*d)
		q.FirstRebateClaimOn = &day
	}
	b, err := json.Marshal(q)
	if err != nil {
		return sql.NullString{}, fmt.Errorf("encode tax profile: %w", err)
	}
	return sql.NullString{String: string(b), Valid: true}, nil
}

// Enterprise returns a registered enterprise. Errors: ErrEnterpriseNotFound.
func (s *Service) Enterprise(ctx context.Context, code string) (Enterprise, error) {
	return enterpriseOf(ctx, s.db, code)
}

func enterpriseOf(ctx context.Context, q querier, code string) (Enterprise, error) {
	var r enterpriseRow
	err := q.GetContext(ctx, &r, `SELECT `+enterpriseColumns+` FROM enterprises WHERE customs_code = $1`, code)
	if isNoRows(err) {
		return Enterprise{}, ErrEnterpriseNotFound.With("no enterprise has customs code %q", code)
	}
	if err != nil {
		return Enterprise{}, fmt.Errorf("read enterprise %s: %w", code, err)
	}
	return r.enterprise()
}

// SetTaxProfile replaces an enterprise's tax profile and computes its tax
// class again. Errors: VALIDATION_FAILED, ErrEnterpriseNotFound.
func (s *Service) SetTaxProfile(ctx context.Context, actor Actor, code string, p TaxProfile) (Enterprise, error) {
	now := s.clock()
	if err := p.Validate(now); err != nil {
		return Enterprise{}, err
	}
	profile, err := profileJSON(&p)
	if err != nil {
		return Enterprise{}, err
	}
	res, err := s.db.ExecContext(ctx, `UPDATE enterprises SET tax_profile = $2, tax_profile_updated_at = $3,
		tax_profile_updated_by = $4 WHERE customs_code = $1`, code, profile, now, actor.By)
	if err != nil {
		return Enterprise{}, fmt.Errorf("set tax profile of %s: %w", code, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Enterprise{}, ErrEnterpriseNotFound.With("no enterprise has customs code %q", code)
	}
	if _, err := s.RefreshTaxClass(ctx, code); err != nil {
		return Enterprise{}, err
	}
	return s.Enterprise(ctx, code)
}
