package ledger

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/xbsettle/xbsettle/internal/jobs"
	"github.com/xbsettle/xbsettle/internal/testenv"
)

// TestSweeperSkipsAHoldThatCannotExpire: a hold whose expiry key was taken
// (by a client, before such keys were reserved) fails on every sweep; the
// sweep counts it and still expires the other holds, of its own tenant and
// of another.
func TestSweeperSkipsAHoldThatCannotExpire(t *testing.T) {
	t.Parallel()
	b := setup(t)
	other := &bundle{t: t, ctx: b.ctx, db: b.db, svc: b.svc, actor: Actor{Tenant: "T" + uuid.NewString()[:8], By: "test"}}
	type held struct {
		b  *bundle
		id uuid.UUID
	}
	var holds []held
	past := time.Now().Add(-time.Hour) // ExpireDue looks at the deadline only
	for i, bb := range []*bundle{b, b, other} {
		w := bb.account(fmt.Sprintf("w%d", i), "CNY", Liability, DebitsMustNotExceedCredits)
		src := bb.account(fmt.Sprintf("src%d", i), "CNY", Asset)
		bb.post(transfer("fund"+uuid.NewString(), src.ID, w.ID, "5.00"))
		at := past.Add(time.Duration(i) * time.Minute) // the blocked hold is due first
		h, _, err := bb.svc.CreateHold(bb.ctx, bb.actor, transfer("h"+uuid.NewString(), w.ID, src.ID, "5.00"), &at)
		if err != nil {
			t.Fatal(err)
		}
		holds = append(holds, held{bb, h.ID})
	}
	blocked := holds[0]
	a := b.account("squat", "CNY", Asset)
	l := b.account("squat-l", "CNY", Liability)
	b.post(transfer(ServiceKey(KeysHoldExpire, blocked.id.String()), a.ID, l.ID, "1.00"))

	before := jobs.Failures(jobs.HoldExpiry)
	looked, failed, err := b.svc.ExpireDue(b.ctx, 100)
	if err != nil || looked != 3 || failed != 1 {
		t.Fatalf("ExpireDue = %d looked, %d failed, %v; want 3, 1, nil", looked, failed, err)
	}
	if got := jobs.Failures(jobs.HoldExpiry) - before; got < 1 {
		t.Fatalf("failure counter moved by %v, want at least 1", got)
	}
	for i, h := range holds {
		got, err := h.b.svc.Hold(h.b.ctx, h.b.actor.Tenant, h.id)
		if err != nil {
			t.Fatal(err)
		}
		want := HoldExpired
		if i == 0 {
			want = HoldPending
		}
		if got.Status != want {
			t.Errorf("hold %d of tenant %s: %s, want %s", i, h.b.actor.Tenant, got.Status, want)
		}
	}
}

// TestSealerSkipsAFailingTenant: a tenant whose seals cannot be written
// does not keep the next tenant's entries from being sealed, and is counted.
func TestSealerSkipsAFailingTenant(t *testing.T) {
	t.Parallel()
	b := setup(t)
	failing := &bundle{t: t, ctx: b.ctx, db: b.db, svc: b.svc, actor: Actor{Tenant: "A-failing", By: "test"}}
	b.actor.Tenant = "B-healthy" // listed after the failing one
	for _, bb := range []*bundle{failing, b} {
		a := bb.account("a", "CNY", Asset)
		l := bb.account("l", "CNY", Liability)
		bb.post(transfer("e1", a.ID, l.ID, "1.00"))
		bb.post(transfer("e2", a.ID, l.ID, "1.00"))
	}
	owner := testenv.Owner(t, b.db) // the app role may create nothing
	owner.MustExec(`CREATE FUNCTION test_refuse_seal() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN IF NEW.tenant_id = 'A-failing' THEN RAISE EXCEPTION 'injected seal failure'; END IF; RETURN NEW; END $$`)
	owner.MustExec(`CREATE TRIGGER test_refuse_seal BEFORE INSERT ON entry_seals FOR EACH ROW EXECUTE FUNCTION test_refuse_seal()`)

	before := jobs.Failures(jobs.Seal)
	for deadline := time.Now().Add(10 * time.Second); b.sealed() < 2; time.Sleep(20 * time.Millisecond) {
		err := b.svc.SealAll(b.ctx)
		if err == nil || !strings.Contains(err.Error(), "1 of 2 tenants failed") {
			t.Fatalf("SealAll = %v, want the failing tenant reported", err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of the healthy tenant's 2 entries sealed after 10 s", b.sealed())
		}
	}
	if got := jobs.Failures(jobs.Seal) - before; got < 1 {
		t.Fatalf("failure counter moved by %v, want at least 1", got)
	}
	if n := failing.sealed(); n != 0 {
		t.Fatalf("the failing tenant has %d seals", n)
	}
}

func (b *bundle) sealed() int64 {
	b.t.Helper()
	var n int64
	if err := b.db.Get(&n, `SELECT count(*) FROM entry_seals WHERE tenant_id = $1`, b.actor.Tenant); err != nil {
		b.t.Fatal(err)
	}
	return n
}

// TestSealingRecoversFromAHeadOutOfStep: seal_heads left behind
// entry_seals (reset, or removed, as a crash or restore between the two
// might leave them) made every later run fail on a duplicate seal. The next
// run continues from entry_seals instead, and the chain verifies.
func TestSealingRecoversFromAHeadOutOfStep(t *testing.T) {
	t.Parallel()
	for name, damage := range map[string]string{
		"head behind":  `UPDATE seal_heads SET position = 1, last_txid = '0', last_seq = 0 WHERE tenant_id = $1`,
		"head missing": `DELETE FROM seal_heads WHERE tenant_id = $1`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			a := b.account("a", "CNY", Asset)
			l := b.account("l", "CNY", Liability)
			for _, k := range []string{"e1", "e2", "e3"} {
				b.post(transfer(k, a.ID, l.ID, "1.00"))
			}
			sealUntil(t, b, 3)
			b.db.MustExec(damage, b.actor.Tenant)
			b.post(transfer("e4", a.ID, l.ID, "1.00"))
			sealUntil(t, b, 4)
			r, err := b.svc.Verify(b.ctx, b.actor.Tenant, 0, 0)
			if err != nil || !r.OK || r.Sealed != 4 || r.Unsealed != 0 || len(r.Altered) != 0 {
				t.Fatalf("after recovery: %+v %v, want ok with 4 sealed", r, err)
			}
		})
	}
}

