package risk

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/lib/pq"
)

// Bounds of classification runs.
const (
	// ReviewMonths is the default review period: the twelve calendar months
	// (Beijing) before the month the run is in.
	ReviewMonths = 12
	// maxReviewMonths bounds a period asked for on demand.
	maxReviewMonths = 36
	// MaxRunEnterprises bounds the enterprises an on-demand run names.
	MaxRunEnterprises = 1000
	// runChunk is how many enterprises one set of statements classifies.
	runChunk = 500
)

// Run triggers.
const (
	TriggerScheduled = "scheduled"
	TriggerOnDemand  = "on_demand"
)

// Run is one classification of many enterprises over one review period
// [PeriodStart, PeriodEnd). It is stored pending and carried out by a
// worker, which writes one proposal per enterprise.
type Run struct {
	ID                uuid.UUID  `json:"id"`
	Trigger           string     `json:"trigger"`
	PeriodStart       time.Time  `json:"period_start"`
	PeriodEnd         time.Time  `json:"period_end"`
	Enterprises       []string   `json:"enterprises"` // empty: every seller and platform
	ThresholdsVersion string     `json:"thresholds_version"`
	Status            string     `json:"status"` // pending, done
	RequestedAt       time.Time  `json:"requested_at"`
	RequestedBy       string     `json:"requested_by"`
	CompletedAt       *time.Time `json:"completed_at"`
	Proposals         int        `json:"proposals"`
	Failures          int        `json:"failures"`
	LastError         string     `json:"last_error"`
}

const runColumns = `id, trigger, period_start, period_end, enterprises, thresholds_version, status, requested_at, requested_by,
	completed_at, proposals, failures, last_error, enqueues`

type runRow struct {
	ID                uuid.UUID      `db:"id"`
	Trigger           string         `db:"trigger"`
	PeriodStart       time.Time      `db:"period_start"`
	PeriodEnd         time.Time      `db:"period_end"`
	Enterprises       pq.StringArray `db:"enterprises"`
	ThresholdsVersion string         `db:"thresholds_version"`
	Status            string         `db:"status"`
	RequestedAt       time.Time      `db:"requested_at"`
	RequestedBy       string         `db:"requested_by"`
	CompletedAt       *time.Time     `db:"completed_at"`
	Proposals         int            `db:"proposals"`
	Failures          int            `db:"failures"`
	LastError         string         `db:"last_error"`
	Enqueues          int            `db:"enqueues"`
}

func (r runRow) run() Run {
	run := Run{ID: r.ID, Trigger: r.Trigger, PeriodStart: r.PeriodStart.UTC(), PeriodEnd: r.PeriodEnd.UTC(),
		Enterprises: []string(r.Enterprises), ThresholdsVersion: r.ThresholdsVersion, Status: r.Status,
		RequestedAt: r.RequestedAt.UTC(), RequestedBy: r.RequestedBy, Proposals: r.Proposals, Failures: r.Failures,
		LastError: r.LastError}
	if run.Enterprises == nil {
		run.Enterprises = []string{}
	}
	if r.CompletedAt != nil {
		t := r.CompletedAt.UTC()
		run.CompletedAt = &t
	}
	return run
}

// DefaultPeriod is the review period of a run made at now: the ReviewMonths
// calendar months (Beijing) before now's month.
func DefaultPeriod(now time.Time) (start, end time.Time) {
	b := now.In(beijing)
	end = time.Date(b.Year(), b.Month(), 1, 0, 0, 0, 0, beijing)
	return end.AddDate(0, -ReviewMonths, 0).UTC(), end.UTC()
}

// RunRequest asks for a classification run on demand. Zero dates take the
// default period; PeriodStart and PeriodEnd are Beijing dates (midnight
// UTC), the end excluded. Enterprises empty means every seller and platform.
type RunRequest struct {
	PeriodStart time.Time
	PeriodEnd   time.Time
	Enterprises []string
}

