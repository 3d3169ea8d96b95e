package risk

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/google/uuid"
	"github.com/lib/pq"

	"github.com/xbsettle/xbsettle/internal/outbox"
)

// Pending assessments and runs are their own outbox rows (status pending):
// internal/outbox enqueues them, and Sweep enqueues again those whose task
// was lost or keeps failing, within outbox.SweepLimit and
// outbox.MaxEnqueues.

// pendingAssessment names a pending assessment and its enqueues so far.
type pendingAssessment struct {
	Bank     string    `db:"tenant_id"`
	ID       uuid.UUID `db:"id"`
	Enqueues int       `db:"enqueues"`
}

// Generation is the assessment's count of enqueues, which its task id names.
func (p pendingAssessment) Generation() int { return p.Enqueues }

// Generation is the run's count of enqueues, which its task id names.
func (r runRow) Generation() int { return r.Enqueues }

// assessmentOutbox hands assessments to the workers through the
// credit_assessments table.
func (s *Service) assessmentOutbox() outbox.Table[pendingAssessment] {
	t := outbox.Table[pendingAssessment]{
		Record: s.recordAssessmentEnqueues,
		EnqueueFailed: func(ctx context.Context, p pendingAssessment, err error) {
			slog.WarnContext(ctx, "enqueue credit assessment; the sweeper will retry", "bank", p.Bank, "id", p.ID, "err", err)
		},
		RecordFailed: func(ctx context.Context, n int, err error) {
			slog.WarnContext(ctx, "record assessment enqueues", "assessments", n, "err", err)
		},
		GaveUp: func(ctx context.Context, p pendingAssessment) {
			slog.ErrorContext(ctx, "credit assessment enqueued too often; look at it", "bank", p.Bank, "id", p.ID)
		},
	}
	if s.enqueuer != nil {
		t.EnqueueRow = func(ctx context.Context, p pendingAssessment) error {
			return s.enqueuer.EnqueueAssessment(ctx, p.Bank, p.ID, p.Enqueues)
		}
	}
	return t
}

// recordAssessmentEnqueues counts one enqueue of each assessment. Only the
// generation that was current moves the count on.
func (s *Service) recordAssessmentEnqueues(ctx context.Context, ps []pendingAssessment) error {
	banks, ids, gens := make([]string, len(ps)), make([]uuid.UUID, len(ps)), make([]int64, len(ps))
	for i, p := range ps {
		banks[i], ids[i], gens[i] = p.Bank, p.ID, int64(p.Enqueues)
	}
	_, err := s.db.ExecContext(ctx, `UPDATE credit_assessments a SET enqueued_at = $4, enqueues = a.enqueues + 1
		FROM unnest($1::text[], $2::uuid[], $3::int[]) AS u(bank, id, gen)
		WHERE a.tenant_id = u.bank AND a.id = u.id AND a.enqueues = u.gen`,
		pq.Array(banks), pq.Array(ids), pq.Array(gens), s.clock())
	return err
}

// runOutbox hands classification runs to the workers through the
// fx_classification_runs table, like assessmentOutbox.
func (s *Service) runOutbox() outbox.Table[runRow] {
	t := outbox.Table[runRow]{
		Record: s.recordRunEnqueues,
		EnqueueFailed: func(ctx context.Context, r runRow, err error) {
			slog.WarnContext(ctx, "enqueue classification run; the sweeper will retry", "run", r.ID, "err", err)
		},
		RecordFailed: func(ctx context.Context, n int, err error) {
			slog.WarnContext(ctx, "record run enqueues", "runs", n, "err", err)
		},
		GaveUp: func(ctx context.Context, r runRow) {
			slog.ErrorContext(ctx, "classification run enqueued too often; look at it", "run", r.ID)
		},
	}
	if s.enqueuer != nil {
		t.EnqueueRow = func(ctx context.Context, r runRow) error { return s.enqueuer.EnqueueRun(ctx, r.ID, r.Enqueues) }
	}
	return t
}

// recordRunEnqueues counts one enqueue of each run, like
// recordAssessmentEnqueues.
func (s *Service) recordRunEnqueues(ctx context.Context, rs []runRow) error {
	ids, gens := make([]uuid.UUID, len(rs)), make([]int64, len(rs))
	for i, r := range rs {
		ids[i], gens[i] = r.ID, int64(r.Enqueues)
	}
	_, err := s.db.ExecContext(ctx, `UPDATE fx_classification_runs r SET enqueued_at = $3, enqueues = r.enqueues + 1
		FROM unnest($1::uuid[], $2::int[]) AS u(id, gen) WHERE r.id = u.id AND r.enqueues = u.gen`,
		pq.Array(ids), pq.Array(gens), s.clock())
	return err
}

// Sweep enqueues again the pending assessments and runs whose last enqueue
// (or creation) is older than the service's patience (WithStaleOutbox):
// their task was lost with Redis, or keeps failing. It returns how many it
// enqueued. Rows enqueued outbox.MaxEnqueues times are left alone and
// logged.
func (s *Service) Sweep(ctx context.Context) (int, error) {
	before := s.clock().Add(-s.stale)
	// Across banks on purpose: one sweeper serves them all, through the
	// partial index of pending rows.
	var as []pendingAssessment
	if err := s.db.SelectContext(ctx, &as, `SELECT tenant_id, id, enqueues FROM credit_assessments
		WHERE status = 'pending' AND coalesce(enqueued_at, requested_at) <= $1
		ORDER BY coalesce(enqueued_at, requested_at) LIMIT $2`, before, outbox.SweepLimit); err != nil {
		return 0, fmt.Errorf("sweep credit assessments: %w", err)
	}
	var rs []runRow
	if err := s.db.SelectContext(ctx, &rs, `SELECT `+runColumns+` FROM fx_classification_runs
		WHERE status = 'pending' AND coalesce(enqueued_at, requested_at) <= $1
		ORDER BY coalesce(enqueued_at, requested_at) LIMIT $2`, before, outbox.SweepLimit); err != nil {
		return 0, fmt.Errorf("sweep classification runs: %w", err)
	}
	assessments, runs := s.assessmentOutbox(), s.runOutbox()
	dueA, dueR := assessments.Due(ctx, as), runs.Due(ctx, rs)
	return assessments.Enqueue(ctx, dueA) + runs.Enqueue(ctx, dueR), nil
}
