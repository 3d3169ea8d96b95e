package risk

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/xbsettle/xbsettle/ledger"
)

// Credit assessment statuses: pending until a worker scores it; done with
// the result; failed when its inputs cannot be scored (the error says why).
const (
	AssessmentPending = "pending"
	AssessmentDone    = "done"
	AssessmentFailed  = "failed"
)

// CreditAssessment is a bank's request to assess an enterprise as of an
// instant, and, once a worker has scored it, the result with everything
// needed to reproduce it: the model version, the features (and their
// canonical form) and the hash of the inputs.
type CreditAssessment struct {
	ID          uuid.UUID   `json:"id"`
	Bank        string      `json:"bank"`
	Enterprise  string      `json:"enterprise"`
	AsOf        time.Time   `json:"as_of"`
	Status      string      `json:"status"`
	ConsentID   uuid.UUID   `json:"consent_id"`
	RequestedAt time.Time   `json:"requested_at"`
	RequestedBy string      `json:"requested_by"`
	CompletedAt *time.Time  `json:"completed_at"`
	Error       string      `json:"error"`
	Result      *Assessment `json:"result"`
	Features    *Features   `json:"features"`
	Canonical   string      `json:"canonical"`
	Chains      int64       `json:"chains"` // chain facts read
	Funds       int64       `json:"funds"`  // fund facts read
}

// AssessmentRequest asks for an assessment of Enterprise as of AsOf (zero:
// now). IdempotencyKey, when given, makes a retry return the first request.
type AssessmentRequest struct {
	Enterprise     string
	AsOf           time.Time
	IdempotencyKey string
}

