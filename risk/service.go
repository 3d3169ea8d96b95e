package risk

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
)

// Actor is who asks the risk service to do something: the API key's id,
// its role and its tenant ("" for admin and fx_bureau keys without one).
// Decisions record all three, so the audit says who decided.
type Actor struct {
	By     string
	Role   string
	Tenant string
}

// Enqueuer hands risk work to the workers. It may lose work: the rows are
// the outbox, and the sweeper enqueues again what is still pending. gen
// numbers the enqueues of one row, so a repeated enqueue of a generation is
// dropped while the next generation replaces a lost task.
type Enqueuer interface {
	EnqueueAssessment(ctx context.Context, bank string, id uuid.UUID, gen int) error
	EnqueueRun(ctx context.Context, id uuid.UUID, gen int) error
}

// Service is enterprise risk on PostgreSQL (DESIGN §7, docs/risk.md): the
// registry's risk fields, consents, the bureau's records, FX category
// proposals and decisions, export-rebate classes and credit assessments.
// Its Policy tells settlement the FX category in effect.
//
//	svc, err := risk.NewService(db, risk.WithEnqueuer(risk.NewTaskEnqueuer(client)))
//	set := settlement.NewService(db, led, fx, settlement.WithCategoryPolicy(svc.Policy()))
type Service struct {
	db       *sqlx.DB
	th       Thresholds
	model    *Scorecard
	enqueuer Enqueuer
	stale    time.Duration
	now      func() time.Time
}

// Option tunes a Service.
type Option func(*Service)

// WithEnqueuer sets how work reaches the workers (default none: only the
// sweeper, or a direct call, runs it).
func WithEnqueuer(e Enqueuer) Option { return func(s *Service) { s.enqueuer = e } }

// WithNow replaces time.Now, for tests.
func WithNow(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithStaleOutbox sets how long pending work may wait after its last
// enqueue before the sweeper enqueues it again (default 2 min).
func WithStaleOutbox(d time.Duration) Option { return func(s *Service) { s.stale = d } }

// defaultStale is how long a task may take before it is presumed lost.
const defaultStale = 2 * time.Minute

// NewService returns the risk service over db with the current threshold
// table and scorecard. Errors: a table or model that does not load (a build
// defect: the tests load every embedded file).
func NewService(db *sqlx.DB, opts ...Option) (*Service, error) {
	th, err := LoadThresholds(CurrentThresholdsVersion)
	if err != nil {
		return nil, err
	}
	model, err := LoadScorecard(CurrentScorecardVersion)
	if err != nil {
		return nil, err
	}
	s := &Service{db: db, th: th, model: model, stale: defaultStale, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	return s, nil
}

// clock is now at the database's precision.
func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// querier is what both *sqlx.DB and *sqlx.Tx offer.
type querier interface {
	sqlx.QueryerContext
	sqlx.ExecerContext
	GetContext(ctx context.Context, dest any, query string, args ...any) error
	SelectContext(ctx context.Context, dest any, query string, args ...any) error
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

// Beijing is the calendar of the bureaus: registration dates, review
// periods, effective dates and tenure are Beijing dates (UTC+8, no DST).
var Beijing = beijing

// DateOf is the Beijing calendar date of t, as midnight UTC: the form
// PostgreSQL date columns take and give.
func DateOf(t time.Time) time.Time {
	b := t.In(beijing)
	return time.Date(b.Year(), b.Month(), b.Day(), 0, 0, 0, 0, time.UTC)
}

// StartOf is the instant a Beijing date begins (d's year, month and day).
func StartOf(d time.Time) time.Time {
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, beijing).UTC()
}