// StartRun stores an on-demand run and hands it to the workers; the answer
// is the pending run. Errors: VALIDATION_FAILED (period_start, period_end:
// PERIOD_INVALID; enterprises: TOO_MANY, CUSTOMS_CODE_INVALID).
func (s *Service) StartRun(ctx context.Context, actor Actor, req RunRequest) (Run, error) {
	now := s.clock()
	start, end := DefaultPeriod(now)
	if !req.PeriodStart.IsZero() {
		start = StartOf(req.PeriodStart)
	}
	if !req.PeriodEnd.IsZero() {
		end = StartOf(req.PeriodEnd)
	}
	var f fieldErrs
	switch {
	case !start.Before(end):
		f.add("period_end", FieldPeriod, "the period must end after it starts")
	case end.After(StartOf(DateOf(now)).AddDate(0, 0, 1)):
		f.add("period_end", FieldPeriod, "the period cannot end after today (Beijing)")
	case start.AddDate(0, maxReviewMonths, 0).Before(end):
		f.add("period_start", FieldPeriod, "a review period is at most %d months", maxReviewMonths)
	}
	codes := slices.Clone(req.Enterprises)
	slices.Sort(codes)
	codes = slices.Compact(codes)
	if len(codes) > MaxRunEnterprises {
		f.add("enterprises", FieldTooMany, "at most %d enterprises; leave empty for all", MaxRunEnterprises)
	}
	for i, c := range req.Enterprises {
		if !ValidCustomsCode(c) {
			f.add(fmt.Sprintf("enterprises[%d]", i), FieldCustomsCode, "want a 10-character customs registration code")
		}
	}
	if err := f.err(); err != nil {
		return Run{}, err
	}
	r := runRow{ID: uuid.Must(uuid.NewV7()), Trigger: TriggerOnDemand, PeriodStart: start, PeriodEnd: end,
		Enterprises: codes, ThresholdsVersion: s.th.Version, Status: "pending", RequestedAt: now, RequestedBy: actor.By}
	if _, err := s.db.ExecContext(ctx, `INSERT INTO fx_classification_runs (id, trigger, period_start, period_end, enterprises,
		thresholds_version, status, requested_at, requested_by) VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8)`,
		r.ID, r.Trigger, r.PeriodStart, r.PeriodEnd, pq.Array(codes), r.ThresholdsVersion, r.RequestedAt, r.RequestedBy); err != nil {
		return Run{}, fmt.Errorf("store classification run: %w", err)
	}
	s.runOutbox().Enqueue(ctx, []runRow{r})
	return r.run(), nil
}

// ScheduleMonthly makes sure the scheduled run of the current default
// period exists, and enqueues it while it is pending. The scheduler calls
// it often (hourly): only the first call of a month creates the run, so a
// missed month is caught up at the next call. created reports a new run.
func (s *Service) ScheduleMonthly(ctx context.Context) (Run, bool, error) {
	now := s.clock()
	start, end := DefaultPeriod(now)
	id := uuid.Must(uuid.NewV7())
	res, err := s.db.ExecContext(ctx, `INSERT INTO fx_classification_runs (id, trigger, period_start, period_end,
		thresholds_version, status, requested_at, requested_by) VALUES ($1, 'scheduled', $2, $3, $4, 'pending', $5, 'scheduler')
		ON CONFLICT (period_start, period_end) WHERE trigger = 'scheduled' DO NOTHING`, id, start, end, s.th.Version, now)
	if err != nil {
		return Run{}, false, fmt.Errorf("schedule classification run: %w", err)
	}
	created := false
	if n, _ := res.RowsAffected(); n == 1 {
		created = true
	}
	var r runRow
	if err := s.db.GetContext(ctx, &r, `SELECT `+runColumns+` FROM fx_classification_runs
		WHERE trigger = 'scheduled' AND period_start = $1 AND period_end = $2`, start, end); err != nil {
		return Run{}, false, fmt.Errorf("read scheduled run: %w", err)
	}
	if created {
		s.runOutbox().Enqueue(ctx, []runRow{r})
	}
	return r.run(), created, nil
}

// ClassificationRun returns a run. Errors: ErrRunNotFound.
func (s *Service) ClassificationRun(ctx context.Context, id uuid.UUID) (Run, error) {
	r, err := s.runRow(ctx, id)
	if err != nil {
		return Run{}, err
	}
	return r.run(), nil
}

func (s *Service) runRow(ctx context.Context, id uuid.UUID) (runRow, error) {
	var r runRow
	err := s.db.GetContext(ctx, &r, `SELECT `+runColumns+` FROM fx_classification_runs WHERE id = $1`, id)
	if isNoRows(err) {
		return runRow{}, ErrRunNotFound.With("classification run %s does not exist", id)
	}
	if err != nil {
		return runRow{}, fmt.Errorf("read classification run %s: %w", id, err)
	}
	return r, nil
}

