package ledger

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/lib/pq"

	"github.com/xbsettle/xbsettle/internal/jobs"
)

// The audit chain. Each tenant's entries are sealed, in order, into a chain
// hash = sha256(prev_hash || canonical(entry)). Sealing runs behind the
// writers (a periodic task) so no writer waits for another's hash.
//
// Order: entries are chained by (txid, seq). The sealer only takes entries
// whose transaction id is below the oldest one still running in this
// database, so every entry it will ever see later has a larger txid: the
// order never changes after the fact, whatever order the writers committed
// in. (Transaction ids are handed out in increasing order, so one assigned
// after the sealer looked is larger than any it saw.)

// SealBlock bounds the entries sealed in one transaction.
const SealBlock = 5000

var genesis = make([]byte, sha256.Size)

// canonical is the byte form of an entry that the chain hashes. Amounts use
// the currency's minor units and metadata its canonical JSON, so the form
// survives a round trip through the database unchanged.
func canonical(e *Entry) []byte {
	type posting struct {
		A uuid.UUID `json:"account_id"`
		D Direction `json:"direction"`
		P Phase     `json:"phase"`
		M string    `json:"amount"`
		C Currency  `json:"currency"`
	}
	ps := make([]posting, len(e.Postings))
	for i, p := range e.Postings {
		ps[i] = posting{p.AccountID, p.Direction, p.Phase, p.Currency.Format(p.Amount), p.Currency}
	}
	b, _ := json.Marshal(struct {
		V           int             `json:"v"`
		ID          uuid.UUID       `json:"id"`
		Tenant      string          `json:"tenant_id"`
		Key         string          `json:"idempotency_key"`
		Kind        EntryKind       `json:"kind"`
		Hold        *uuid.UUID      `json:"hold_id"`
		Reverses    *uuid.UUID      `json:"reverses_entry_id"`
		EffectiveAt string          `json:"effective_at"`
		Description string          `json:"description"`
		Metadata    json.RawMessage `json:"metadata"`
		CreatedBy   string          `json:"created_by"`
		Postings    []posting       `json:"postings"`
	}{1, e.ID, e.TenantID, e.IdempotencyKey, e.Kind, e.HoldID, e.ReversesEntryID,
		e.EffectiveAt.UTC().Format(time.RFC3339Nano), e.Description, canonicalJSON(e.Metadata), e.CreatedBy, ps})
	return b
}

func chainHash(prev []byte, e *Entry) []byte {
	h := sha256.New()
	h.Write(prev)
	h.Write(canonical(e))
	return h.Sum(nil)
}

// horizonSQL is the oldest transaction id still running in this database
// other than the sealer's own, as an xid8 — or the sealer's own id when no
// other is running. Only writers of this database can write entries, so a
// long transaction elsewhere on the server does not hold sealing back.
// pg_stat_activity shows 32-bit ids; age() against the sealer's own id
// (assigned by its first write) turns them into 64-bit ones.
const horizonSQL = `SELECT (pg_current_xact_id()::text::bigint - coalesce(max(age(backend_xid)), 0))::text::xid8
	FROM pg_stat_activity WHERE datname = current_database() AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()`

// SealLag bounds how long after its commit an entry waits to be sealed: the
// sealer runs every few seconds, so an entry older than this and still not
// sealed means sealing is stuck, and Verify is not ok.
const SealLag = time.Minute

// sealTail is the last seal of a tenant's chain as entry_seals holds it,
// with the chain order of its entry.
type sealTail struct {
	Position int64  `db:"position"`
	Hash     []byte `db:"hash"`
	Txid     string `db:"txid"`
	Seq      int64  `db:"seq"`
}

