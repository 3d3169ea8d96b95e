package risk

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// maxConsent bounds how far ahead a consent may run: a bank that needs
// longer asks again.
const maxConsent = 3 * 366 * 24 * time.Hour

// Consent lets one bank assess one enterprise until ValidUntil. The latest
// grant of an (enterprise, bank) pair is the one in force, so a new grant
// extends or shortens an earlier one.
type Consent struct {
	ID         uuid.UUID `json:"id"`
	Enterprise string    `json:"enterprise"`
	Bank       string    `json:"bank"`
	ValidUntil time.Time `json:"valid_until"`
	GrantedAt  time.Time `json:"granted_at"`
	GrantedBy  string    `json:"granted_by"`
}

// GrantConsent records that enterprise lets bank assess it until
// validUntil (in the future, at most three years ahead). The bank must be a
// registered enterprise of kind bank. Errors: ErrEnterpriseNotFound,
// VALIDATION_FAILED (bank: REQUIRED, CUSTOMS_CODE_INVALID, BANK_UNKNOWN;
// valid_until: REQUIRED, DATE_IN_PAST, DATE_IN_FUTURE).
func (s *Service) GrantConsent(ctx context.Context, actor Actor, enterprise, bank string, validUntil time.Time) (Consent, error) {
	now := s.clock()
	if _, err := s.Enterprise(ctx, enterprise); err != nil {
		return Consent{}, err
	}
	var f fieldErrs
	switch {
	case bank == "":
		f.add("bank", FieldRequired, "name the bank by its customs code")
	case !ValidCustomsCode(bank):
		f.add("bank", FieldCustomsCode, "want the bank's 10-character customs registration code")
	default:
		var kind string
		err := s.db.GetContext(ctx, &kind, `SELECT kind FROM enterprises WHERE customs_code = $1`, bank)
		switch {
		case isNoRows(err) || (err == nil && kind != KindBank):
			f.add("bank", FieldBankUnknown, "%s is not a registered bank", bank)
		case err != nil:
			return Consent{}, fmt.Errorf("look up bank %s: %w", bank, err)
		}
	}
	switch {
	case validUntil.IsZero():
		f.add("valid_until", FieldRequired, "say until when the bank may assess")
	case !validUntil.After(now):
		f.add("valid_until", FieldDateInPast, "a consent must run into the future")
	case validUntil.Sub(now) > maxConsent:
		f.add("valid_until", FieldDateInFuture, "a consent runs at most three years")
	}
	if err := f.err(); err != nil {
		return Consent{}, err
	}
	c := Consent{ID: uuid.Must(uuid.NewV7()), Enterprise: enterprise, Bank: bank, ValidUntil: validUntil.UTC().Truncate(time.Microsecond),
		GrantedAt: now, GrantedBy: actor.By}
	if _, err := s.db.ExecContext(ctx, `INSERT INTO enterprise_consents (tenant_id, id, bank, valid_until, granted_at, granted_by)
		VALUES ($1, $2, $3, $4, $5, $6)`, c.Enterprise, c.ID, c.Bank, c.ValidUntil, c.GrantedAt, c.GrantedBy); err != nil {
		return Consent{}, fmt.Errorf("grant consent of %s to %s: %w", enterprise, bank, err)
	}
	return c, nil
}

// consentAt returns the consent of enterprise for bank in force at at.
// Errors: ErrConsentRequired when none is.
func consentAt(ctx context.Context, q querier, enterprise, bank string, at time.Time) (Consent, error) {
	var c struct {
		ID         uuid.UUID `db:"id"`
		ValidUntil time.Time `db:"valid_until"`
		GrantedAt  time.Time `db:"granted_at"`
		GrantedBy  string    `db:"granted_by"`
	}
	err := q.GetContext(ctx, &c, `SELECT id, valid_until, granted_at, granted_by FROM enterprise_consents
		WHERE tenant_id = $1 AND bank = $2 AND granted_at <= $3 ORDER BY granted_at DESC, id DESC LIMIT 1`, enterprise, bank, at)
	if isNoRows(err) || (err == nil && !c.ValidUntil.After(at)) {
		return Consent{}, ErrConsentRequired.With("%s has no consent in force for bank %s", enterprise, bank)
	}
	if err != nil {
		return Consent{}, fmt.Errorf("read consent of %s for %s: %w", enterprise, bank, err)
	}
	return Consent{ID: c.ID, Enterprise: enterprise, Bank: bank, ValidUntil: c.ValidUntil.UTC(), GrantedAt: c.GrantedAt.UTC(),
		GrantedBy: c.GrantedBy}, nil
}