// RequestAssessment stores a bank's request (pending) and hands it to the
// workers. The enterprise must have a consent in force for the bank now; an
// as-of date may be in the past (not before the enterprise's registration)
// but not in the future. A replay of an idempotency key with the same
// request returns the first (replayed = true). Errors: VALIDATION_FAILED
// (enterprise, as_of), ErrConsentRequired (also for an enterprise that is
// not registered: a bank learns nothing of enterprises that did not consent),
// ledger.ErrIdempotencyReused.
func (s *Service) RequestAssessment(ctx context.Context, actor Actor, req AssessmentRequest) (CreditAssessment, bool, error) {
	now := s.clock()
	asOf := req.AsOf.UTC().Truncate(time.Microsecond)
	if asOf.IsZero() {
		asOf = now
	}
	var f fieldErrs
	switch {
	case req.Enterprise == "":
		f.add("enterprise", FieldRequired, "name the enterprise by its customs code")
	case !ValidCustomsCode(req.Enterprise):
		f.add("enterprise", FieldCustomsCode, "want a 10-character customs registration code")
	}
	if asOf.After(now) {
		f.add("as_of", FieldDateInFuture, "an assessment is as of now or a past instant")
	}
	if err := f.err(); err != nil {
		return CreditAssessment{}, false, err
	}
	consent, err := consentAt(ctx, s.db, req.Enterprise, actor.Tenant, now)
	if err != nil {
		return CreditAssessment{}, false, err
	}
	e, err := s.Enterprise(ctx, req.Enterprise)
	if err != nil {
		return CreditAssessment{}, false, err
	}
	if asOf.Before(e.Since()) {
		f.add("as_of", FieldDateInPast, "the enterprise was registered after this instant")
		return CreditAssessment{}, false, f.err()
	}
	a := CreditAssessment{ID: uuid.Must(uuid.NewV7()), Bank: actor.Tenant, Enterprise: req.Enterprise, AsOf: asOf,
		Status: AssessmentPending, ConsentID: consent.ID, RequestedAt: now, RequestedBy: actor.By}
	key := sql.NullString{String: req.IdempotencyKey, Valid: req.IdempotencyKey != ""}
	res, err := s.db.ExecContext(ctx, `INSERT INTO credit_assessments (tenant_id, id, enterprise, idempotency_key, as_of,
		consent_id, status, requested_at, requested_by) VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8)
		ON CONFLICT (tenant_id, idempotency_key) DO NOTHING`, a.Bank, a.ID, a.Enterprise, key, a.AsOf, a.ConsentID,
		a.RequestedAt, a.RequestedBy)
	if err != nil {
		return CreditAssessment{}, false, fmt.Errorf("store credit assessment: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return s.replayAssessment(ctx, a.Bank, req.IdempotencyKey, req.Enterprise, req.AsOf)
	}
	s.assessmentOutbox().Enqueue(ctx, []pendingAssessment{{Bank: a.Bank, ID: a.ID}})
	return a, false, nil
}

// replayAssessment answers a repeated idempotency key: the first request
// if it asked the same, else a conflict. A request without as_of matches
// any as-of date, since "now" moved on.
func (s *Service) replayAssessment(ctx context.Context, bank, key, enterprise string, asOf time.Time) (CreditAssessment, bool, error) {
	var id uuid.UUID
	if err := s.db.GetContext(ctx, &id, `SELECT id FROM credit_assessments WHERE tenant_id = $1 AND idempotency_key = $2`,
		bank, key); err != nil {
		return CreditAssessment{}, false, fmt.Errorf("read assessment of key %q: %w", key, err)
	}
	first, err := s.Assessment(ctx, bank, id)
	if err != nil {
		return CreditAssessment{}, false, err
	}
	if first.Enterprise != enterprise || (!asOf.IsZero() && !first.AsOf.Equal(asOf.UTC().Truncate(time.Microsecond))) {
		return CreditAssessment{}, false, ledger.ErrIdempotencyReused.With("idempotency key %q was used for another assessment", key)
	}
	return first, true, nil
}

const assessmentColumns = `tenant_id, id, enterprise, as_of, status, consent_id, requested_at, requested_by, completed_at,
	error, features, canonical, breakdown, reasons, model_version, score, grade, points, limit_cny, input_hash, chains, funds`

type assessmentRow struct {
	Bank         string              `db:"tenant_id"`
	ID           uuid.UUID           `db:"id"`
	Enterprise   string              `db:"enterprise"`
	AsOf         time.Time           `db:"as_of"`
	Status       string              `db:"status"`
	ConsentID    uuid.UUID           `db:"consent_id"`
	RequestedAt  time.Time           `db:"requested_at"`
	RequestedBy  string              `db:"requested_by"`
	CompletedAt  *time.Time          `db:"completed_at"`
	Error        string              `db:"error"`
	Features     []byte              `db:"features"`
	Canonical    *string             `db:"canonical"`
	Breakdown    []byte              `db:"breakdown"`
	Reasons      []byte              `db:"reasons"`
	ModelVersion *string             `db:"model_version"`
	Score        *int                `db:"score"`
	Grade        *string             `db:"grade"`
	Points       decimal.NullDecimal `db:"points"`
	Limit        decimal.NullDecimal `db:"limit_cny"`
	InputHash    *string             `db:"input_hash"`
	ChainsRead   *int64              `db:"chains"`
	FundsRead    *int64              `db:"funds"`
}

func (r assessmentRow) assessment() (CreditAssessment, error) {
	a := CreditAssessment{ID: r.ID, Bank: r.Bank, Enterprise: r.Enterprise, AsOf: r.AsOf.UTC(), Status: r.Status,
		ConsentID: r.ConsentID, RequestedAt: r.RequestedAt.UTC(), RequestedBy: r.RequestedBy, Error: r.Error}
	if r.CompletedAt != nil {
		t := r.CompletedAt.UTC()
		a.CompletedAt = &t
	}
	if r.Status != AssessmentDone {
		return a, nil
	}
	var f Features
	if err := json.Unmarshal(r.Features, &f); err != nil {
		return CreditAssessment{}, fmt.Errorf("decode features of %s: %w", r.ID, err)
	}
	res := Assessment{ModelVersion: *r.ModelVersion, AsOf: a.AsOf, Score: *r.Score, Points: r.Points.Decimal,
		Grade: *r.Grade, RecommendedLimitCNY: r.Limit.Decimal, InputHash: *r.InputHash}
	if err := json.Unmarshal(r.Reasons, &res.Reasons); err != nil {
		return CreditAssessment{}, fmt.Errorf("decode reasons of %s: %w", r.ID, err)
	}
	if err := json.Unmarshal(r.Breakdown, &res.Breakdown); err != nil {
		return CreditAssessment{}, fmt.Errorf("decode breakdown of %s: %w", r.ID, err)
	}
	a.Result, a.Features, a.Canonical = &res, &f, *r.Canonical
	a.Chains, a.Funds = *r.ChainsRead, *r.FundsRead
	return a, nil
}

// Assessment returns a bank's assessment; bank "" reads any (admin).
// Errors: ErrAssessmentNotFound (another bank's included).
func (s *Service) Assessment(ctx context.Context, bank string, id uuid.UUID) (CreditAssessment, error) {
	var r assessmentRow
	err := s.db.GetContext(ctx, &r, `SELECT `+assessmentColumns+` FROM credit_assessments
		WHERE id = $1 AND ($2 = '' OR tenant_id = $2)`, id, bank)
	if isNoRows(err) {
		return CreditAssessment{}, ErrAssessmentNotFound.With("credit assessment %s does not exist", id)
	}
	if err != nil {
		return CreditAssessment{}, fmt.Errorf("read credit assessment %s: %w", id, err)
	}
	return r.assessment()
}

// ProcessAssessment scores a pending assessment: it streams the
// enterprise's chains and fund flows of the 360 days before as-of from one
// snapshot into a FeatureBuilder, with the FX category and tax class in
// effect at as-of, scores the features with the current scorecard and
// stores the result. Idempotent: a done or failed assessment is left
// alone, and the result is written only over a pending row; the same
// inputs give the same result and hash, so two workers racing write the
// same. Inputs that cannot be scored (a chain without a CNY amount) end
// it failed. Errors: ErrAssessmentNotFound, infrastructure errors (retry).
func (s *Service) ProcessAssessment(ctx context.Context, bank string, id uuid.UUID) error {
	a, err := s.Assessment(ctx, bank, id)
	if err != nil || a.Status != AssessmentPending {
		return err
	}
	f, n, err := s.features(ctx, a.Enterprise, a.AsOf)
	if errors.Is(err, ErrInputInvalid) {
		_, err = s.db.ExecContext(ctx, `UPDATE credit_assessments SET status = 'failed', error = $3, completed_at = $4
			WHERE tenant_id = $1 AND id = $2 AND status = 'pending'`, bank, id, err.Error(), s.clock())
		return err
	}
	if err != nil {
		return err
	}
	res := s.model.Score(f)
	return s.storeResult(ctx, a, f, res, n)
}

// storeResult writes a scored assessment over its pending row.
func (s *Service) storeResult(ctx context.Context, a CreditAssessment, f Features, res Assessment, n factCounts) error {
	features, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("encode features: %w", err)
	}
	reasons, err := json.Marshal(res.Reasons)
	if err != nil {
		return fmt.Errorf("encode reasons: %w", err)
	}
	breakdown, err := json.Marshal(res.Breakdown)
	if err != nil {
		return fmt.Errorf("encode breakdown: %w", err)
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE credit_assessments SET status = 'done', completed_at = $3, model_version = $4,
		score = $5, grade = $6, points = $7, limit_cny = $8, reasons = $9, breakdown = $10, features = $11, canonical = $12,
		input_hash = $13, chains = $14, funds = $15 WHERE tenant_id = $1 AND id = $2 AND status = 'pending'`,
		a.Bank, a.ID, s.clock(), res.ModelVersion, res.Score, res.Grade, res.Points, res.RecommendedLimitCNY, string(reasons),
		string(breakdown), string(features), string(f.Canonical()), res.InputHash, n.chains, n.funds); err != nil {
		return fmt.Errorf("store credit assessment %s: %w", a.ID, err)
	}
	return nil
}