// SealTenant seals up to limit of the tenant's unsealed entries and returns
// how many it sealed.
//
// entry_seals is the truth: the chain continues from its last row, read in
// the same transaction that appends to it, so no head that a crash, a
// restore or an operator left out of step can make it write a position or
// an entry twice. seal_heads is only the per-tenant lock that keeps two
// sealers apart, and the position in chain order from which unsealed
// entries are looked for. Should it disagree with the tail (a crash between
// its writes elsewhere, or an edit), the search starts over from the
// tenant's first entry, and the entries already sealed are passed over.
func (s *Service) SealTenant(ctx context.Context, tenant string, limit int) (int, error) {
	var n int
	err := s.tryTx(ctx, func(tx *txn) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO seal_heads (tenant_id, hash) VALUES ($1, $2) ON CONFLICT DO NOTHING`, tenant, genesis); err != nil {
			return err
		}
		var head sealTail
		if err := tx.GetContext(ctx, &head, `SELECT position, hash, last_txid::text AS txid, last_seq AS seq FROM seal_heads WHERE tenant_id = $1 FOR UPDATE`, tenant); err != nil {
			return err
		}
		tail := sealTail{Hash: genesis, Txid: "0"}
		err := tx.GetContext(ctx, &tail, `SELECT s.position, s.hash, e.txid::text AS txid, e.seq FROM entry_seals s JOIN entries e ON e.id = s.entry_id
			WHERE s.tenant_id = $1 ORDER BY s.position DESC LIMIT 1`, tenant)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("read the chain's last seal: %w", err)
		}
		from := head
		if head.Position != tail.Position || !bytes.Equal(head.Hash, tail.Hash) {
			slog.WarnContext(ctx, "seal head out of step with entry_seals; sealing resumes from the seals", "tenant", tenant,
				"head_position", head.Position, "sealed_position", tail.Position)
			from = sealTail{Txid: "0"}
		}
		// The horizon is read before the statement that finds entries, so
		// that statement's snapshot sees every transaction below it as
		// finished: one that committed in between is either seen or above.
		var horizon string
		if err := tx.GetContext(ctx, &horizon, horizonSQL); err != nil {
			return fmt.Errorf("read the sealing horizon: %w", err)
		}
		var next []struct {
			ID   uuid.UUID `db:"id"`
			Txid string    `db:"txid"`
			Seq  int64     `db:"seq"`
		}
		if err := tx.SelectContext(ctx, &next, `SELECT e.id, e.txid::text, e.seq FROM entries e
			WHERE e.tenant_id = $1 AND (e.txid, e.seq) > ($2::xid8, $3) AND e.txid < $4::xid8
			AND NOT EXISTS (SELECT 1 FROM entry_seals s WHERE s.entry_id = e.id)
			ORDER BY e.txid, e.seq LIMIT $5`, tenant, from.Txid, from.Seq, horizon, limit); err != nil {
			return fmt.Errorf("find unsealed entries: %w", err)
		}
		if len(next) == 0 {
			return syncHead(ctx, tx, tenant, head, tail)
		}
		ids := make([]uuid.UUID, len(next))
		for i, r := range next {
			ids[i] = r.ID
		}
		entries, err := loadEntries(ctx, tx, tenant, ids)
		if err != nil {
			return err
		}
		positions, prevs, hashes := make([]int64, len(entries)), make([][]byte, len(entries)), make([][]byte, len(entries))
		prev := tail.Hash
		for i := range entries {
			positions[i], prevs[i] = tail.Position+int64(i)+1, prev
			prev = chainHash(prev, &entries[i])
			hashes[i] = prev
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO entry_seals (tenant_id, position, entry_id, prev_hash, hash)
			SELECT $1, * FROM unnest($2::bigint[], $3::uuid[], $4::bytea[], $5::bytea[])`,
			tenant, pq.Array(positions), pq.Array(ids), pq.ByteaArray(prevs), pq.ByteaArray(hashes)); err != nil {
			return fmt.Errorf("write seals: %w", err)
		}
		last := next[len(next)-1]
		n = len(entries)
		return syncHead(ctx, tx, tenant, head, sealTail{Position: positions[len(positions)-1], Hash: prev, Txid: last.Txid, Seq: last.Seq})
	})
	if err != nil {
		return 0, fmt.Errorf("seal tenant %s: %w", tenant, err)
	}
	return n, nil
}

// syncHead moves the tenant's seal head to the chain's new tail, if it is
// not there already.
func syncHead(ctx context.Context, tx *txn, tenant string, head, tail sealTail) error {
	if head.Position == tail.Position && bytes.Equal(head.Hash, tail.Hash) && head.Txid == tail.Txid && head.Seq == tail.Seq {
		return nil
	}
	_, err := tx.ExecContext(ctx, `UPDATE seal_heads SET position = $2, hash = $3, last_txid = $4::xid8, last_seq = $5 WHERE tenant_id = $1`,
		tenant, tail.Position, tail.Hash, tail.Txid, tail.Seq)
	if err != nil {
		return fmt.Errorf("move seal head: %w", err)
	}
	return nil
}

// SealAll seals every tenant's unsealed entries. A tenant whose sealing
// fails is skipped and counted (internal/jobs) and the others are sealed;
// the error then names how many failed, so the task is retried.
func (s *Service) SealAll(ctx context.Context) error {
	tenants, err := s.Tenants(ctx)
	if err != nil {
		return err
	}
	failed := 0
	for _, t := range tenants {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err := s.sealBacklog(ctx, t); err != nil {
			jobs.Skip(ctx, jobs.Seal, t, err)
			failed++
		}
	}
	if failed > 0 {
		return fmt.Errorf("seal: %d of %d tenants failed; the others are sealed", failed, len(tenants))
	}
	return nil
}

// sealBacklog seals a tenant's unsealed entries, a block at a time.
func (s *Service) sealBacklog(ctx context.Context, tenant string) error {
	for {
		n, err := s.SealTenant(ctx, tenant, SealBlock)
		if err != nil || n < SealBlock {
			return err
		}
	}
}

// Tenants lists the tenants that have a ledger.
func (s *Service) Tenants(ctx context.Context) ([]string, error) {
	var out []string
	if err := s.db.SelectContext(ctx, &out, `SELECT DISTINCT tenant_id FROM accounts ORDER BY 1`); err != nil {
		return nil, fmt.Errorf("list tenants: %w", err)
	}
	return out, nil
}

// MaxVerifyPage bounds the seals one Verify call checks.
const MaxVerifyPage = SealBlock

