package ledger

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/lib/pq"
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

type sealHead struct {
	Position int64  `db:"position"`
	Hash     []byte `db:"hash"`
	LastTxid string `db:"last_txid"`
	LastSeq  int64  `db:"last_seq"`
}

// SealTenant seals up to limit of the tenant's unsealed entries and returns
// how many it sealed.
func (s *Service) SealTenant(ctx context.Context, tenant string, limit int) (int, error) {
	var n int
	err := s.tryTx(ctx, func(tx *txn) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO seal_heads (tenant_id, hash) VALUES ($1, $2) ON CONFLICT DO NOTHING`, tenant, genesis); err != nil {
			return err
		}
		var head sealHead
		if err := tx.GetContext(ctx, &head, `SELECT position, hash, last_txid::text, last_seq FROM seal_heads WHERE tenant_id = $1 FOR UPDATE`, tenant); err != nil {
			return err
		}
		var next []struct {
			ID   uuid.UUID `db:"id"`
			Txid string    `db:"txid"`
			Seq  int64     `db:"seq"`
		}
		if err := tx.SelectContext(ctx, &next, `SELECT id, txid::text, seq FROM entries
			WHERE tenant_id = $1 AND (txid, seq) > ($2::xid8, $3) AND txid < (`+horizonSQL+`)
			ORDER BY txid, seq LIMIT $4`, tenant, head.LastTxid, head.LastSeq, limit); err != nil {
			return fmt.Errorf("find unsealed entries: %w", err)
		}
		if len(next) == 0 {
			return nil
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
		prev := head.Hash
		for i := range entries {
			positions[i], prevs[i] = head.Position+int64(i)+1, prev
			prev = chainHash(prev, &entries[i])
			hashes[i] = prev
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO entry_seals (tenant_id, position, entry_id, prev_hash, hash)
			SELECT $1, * FROM unnest($2::bigint[], $3::uuid[], $4::bytea[], $5::bytea[])`,
			tenant, pq.Array(positions), pq.Array(ids), pq.ByteaArray(prevs), pq.ByteaArray(hashes)); err != nil {
			return fmt.Errorf("write seals: %w", err)
		}
		last := next[len(next)-1]
		_, err = tx.ExecContext(ctx, `UPDATE seal_heads SET position = $2, hash = $3, last_txid = $4::xid8, last_seq = $5 WHERE tenant_id = $1`,
			tenant, positions[len(positions)-1], prev, last.Txid, last.Seq)
		n = len(entries)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("seal tenant %s: %w", tenant, err)
	}
	return n, nil
}

// SealAll seals every tenant's unsealed entries.
func (s *Service) SealAll(ctx context.Context) error {
	tenants, err := s.Tenants(ctx)
	if err != nil {
		return err
	}
	for _, t := range tenants {
		for {
			n, err := s.SealTenant(ctx, t, SealBlock)
			if err != nil {
				return err
			}
			if n < SealBlock {
				break
			}
		}
	}
	return nil
}

// Tenants lists the tenants that have a ledger.
func (s *Service) Tenants(ctx context.Context) ([]string, error) {
	var out []string
	if err := s.db.SelectContext(ctx, &out, `SELECT DISTINCT tenant_id FROM accounts ORDER BY 1`); err != nil {
		return nil, fmt.Errorf("list tenants: %w", err)
	}
	return out, nil
}

// VerifyReport is the outcome of checking a tenant's chain.
type VerifyReport struct {
	Tenant   string    `json:"tenant_id"`
	OK       bool      `json:"ok"`
	Sealed   int64     `json:"sealed"`
	Unsealed int64     `json:"unsealed"`
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

// Verify recomputes the tenant's whole chain from the entries as stored now
// and names every entry that was altered, plus how many await sealing.
func (s *Service) Verify(ctx context.Context, tenant string) (VerifyReport, error) {
	r := VerifyReport{Tenant: tenant, Altered: []Altered{}}
	prev := genesis
	for pos := int64(0); ; {
		var seals []sealRow
		if err := s.db.SelectContext(ctx, &seals, `SELECT position, entry_id, prev_hash, hash FROM entry_seals
			WHERE tenant_id = $1 AND position > $2 ORDER BY position LIMIT $3`, tenant, pos, SealBlock); err != nil {
			return r, fmt.Errorf("read seals: %w", err)
		}
		if len(seals) == 0 {
			break
		}
		ids := make([]uuid.UUID, len(seals))
		for i, sr := range seals {
			ids[i] = sr.EntryID
		}
		entries, err := loadEntries(ctx, s.db, tenant, ids)
		if err != nil {
			return r, err
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
	}
	if err := s.db.GetContext(ctx, &r.Unsealed, `SELECT count(*) FROM entries e
		WHERE e.tenant_id = $1 AND NOT EXISTS (SELECT 1 FROM entry_seals s WHERE s.entry_id = e.id)`, tenant); err != nil {
		return r, fmt.Errorf("count unsealed: %w", err)
	}
	r.OK = len(r.Altered) == 0
	return r, nil
}