// ProcessRun carries out a pending run: for each enterprise (those named,
// else every seller and platform, in chunks of runChunk), it gathers the
// period's figures, proposes a category under the run's threshold table,
// writes the proposal, and refreshes the tax class of those with a tax
// profile. It is idempotent: a repeated run writes the same proposals,
// which are kept rather than added (proposal_hash). Errors: ErrRunNotFound,
// infrastructure errors (retry).
func (s *Service) ProcessRun(ctx context.Context, id uuid.UUID) error {
	r, err := s.runRow(ctx, id)
	if err != nil || r.Status != "pending" {
		return err
	}
	th, err := LoadThresholds(r.ThresholdsVersion)
	if err != nil {
		return err
	}
	var proposals, failures int
	var lastErr string
	after := ""
	for {
		es, err := s.runEnterprises(ctx, r, after)
		if err != nil {
			return err
		}
		if len(es) == 0 {
			break
		}
		after = es[len(es)-1].CustomsCode
		n, failed, err := s.classifyChunk(ctx, r, th, es)
		if err != nil {
			return err
		}
		proposals += n
		failures += len(failed)
		for code, why := range failed {
			lastErr = code + ": " + why
			slog.WarnContext(ctx, "enterprise not classified", "run", r.ID, "enterprise", code, "why", why)
		}
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE fx_classification_runs SET status = 'done', completed_at = $2, proposals = $3,
		failures = $4, last_error = $5 WHERE id = $1 AND status = 'pending'`, r.ID, s.clock(), proposals, failures, lastErr); err != nil {
		return fmt.Errorf("finish classification run %s: %w", r.ID, err)
	}
	return nil
}

// runEnterprises pages through a run's enterprises by customs code. A
// named enterprise that is not registered is skipped.
func (s *Service) runEnterprises(ctx context.Context, r runRow, after string) ([]Enterprise, error) {
	var rows []enterpriseRow
	var err error
	if len(r.Enterprises) > 0 {
		err = s.db.SelectContext(ctx, &rows, `SELECT `+enterpriseColumns+` FROM enterprises
			WHERE customs_code = ANY($1) AND customs_code > $2 ORDER BY customs_code LIMIT $3`, r.Enterprises, after, runChunk)
	} else {
		err = s.db.SelectContext(ctx, &rows, `SELECT `+enterpriseColumns+` FROM enterprises
			WHERE kind = ANY($1) AND customs_code > $2 ORDER BY customs_code LIMIT $3`, pq.Array(tradingKinds), after, runChunk)
	}
	if err != nil {
		return nil, fmt.Errorf("enterprises of run %s: %w", r.ID, err)
	}
	es := make([]Enterprise, len(rows))
	for i, row := range rows {
		if es[i], err = row.enterprise(); err != nil {
			return nil, err
		}
	}
	return es, nil
}

// classifyChunk proposes a category for each of es and stores the
// proposals; it returns how many proposals the run now has for them and
// the enterprises it could not classify, with why.
func (s *Service) classifyChunk(ctx context.Context, r runRow, th Thresholds, es []Enterprise) (int, map[string]string, error) {
	ins, failed, err := classificationInputs(ctx, s.db, es, r.PeriodStart, r.PeriodEnd)
	if err != nil {
		return 0, nil, err
	}
	var ps []storedProposal
	for _, e := range es {
		in, ok := ins[e.CustomsCode]
		if !ok {
			continue
		}
		p, err := Classify(*in, th)
		if err != nil {
			failed[e.CustomsCode] = err.Error()
			continue
		}
		ps = append(ps, storedProposal{enterprise: e.CustomsCode, Proposal: p})
	}
	if err := s.storeProposals(ctx, r.ID, ps); err != nil {
		return 0, nil, err
	}
	for _, e := range es {
		if e.TaxProfile == nil {
			continue
		}
		if _, err := s.RefreshTaxClass(ctx, e.CustomsCode); err != nil {
			failed[e.CustomsCode] = "tax class: " + err.Error()
		}
	}
	return len(ps), failed, nil
}
