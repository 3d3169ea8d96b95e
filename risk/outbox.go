package risk

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/google/uuid"
	"github.com/lib/pq"
)

// Bounds of the outbox: pending assessments and runs are their own outbox
// rows (status pending); the sweeper enqueues again those whose task was
// lost or keeps failing.
const (
	sweepLimit  = 500 // rows enqueued again per sweep, of each kind
	maxEnqueues = 50  // then the sweeper stops and logs: a retry does not fix it
)

// pendingAssessment names a pending assessment and its enqueues so far.
type pendingAssessment struct {
	Bank     string    `db:"tenant_id"`
	ID       uuid.UUID `db:"id"`
	Enqueues int       `db:"enqueues"`
}

// enqueueAssessments hands assessments to the workers and records each
// enqueue that succeeded; a failure is only logged, the sweeper retries.
func (s *Service) enqueueAssessments(ctx context.Context, ps []pendingAssessment) int {
	if s.enqueuer == nil || len(ps) == 0 {
		return 0
	}
	var banks []string
	var ids []uuid.UUID
	var gens []int64
	for _, p := range ps {
		if err := s.enqueuer.EnqueueAssessment(ctx, p.Bank, p.ID, p.Enqueues); err != nil {
			slog.WarnContext(ctx, "enqueue credit assessment; the sweeper will retry", "bank", p.Bank, "id", p.ID, "err", err)
			continue
		}
		banks, ids, gens = append(banks, p.Bank), append(ids, p.ID), append(gens, int64(p.Enqueues))
	}
	if len(ids) == 0 {
		return 0
	}
	// Only the generation that was current moves the count on.
	if _, err := s.db.ExecContext(ctx, `UPDATE credit_assessments a SET enqueued_at = $4, enqueues = a.enqueues + 1
		FROM unnest($1::text[], $2::uuid[], $3::int[]) AS u(bank, id, gen)
		WHERE a.tenant_id = u.bank AND a.id = u.id AND a.enqueues = u.gen`,
		pq.Array(banks), pq.Array(ids), pq.Array(gens), s.clock()); err != nil {
		slog.WarnContext(ctx, "record assessment enqueues", "assessments", len(ids), "err", err)
	}
	return len(ids)
}

// enqueueRuns hands classification runs to the workers, like
// enqueueAssessments.
func (s *Service) enqueueRuns(ctx context.Context, rs []runRow) int {
	if s.enqueuer == nil || len(rs) == 0 {
		return 0
	}
	var ids []uuid.UUID
	var gens []int64
	for _, r := range rs {
		if err := s.enqueuer.EnqueueRun(ctx, r.ID, r.Enqueues); err != nil {
			slog.WarnContext(ctx, "enqueue classification run; the sweeper will retry", "run", r.ID, "err", err)
			continue
		}
		ids, gens = append(ids, r.ID), append(gens, int64(r.Enqueues))
	}
	if len(ids) == 0 {
		return 0
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE fx_classification_runs r SET enqueued_at = $3, enqueues = r.enqueues + 1
		FROM unnest($1::uuid[], $2::int[]) AS u(id, gen) WHERE r.id = u.id AND r.enqueues = u.gen`,
		pq.Array(ids), pq.Array(gens), s.clock()); err != nil {
		slog.WarnContext(ctx, "record run enqueues", "runs", len(ids), "err", err)
	}
	return len(ids)
}

// Sweep enqueues again the pending assessments and runs whose last enqueue
// (or creation) is older than the service's patience (WithStaleOutbox):
// their task was lost with Redis, or keeps failing. It returns how many it
// enqueued. Rows enqueued maxEnqueues times are left alone and logged.
func (s *Service) Sweep(ctx context.Context) (int, error) {
	before := s.clock().Add(-s.stale)
	// Across banks on purpose: one sweeper serves them all, through the
	// partial index of pending rows.
	var as []pendingAssessment
	if err := s.db.SelectContext(ctx, &as, `SELECT tenant_id, id, enqueues FROM credit_assessments
		WHERE status = 'pending' AND coalesce(enqueued_at, requested_at) <= $1
		ORDER BY coalesce(enqueued_at, requested_at) LIMIT $2`, before, sweepLimit); err != nil {
		return 0, fmt.Errorf("sweep credit assessments: %w", err)
	}
	var rs []runRow
	if err := s.db.SelectContext(ctx, &rs, `SELECT `+runColumns+` FROM fx_classification_runs
		WHERE status = 'pending' AND coalesce(enqueued_at, requested_at) <= $1
		ORDER BY coalesce(enqueued_at, requested_at) LIMIT $2`, before, sweepLimit); err != nil {
		return 0, fmt.Errorf("sweep classification runs: %w", err)
	}
	dueA := as[:0]
	for _, a := range as {
		if a.Enqueues >= maxEnqueues {
			slog.ErrorContext(ctx, "credit assessment enqueued too often; look at it", "bank", a.Bank, "id", a.ID)
			continue
		}
		dueA = append(dueA, a)
	}
	dueR := rs[:0]
	for _, r := range rs {
		if r.Enqueues >= maxEnqueues {
			slog.ErrorContext(ctx, "classification run enqueued too often; look at it", "run", r.ID)
			continue
		}
		dueR = append(dueR, r)
	}
	return s.enqueueAssessments(ctx, dueA) + s.enqueueRuns(ctx, dueR), nil
}
