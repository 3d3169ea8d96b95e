// Package outbox hands the rows of an outbox table to a task queue and
// gives up on the rows whose task keeps getting lost or failing.
//
// PostgreSQL is the source of truth and Redis only carries work, so work is
// stored first as a row (its outbox row) and then enqueued; a sweeper
// enqueues again the rows whose task Redis lost. Each row counts its
// enqueues, and that count is its generation: the task id names it, so an
// enqueue of the current generation is deduplicated while its task exists,
// and the next generation replaces a lost one. The domain packages keep
// their tables, SQL and log lines; this package keeps the loop around them.
//
//	t := outbox.Table[job]{EnqueueRow: enqueueJob, Record: recordJobEnqueues, ...}
//	n := t.Enqueue(ctx, t.Due(ctx, staleRows))
package outbox

import (
	"context"
	"fmt"
	"time"
)

// Bounds of every outbox.
const (
	// SweepLimit bounds the rows of one table a sweep enqueues again, so a
	// sweep after a long Redis outage is a batch, not the whole backlog.
	SweepLimit = 500
	// MaxEnqueues bounds the enqueues of one row: a task lost or failed that
	// often has something wrong that another retry does not fix, so the
	// sweeper leaves the row alone and says so.
	MaxEnqueues = 50
)

// Patience is how long a sweep waits for a row's task before it presumes
// the task lost and enqueues the next generation: First after the row's
// creation or first enqueue, doubled with every further enqueue, at most
// Max. A short First finds what Redis or a killed process lost within
// seconds; the doubling keeps a row whose task keeps failing (the database
// away for an hour, say) from burning its MaxEnqueues in minutes. Taking
// over a task that is only slow is harmless: the domain's handlers are
// idempotent and safe to run concurrently with themselves.
type Patience struct {
	First, Max time.Duration
}

// DefaultPatience is every outbox's unless a test says otherwise: 10 s,
// 20 s, 40 s … then every 10 min, so MaxEnqueues is reached after about
// seven hours of failing tasks.
var DefaultPatience = Patience{First: 10 * time.Second, Max: 10 * time.Minute}

// For is the patience with a row enqueued gen times.
func (p Patience) For(gen int) time.Duration {
	d := p.First
	for range min(max(gen-1, 0), 30) {
		if d >= p.Max {
			break
		}
		d *= 2
	}
	return min(d, p.Max)
}

// StaleSQL is the condition, for a sweep's WHERE, that a row's task is
// presumed lost: the SQL expression since (its last enqueue, or its
// creation) is older than p.For(gen), gen being the SQL expression of its
// count of enqueues, as of the timestamptz parameter $now. It is For in
// SQL, so that the database picks the due rows and LIMIT takes only those.
func (p Patience) StaleSQL(since, gen string, now int) string {
	return fmt.Sprintf("%s <= $%d::timestamptz - least(%d * power(2, least(greatest(%s - 1, 0), 30)), %d) * interval '1 microsecond'",
		since, now, p.First.Microseconds(), gen, p.Max.Microseconds())
}

// Row is one row of an outbox table.
type Row interface {
	// Generation is how many times the row's task has been enqueued. The
	// task is enqueued under it, and recording the enqueue moves the count
	// on only from it.
	Generation() int
}

// Table is one outbox table, described by the package that owns it.
// Every field but EnqueueRow is required.
type Table[R Row] struct {
	// EnqueueRow hands one row's task to the queue, named by its generation.
	// Nil means there is no queue (a service configured without one): rows
	// then wait for a direct call or a sweeper that has one.
	EnqueueRow func(ctx context.Context, r R) error
	// Record counts one enqueue of each row, in one statement, only where
	// the stored count still equals the row's generation: a racing sweeper
	// that enqueued the same generation then changes nothing more.
	Record func(ctx context.Context, rows []R) error
	// EnqueueFailed logs a failed enqueue. It is not an error to the
	// caller: the row stays in the outbox and the sweeper comes back to it.
	EnqueueFailed func(ctx context.Context, r R, err error)
	// RecordFailed logs a failed Record of n rows. Their tasks are on the
	// queue all the same; the sweeper enqueues them again under the same
	// generation, which the queue deduplicates while the task exists.
	RecordFailed func(ctx context.Context, n int, err error)
	// GaveUp logs a row enqueued MaxEnqueues times, which Due drops.
	GaveUp func(ctx context.Context, r R)
}

// Enqueue hands rows to the queue and records, in one Record call, the
// enqueues that succeeded. It returns how many succeeded. Failures are
// logged only, since the rows stay in the outbox for the sweeper.
func (t Table[R]) Enqueue(ctx context.Context, rows []R) int {
	if t.EnqueueRow == nil || len(rows) == 0 {
		return 0
	}
	var enqueued []R
	for _, r := range rows {
		if err := t.EnqueueRow(ctx, r); err != nil {
			t.EnqueueFailed(ctx, r, err)
			continue
		}
		enqueued = append(enqueued, r)
	}
	if len(enqueued) == 0 {
		return 0
	}
	if err := t.Record(ctx, enqueued); err != nil {
		t.RecordFailed(ctx, len(enqueued), err)
	}
	return len(enqueued)
}

// Due returns the rows of a sweep that may be enqueued again: those
// enqueued fewer than MaxEnqueues times. The others are logged through
// GaveUp and dropped. It filters rows in place.
func (t Table[R]) Due(ctx context.Context, rows []R) []R {
	due := rows[:0]
	for _, r := range rows {
		if r.Generation() >= MaxEnqueues {
			t.GaveUp(ctx, r)
			continue
		}
		due = append(due, r)
	}
	return due
}
