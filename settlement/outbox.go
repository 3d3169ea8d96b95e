package settlement

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/google/uuid"
	"github.com/lib/pq"

	"github.com/xbsettle/xbsettle/internal/outbox"
)

// outboxRow is an instruction whose work may not be done.
type outboxRow struct {
	TenantID      string    `db:"tenant_id"`
	InstructionID uuid.UUID `db:"instruction_id"`
	Enqueues      int       `db:"enqueues"`
}

// Generation is the instruction's count of enqueues, which its task id
// names.
func (r outboxRow) Generation() int { return r.Enqueues }

// instructionOutbox hands instructions to the enqueuer through
// settlement_outbox. A failed enqueue is only logged: the row stays in the
// outbox and the sweeper comes back to it.
func (s *Service) instructionOutbox() outbox.Table[outboxRow] {
	t := outbox.Table[outboxRow]{
		Record: s.recordEnqueues,
		EnqueueFailed: func(ctx context.Context, r outboxRow, err error) {
			slog.WarnContext(ctx, "enqueue settlement instruction; the outbox sweeper will retry", "tenant", r.TenantID,
				"instruction", r.InstructionID, "err", err)
		},
		RecordFailed: func(ctx context.Context, n int, err error) {
			slog.WarnContext(ctx, "record enqueues", "instructions", n, "err", err)
		},
		GaveUp: func(ctx context.Context, r outboxRow) {
			slog.ErrorContext(ctx, "settlement instruction enqueued too often; look at its items", "tenant", r.TenantID,
				"instruction", r.InstructionID, "enqueues", r.Enqueues)
		},
	}
	if s.enqueuer != nil {
		t.EnqueueRow = func(ctx context.Context, r outboxRow) error {
			return s.enqueuer.EnqueueInstruction(ctx, r.TenantID, r.InstructionID, r.Enqueues)
		}
	}
	return t
}

// recordEnqueues counts one enqueue of each instruction. Only the enqueue
// that was current moves the count on: a racing sweeper that enqueued the
// same generation changes nothing more.
func (s *Service) recordEnqueues(ctx context.Context, rows []outboxRow) error {
	tenants, ids, gens := make([]string, len(rows)), make([]uuid.UUID, len(rows)), make([]int64, len(rows))
	for i, r := range rows {
		tenants[i], ids[i], gens[i] = r.TenantID, r.InstructionID, int64(r.Enqueues)
	}
	_, err := s.db.ExecContext(ctx, `UPDATE settlement_outbox o SET enqueued_at = $4, enqueues = o.enqueues + 1
		FROM unnest($1::text[], $2::uuid[], $3::int[]) AS u(tenant, id, gen)
		WHERE o.tenant_id = u.tenant AND o.instruction_id = u.id AND o.enqueues = u.gen`,
		pq.Array(tenants), pq.Array(ids), pq.Array(gens), s.clock())
	return err
}

// SweepOutbox enqueues again the instructions not done whose last enqueue
// (or creation, if never enqueued) is older than the service's patience
// (outbox.DefaultPatience, or WithStaleOutbox): their task was lost with
// Redis or a killed worker, or keeps failing. outbox.SweepLimit bounds
// the instructions of one sweep. It
// returns how many it enqueued. An instruction enqueued outbox.MaxEnqueues
// times is left alone and logged: something a retry does not fix is wrong
// with it.
func (s *Service) SweepOutbox(ctx context.Context) (int, error) {
	var rows []outboxRow
	// Across tenants on purpose: one sweeper serves them all, through the
	// partial index of unfinished rows.
	if err := s.db.SelectContext(ctx, &rows, `SELECT tenant_id, instruction_id, enqueues FROM settlement_outbox
		WHERE done_at IS NULL AND `+s.patience.StaleSQL("coalesce(enqueued_at, created_at)", "enqueues", 1)+`
		ORDER BY coalesce(enqueued_at, created_at) LIMIT $2`, s.clock(), outbox.SweepLimit); err != nil {
		return 0, fmt.Errorf("sweep settlement outbox: %w", err)
	}
	t := s.instructionOutbox()
	return t.Enqueue(ctx, t.Due(ctx, rows)), nil
}

// finish takes an instruction out of the outbox once every item is at
// rest: batched (the cut-off takes it from there), rejected or held.
func (s *Service) finish(ctx context.Context, tenant string, id uuid.UUID) error {
	_, err := s.db.ExecContext(ctx, `UPDATE settlement_outbox SET done_at = $3
		WHERE tenant_id = $1 AND instruction_id = $2 AND done_at IS NULL
		AND NOT EXISTS (SELECT 1 FROM settlement_items WHERE tenant_id = $1 AND instruction_id = $2
			AND status IN ('accepted', 'verified', 'posted'))`, tenant, id, s.clock())
	if err != nil {
		return fmt.Errorf("finish instruction %s: %w", id, err)
	}
	return nil
}