// TestVerifyIsNotOKWithEntriesOverdue: entries committed longer than
// SealLag ago and still unsealed make the chain not ok; sealing them makes
// it ok again.
func TestVerifyIsNotOKWithEntriesOverdue(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := b.account("a", "CNY", Asset)
	l := b.account("l", "CNY", Liability)
	b.post(transfer("e1", a.ID, l.ID, "1.00"))
	b.post(transfer("e2", a.ID, l.ID, "1.00"))
	if r, err := b.svc.Verify(b.ctx, b.actor.Tenant, 0, 0); err != nil || !r.OK || r.Unsealed != 2 || r.Overdue != 0 {
		t.Fatalf("fresh: %+v %v, want ok with 2 unsealed, none overdue", r, err)
	}
	later := time.Now().Add(SealLag + time.Minute)
	b.svc.now = func() time.Time { return later }
	if r, err := b.svc.Verify(b.ctx, b.actor.Tenant, 0, 0); err != nil || r.OK || r.Overdue != 2 {
		t.Fatalf("a lag later: %+v %v, want not ok with 2 overdue", r, err)
	}
	sealUntil(t, b, 2)
	if r, err := b.svc.Verify(b.ctx, b.actor.Tenant, 0, 0); err != nil || !r.OK || r.Overdue != 0 {
		t.Fatalf("sealed: %+v %v, want ok", r, err)
	}
}

// TestVerifyPages: a page checks at most its limit, names where the next
// starts, and the pages together check the whole chain; a tampered entry
// is reported by the page that holds it.
func TestVerifyPages(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := b.account("a", "CNY", Asset)
	l := b.account("l", "CNY", Liability)
	var posted []Entry
	for _, k := range []string{"e1", "e2", "e3", "e4", "e5"} {
		posted = append(posted, b.post(transfer(k, a.ID, l.ID, "1.00")))
	}
	sealUntil(t, b, 5)
	owner := testenv.Owner(t, b.db) // only the tables' owner can
	owner.MustExec(`ALTER TABLE postings DISABLE TRIGGER postings_immutable`)
	owner.MustExec(`UPDATE postings SET amount = 7 WHERE entry_id = $1`, posted[3].ID)
	owner.MustExec(`ALTER TABLE postings ENABLE TRIGGER postings_immutable`)
	var sealed int64
	var pages []bool
	for after := int64(0); ; {
		r, err := b.svc.Verify(b.ctx, b.actor.Tenant, after, 2)
		if err != nil || r.Sealed > 2 {
			t.Fatalf("page after %d: %+v %v", after, r, err)
		}
		sealed += r.Sealed
		pages = append(pages, r.OK)
		if r.NextAfter == nil {
			break
		}
		after = *r.NextAfter
	}
	if sealed != 5 || len(pages) != 3 || !pages[0] || pages[1] || !pages[2] {
		t.Fatalf("pages ok %v over %d seals, want [true false true] over 5", pages, sealed)
	}
	if _, err := b.svc.Verify(b.ctx, b.actor.Tenant, 99, 2); err == nil {
		t.Fatal("a position past the chain was accepted as a page start")
	}
}
