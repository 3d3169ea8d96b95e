package outbox_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/xbsettle/xbsettle/internal/outbox"
	"github.com/xbsettle/xbsettle/internal/testenv"
)

// job is a row of the test's outbox table.
type job struct {
	ID       int64 `db:"id"`
	Enqueues int   `db:"enqueues"`
}

func (j job) Generation() int { return j.Enqueues }

// bundle is an outbox table in a fresh database, a queue that refuses the
// ids in fail, and what the table logged.
type bundle struct {
	t        *testing.T
	ctx      context.Context
	db       *sqlx.DB
	owner    *sqlx.DB // the same database as its owner, which creates the test table
	table    outbox.Table[job]
	fail     map[int64]bool
	sent     []job // what the queue took, in order
	failed   []job // EnqueueFailed
	recorded []int // RecordFailed's counts
	gaveUp   []job
}

func setup(t *testing.T) *bundle {
	t.Helper()
	b := &bundle{t: t, ctx: context.Background(), db: testenv.NewDB(t, 2), fail: map[int64]bool{}}
	b.owner = testenv.Owner(t, b.db)
	if _, err := b.owner.Exec(`CREATE TABLE test_jobs (id bigint PRIMARY KEY, enqueues int NOT NULL DEFAULT 0);
		GRANT SELECT, INSERT, UPDATE, DELETE ON test_jobs TO ` + testenv.AppRole); err != nil {
		t.Fatal(err)
	}
	b.table = outbox.Table[job]{
		EnqueueRow: func(_ context.Context, j job) error {
			if b.fail[j.ID] {
				return errors.New("queue down")
			}
			b.sent = append(b.sent, j)
			return nil
		},
		Record: func(ctx context.Context, js []job) error {
			ids, gens := make([]int64, len(js)), make([]int64, len(js))
			for i, j := range js {
				ids[i], gens[i] = j.ID, int64(j.Enqueues)
			}
			_, err := b.db.ExecContext(ctx, `UPDATE test_jobs t SET enqueues = t.enqueues + 1
				FROM unnest($1::bigint[], $2::int[]) AS u(id, gen) WHERE t.id = u.id AND t.enqueues = u.gen`,
				pq.Array(ids), pq.Array(gens))
			return err
		},
		EnqueueFailed: func(_ context.Context, j job, _ error) { b.failed = append(b.failed, j) },
		RecordFailed:  func(_ context.Context, n int, _ error) { b.recorded = append(b.recorded, n) },
		GaveUp:        func(_ context.Context, j job) { b.gaveUp = append(b.gaveUp, j) },
	}
	return b
}

// store inserts jobs with their enqueue counts and returns them as read back.
func (b *bundle) store(enqueues ...int) []job {
	b.t.Helper()
	for i, n := range enqueues {
		if _, err := b.db.Exec(`INSERT INTO test_jobs (id, enqueues) VALUES ($1, $2)`, i+1, n); err != nil {
			b.t.Fatal(err)
		}
	}
	return b.rows()
}

func (b *bundle) rows() []job {
	b.t.Helper()
	var js []job
	if err := b.db.Select(&js, `SELECT id, enqueues FROM test_jobs ORDER BY id`); err != nil {
		b.t.Fatal(err)
	}
	return js
}

func ids(js []job) []int64 {
	out := make([]int64, len(js))
	for i, j := range js {
		out[i] = j.ID
	}
	return out
}

// TestEnqueueRecordsOnlyWhatTheQueueTook: a job the queue refuses is
// logged and keeps its count, so the sweeper finds it at the same
// generation; the others move on by one, in one Record call.
func TestEnqueueRecordsOnlyWhatTheQueueTook(t *testing.T) {
	t.Parallel()
	b := setup(t)
	js := b.store(0, 3, 0)
	b.fail[2] = true
	if n := b.table.Enqueue(b.ctx, js); n != 2 {
		t.Fatalf("Enqueue = %d, want 2", n)
	}
	if got := ids(b.sent); !slices.Equal(got, []int64{1, 3}) {
		t.Fatalf("queue took %v, want [1 3]", got)
	}
	if got := ids(b.failed); !slices.Equal(got, []int64{2}) {
		t.Fatalf("logged failures %v, want [2]", got)
	}
	if got := b.rows(); !slices.Equal(got, []job{{1, 1}, {2, 3}, {3, 1}}) {
		t.Fatalf("stored %v, want job 2 still at 3", got)
	}
	if len(b.recorded) != 0 {
		t.Fatalf("record failures logged: %v", b.recorded)
	}
}