// VerifyReport is the outcome of checking one page of a tenant's chain:
// the seals after position After, at most the limit asked for.
type VerifyReport struct {
	Tenant string `json:"tenant_id"`
	// OK: no seal of this page is broken and no entry is overdue.
	OK bool `json:"ok"`
	// After is the position the page started after; NextAfter, when set,
	// is where the next page starts (pass it as after).
	After     int64  `json:"after"`
	NextAfter *int64 `json:"next_after,omitempty"`
	// Sealed is how many seals this page checked.
	Sealed int64 `json:"sealed"`
	// Unsealed counts the tenant's entries not sealed yet, and Overdue those
	// of them committed more than SealLag ago: sealing is stuck on them.
	Unsealed int64     `json:"unsealed"`
	Overdue  int64     `json:"overdue"`
	Altered  []Altered `json:"altered"`
}

// Altered names a sealed entry whose stored form no longer matches its seal.
type Altered struct {
	EntryID  uuid.UUID `json:"entry_id"`
	Position int64     `json:"position"`
	Reason   string    `json:"reason"`
}

type sealRow struct {
	Position int64     `db:"position"`
	EntryID  uuid.UUID `db:"entry_id"`
	PrevHash []byte    `db:"prev_hash"`
	Hash     []byte    `db:"hash"`
}

// Verify recomputes up to limit seals of the tenant's chain after position
// after from the entries as stored now, and names every entry that was
// altered; it counts the entries that await sealing and those overdue.
// Walk the whole chain by passing NextAfter back until it is nil. It stops
// with ctx's error when ctx ends.
func (s *Service) Verify(ctx context.Context, tenant string, after int64, limit int) (VerifyReport, error) {
	if limit <= 0 || limit > MaxVerifyPage {
		limit = MaxVerifyPage
	}
	r := VerifyReport{Tenant: tenant, After: after, Altered: []Altered{}}
	prev := genesis
	if after > 0 {
		if err := s.db.GetContext(ctx, &prev, `SELECT hash FROM entry_seals WHERE tenant_id = $1 AND position = $2`, tenant, after); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return r, ErrBadCursor.With("position %d is not in the chain", after)
			}
			return r, fmt.Errorf("read seal %d: %w", after, err)
		}
	}
	var seals []sealRow
	if err := s.db.SelectContext(ctx, &seals, `SELECT position, entry_id, prev_hash, hash FROM entry_seals
		WHERE tenant_id = $1 AND position > $2 ORDER BY position LIMIT $3`, tenant, after, limit+1); err != nil {
		return r, fmt.Errorf("read seals: %w", err)
	}
	if len(seals) > limit {
		seals = seals[:limit]
		last := seals[limit-1].Position
		r.NextAfter = &last
	}
	if err := s.checkSeals(ctx, tenant, after, prev, seals, &r); err != nil {
		return r, err
	}
	var waiting struct {
		Unsealed int64 `db:"unsealed"`
		Overdue  int64 `db:"overdue"`
	}
	if err := s.db.GetContext(ctx, &waiting, `SELECT count(*) AS unsealed, count(*) FILTER (WHERE e.created_at < $2) AS overdue FROM entries e
		WHERE e.tenant_id = $1 AND NOT EXISTS (SELECT 1 FROM entry_seals s WHERE s.entry_id = e.id)`, tenant, s.clock().Add(-SealLag)); err != nil {
		return r, fmt.Errorf("count unsealed: %w", err)
	}
	r.Unsealed, r.Overdue = waiting.Unsealed, waiting.Overdue
	r.OK = len(r.Altered) == 0 && r.Overdue == 0
	return r, nil
}

// checkSeals checks a run of seals that follows position pos, whose hash
// is prev, and adds them and what it finds altered to r.
func (s *Service) checkSeals(ctx context.Context, tenant string, pos int64, prev []byte, seals []sealRow, r *VerifyReport) error {
	ids := make([]uuid.UUID, len(seals))
	for i, sr := range seals {
		ids[i] = sr.EntryID
	}
	entries, err := loadEntries(ctx, s.db, tenant, ids)
	if err != nil {
		return err
	}
	byID := make(map[uuid.UUID]*Entry, len(entries))
	for i := range entries {
		byID[entries[i].ID] = &entries[i]
	}
	for _, sr := range seals {
		r.Sealed++
		e := byID[sr.EntryID]
		switch {
		case e == nil:
			r.Altered = append(r.Altered, Altered{sr.EntryID, sr.Position, "sealed entry is missing"})
		case !bytes.Equal(sr.PrevHash, prev) || sr.Position != pos+1:
			r.Altered = append(r.Altered, Altered{sr.EntryID, sr.Position, "chain link broken: a seal was altered, removed or reordered"})
		case !bytes.Equal(chainHash(sr.PrevHash, e), sr.Hash):
			r.Altered = append(r.Altered, Altered{sr.EntryID, sr.Position, "entry or its postings changed after sealing"})
		}
		prev, pos = sr.Hash, sr.Position
	}
	return ctx.Err()
}
