package ledger

import (
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/xbsettle/xbsettle/internal/testenv"
)

func TestPostingsAreImmutable(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := b.account("a", "CNY", Asset)
	l := b.account("l", "CNY", Liability)
	e := b.post(transfer("e", a.ID, l.ID, "1.00"))
	for _, stmt := range []string{
		`UPDATE postings SET amount = 2 WHERE entry_id = $1`,
		`DELETE FROM postings WHERE entry_id = $1`,
		`UPDATE entries SET description = 'edited' WHERE id = $1`,
		`DELETE FROM entries WHERE id = $1`,
	} {
		if _, err := b.db.Exec(stmt, e.ID); err == nil {
			t.Errorf("%s: the database allowed it", stmt)
		}
	}
}

func TestVerifyNamesTheAlteredEntry(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := b.account("a", "CNY", Asset)
	l := b.account("l", "CNY", Liability)
	var posted []Entry
	for _, k := range []string{"e1", "e2", "e3", "e4"} {
		posted = append(posted, b.post(transfer(k, a.ID, l.ID, "1.00")))
	}
	sealUntil(t, b, 4)
	late := b.post(transfer("late", a.ID, l.ID, "1.00"))
	r, err := b.svc.Verify(b.ctx, b.actor.Tenant, 0, 0)
	if err != nil || !r.OK || r.Sealed != 4 || r.Unsealed != 1 {
		t.Fatalf("before tampering: %+v %v, want ok with 4 sealed and 1 unsealed", r, err)
	}
	if sealed, _ := b.svc.Entry(b.ctx, b.actor.Tenant, posted[0].ID); len(sealed.Hash) != 32 {
		t.Fatalf("sealed entry has hash %x", sealed.Hash)
	}

	victim := posted[2]
	tx := testenv.Owner(t, b.db).MustBegin() // only the tables' owner can
	tx.MustExec(`ALTER TABLE postings DISABLE TRIGGER postings_immutable`)
	tx.MustExec(`UPDATE postings SET amount = 1000 WHERE entry_id = $1`, victim.ID)
	tx.MustExec(`ALTER TABLE postings ENABLE TRIGGER postings_immutable`)
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	r, err = b.svc.Verify(b.ctx, b.actor.Tenant, 0, 0)
	if err != nil || r.OK || len(r.Altered) != 1 || r.Altered[0].EntryID != victim.ID || r.Altered[0].Position != 3 {
		t.Fatalf("after tampering with %s: %+v %v", victim.ID, r, err)
	}
	sealUntil(t, b, 5)
	if r, _ := b.svc.Verify(b.ctx, b.actor.Tenant, 0, 0); r.Unsealed != 0 || r.Altered[0].EntryID != victim.ID {
		t.Fatalf("late entry %s not sealed: %+v", late.ID, r)
	}
}

// sealUntil seals until n entries are sealed. Sealing waits for every older
// transaction of the cluster to end, and parallel tests keep some open, so
// one pass may seal nothing yet.
func sealUntil(t *testing.T, b *bundle, n int64) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if err := b.svc.SealAll(b.ctx); err != nil {
			t.Fatal(err)
		}
		var sealed int64
		if err := b.db.Get(&sealed, `SELECT count(*) FROM entry_seals WHERE tenant_id = $1`, b.actor.Tenant); err != nil {
			t.Fatal(err)
		}
		if sealed >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d entries sealed after 10 s", sealed, n)
		}
	}
}

// TestHoldExpiresThroughAsynq runs the real task path: the hold's expiry is
// scheduled on Redis and a worker expires it at its deadline.
func TestHoldExpiresThroughAsynq(t *testing.T) {
	t.Parallel()
	b := setup(t)
	redis := testenv.Redis(t)
	client := asynq.NewClient(redis)
	defer client.Close()
	b.svc = NewService(b.db, NewTaskScheduler(client))
	mux := asynq.NewServeMux()
	RegisterTasks(mux, b.svc)
	srv := asynq.NewServer(redis, asynq.Config{Queues: map[string]int{QueueName: 1}, Concurrency: 2, DelayedTaskCheckInterval: 100 * time.Millisecond, LogLevel: asynq.WarnLevel})
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()

	w := b.account("w", "CNY", Liability, DebitsMustNotExceedCredits)
	src := b.account("src", "CNY", Asset)
	b.post(transfer("fund", src.ID, w.ID, "5.00"))
	at := time.Now().Add(time.Second)
	h, _, err := b.svc.CreateHold(b.ctx, b.actor, transfer("h", w.ID, src.ID, "5.00"), &at)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		got, err := b.svc.Hold(b.ctx, b.actor.Tenant, h.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status == HoldExpired {
			if got.ResolvedAt.Before(at) {
				t.Fatalf("expired at %s, before its deadline %s", got.ResolvedAt, at)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("hold still %s 14 s after its deadline", got.Status)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got := b.balance(w.ID).Available(Liability); !got.Equal(dec("5")) {
		t.Fatalf("available after expiry = %s, want 5.00", got)
	}
}