// TestEnqueueWithEveryEnqueueFailedRecordsNothing: nothing taken, nothing
// recorded, nothing counted.
func TestEnqueueWithEveryEnqueueFailedRecordsNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	js := b.store(0, 0)
	b.fail[1], b.fail[2] = true, true
	b.table.Record = func(context.Context, []job) error {
		t.Fatal("Record called with nothing enqueued")
		return nil
	}
	if n := b.table.Enqueue(b.ctx, js); n != 0 || len(b.failed) != 2 {
		t.Fatalf("Enqueue = %d with %d failures logged, want 0 and 2", n, len(b.failed))
	}
}

// TestEnqueueCountsTasksEvenWhenRecordFails: the tasks are on the queue
// whether or not their count was stored, so they count, and the failure is
// logged once for the batch.
func TestEnqueueCountsTasksEvenWhenRecordFails(t *testing.T) {
	t.Parallel()
	b := setup(t)
	js := b.store(0, 0, 0)
	if _, err := b.owner.Exec(`DROP TABLE test_jobs`); err != nil {
		t.Fatal(err)
	}
	if n := b.table.Enqueue(b.ctx, js); n != 3 {
		t.Fatalf("Enqueue = %d, want 3", n)
	}
	if !slices.Equal(b.recorded, []int{3}) {
		t.Fatalf("record failures logged %v, want one of 3", b.recorded)
	}
}

// TestEnqueueWithoutQueue: a table with no EnqueueRow leaves every row for
// later and records nothing.
func TestEnqueueWithoutQueue(t *testing.T) {
	t.Parallel()
	b := setup(t)
	js := b.store(0)
	b.table.EnqueueRow = nil
	if n := b.table.Enqueue(b.ctx, js); n != 0 {
		t.Fatalf("Enqueue = %d, want 0", n)
	}
	if got := b.rows(); !slices.Equal(got, []job{{1, 0}}) {
		t.Fatalf("stored %v, want the count unchanged", got)
	}
}

// TestDueGivesUpAtMaxEnqueues: rows enqueued MaxEnqueues times or more
// are logged and left out; the rest keep their order.
func TestDueGivesUpAtMaxEnqueues(t *testing.T) {
	t.Parallel()
	b := setup(t)
	js := b.store(0, outbox.MaxEnqueues, outbox.MaxEnqueues-1, outbox.MaxEnqueues+1, 7)
	due := b.table.Due(b.ctx, js)
	if got := ids(due); !slices.Equal(got, []int64{1, 3, 5}) {
		t.Fatalf("due %v, want [1 3 5]", got)
	}
	if got := ids(b.gaveUp); !slices.Equal(got, []int64{2, 4}) {
		t.Fatalf("gave up on %v, want [2 4]", got)
	}
	if n := b.table.Enqueue(b.ctx, due); n != 3 {
		t.Fatalf("Enqueue = %d, want 3", n)
	}
	if got := b.rows(); !slices.Equal(got, []job{{1, 1}, {2, outbox.MaxEnqueues}, {3, outbox.MaxEnqueues},
		{4, outbox.MaxEnqueues + 1}, {5, 8}}) {
		t.Fatalf("stored %v", got)
	}
}

// TestPatienceDoublesPerEnqueue: the first patience for a row never or
// once enqueued, doubled with every further enqueue up to Max; and the
// sweep's SQL condition picks exactly the rows For says are due.
func TestPatienceDoublesPerEnqueue(t *testing.T) {
	t.Parallel()
	p := outbox.Patience{First: 10 * time.Second, Max: 100 * time.Second}
	for gen, want := range []time.Duration{10, 10, 20, 40, 80, 100, 100} {
		if got := p.For(gen); got != want*time.Second {
			t.Errorf("For(%d) = %s, want %s", gen, got, want*time.Second)
		}
	}
	if got := p.For(1000); got != p.Max {
		t.Errorf("For(1000) = %s, want Max", got)
	}
	b := setup(t)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	if _, err := b.owner.Exec(`ALTER TABLE test_jobs ADD COLUMN enqueued_at timestamptz NOT NULL`); err != nil {
		t.Fatal(err)
	}
	var want []int64
	id := int64(0)
	for gen := range 8 {
		for _, ago := range []time.Duration{p.For(gen) - time.Millisecond, p.For(gen), p.For(gen) + time.Second} {
			id++
			if _, err := b.db.Exec(`INSERT INTO test_jobs (id, enqueues, enqueued_at) VALUES ($1, $2, $3)`, id, gen, now.Add(-ago)); err != nil {
				t.Fatal(err)
			}
			if ago >= p.For(gen) {
				want = append(want, id)
			}
		}
	}
	var got []int64
	if err := b.db.Select(&got, `SELECT id FROM test_jobs WHERE `+p.StaleSQL("enqueued_at", "enqueues", 1)+` ORDER BY id`, now); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("due %v, want %v", got, want)
	}
}
