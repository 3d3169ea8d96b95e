package ledger

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/shopspring/decimal"
)

// querier is what both *sqlx.DB and *sqlx.Tx offer.
type querier interface {
	sqlx.QueryerContext
	sqlx.ExecerContext
	GetContext(ctx context.Context, dest any, query string, args ...any) error
	SelectContext(ctx context.Context, dest any, query string, args ...any) error
}

const accountColumns = `id, tenant_id, code, currency, kind, owner_enterprise_id,
	debits_must_not_exceed_credits, credits_must_not_exceed_debits, status, metadata, created_at,
	posted_debits, posted_credits, pending_debits, pending_credits`

const insertAccountSQL = `
INSERT INTO accounts (id, tenant_id, code, currency, kind, owner_enterprise_id,
	debits_must_not_exceed_credits, credits_must_not_exceed_debits, metadata)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (tenant_id, code) DO NOTHING
RETURNING ` + accountColumns

func insertAccount(ctx context.Context, q querier, a *Account) (Account, error) {
	var out Account
	err := q.GetContext(ctx, &out, insertAccountSQL, a.ID, a.TenantID, a.Code, a.Currency, a.Kind,
		a.OwnerEnterpriseID, a.DebitsLimited, a.CreditsLimited, a.Metadata)
	if errors.Is(err, sql.ErrNoRows) {
		return out, ErrAccountExists.With("account code %q is taken", a.Code)
	}
	return out, err
}

func getAccount(ctx context.Context, q querier, tenant string, id uuid.UUID) (Account, error) {
	var a Account
	err := q.GetContext(ctx, &a, `SELECT `+accountColumns+` FROM accounts WHERE tenant_id = $1 AND id = $2`, tenant, id)
	if errors.Is(err, sql.ErrNoRows) {
		return a, ErrAccountNotFound.With("account %s does not exist", id)
	}
	return a, err
}

// lockAccounts locks the accounts in id order, the one order every writer
// uses, so two entries over the same accounts wait instead of deadlocking.
// Accounts of another tenant are simply not found.
func lockAccounts(ctx context.Context, tx querier, tenant string, ids []uuid.UUID) ([]Account, error) {
	// Once each: the ids come one per posting.
	ids = slices.Compact(slices.SortedFunc(slices.Values(ids), compareUUID))
	var out []Account
	err := tx.SelectContext(ctx, &out, lockAccountsSQL, tenant, uuidArray(ids))
	return out, err
}

// Each account is looked up by id and locked in the order of the ids, which
// callers sort: the lateral subquery makes that the plan whatever the
// statistics say. A join left the planner free to read every account of the
// tenant through the (tenant_id, code) index, which it did for each batch on
// a table it had no statistics for yet, and id = ANY($2) had PostgreSQL sort
// the array again at every recheck after a lock wait (perf: a third of the
// backends' CPU in bulk posting). "(tenant_id = $1) IS TRUE" checks the
// tenant without offering that index.
const lockAccountsSQL = `SELECT a.* FROM unnest($2::uuid[]) AS u(want)
	CROSS JOIN LATERAL (SELECT ` + accountColumns + ` FROM accounts
		WHERE id = u.want AND (tenant_id = $1) IS TRUE OFFSET 0) a
	FOR UPDATE OF a`

const findKeysSQL = `SELECT id, idempotency_key, request_hash FROM entries
	WHERE tenant_id = $1 AND idempotency_key = ANY($2)`

type keyRow struct {
	ID          uuid.UUID `db:"id"`
	Key         string    `db:"idempotency_key"`
	RequestHash []byte    `db:"request_hash"`
}

func findKeys(ctx context.Context, q querier, tenant string, keys []string) (map[string]keyRow, error) {
	var rows []keyRow
	if err := q.SelectContext(ctx, &rows, findKeysSQL, tenant, pq.Array(keys)); err != nil {
		return nil, fmt.Errorf("look up idempotency keys: %w", err)
	}
	m := make(map[string]keyRow, len(rows))
	for _, r := range rows {
		m[r.Key] = r
	}
	return m, nil
}

// writeSQL writes a set of entries, their postings and the coalesced balance
// changes in one statement: one round trip whatever the batch size. It runs
// in three steps, in this order because the terms of its last line are
// evaluated left to right: the accounts are locked in id order, then the
// entries (in key order) and postings are inserted, then the balances move.
// Every writer takes what it waits for in that one order (accounts by id,
// then idempotency keys, whose insert waits for another writer of the same
// key), so writers wait for each other and never deadlock. The careful path
// has locked the accounts already; the lock here finds them its own.
//
// With $25 (open only) the statement locks only accounts still open and
// fails with notOpenCode, writing nothing, if any is not: the fast path runs
// it alone, checked against what it remembers of the accounts. A key or
// reversal taken meanwhile fails it with a unique violation (23505).
const writeSQL = `
WITH l AS ( -- as lockAccountsSQL; $20 is sorted
	SELECT a.id FROM unnest($20::uuid[]) AS u(want)
	CROSS JOIN LATERAL (SELECT id FROM accounts WHERE id = u.want AND (tenant_id = $1) IS TRUE
		AND (status = 'open' OR NOT $25::boolean) OFFSET 0) a
	FOR UPDATE OF a
), e AS (
	INSERT INTO entries (id, tenant_id, idempotency_key, request_hash, kind, hold_id, reverses_entry_id,
		effective_at, created_at, description, metadata, created_by)
	SELECT u.id, $1, u.key, u.hash, u.kind, u.hold, u.rev, u.eff, $10, u.descr, u.meta, u.by
	FROM unnest($3::uuid[], $4::text[], $5::bytea[], $6::text[], $7::uuid[], $8::uuid[],
		$9::timestamptz[], $11::text[], $12::jsonb[], $2::text[])
		AS u(id, key, hash, kind, hold, rev, eff, descr, meta, by)
	RETURNING id, effective_at
), p AS (
	INSERT INTO postings (entry_id, idx, tenant_id, account_id, direction, phase, amount, currency, effective_at)
	SELECT u.entry_id, u.idx, $1, u.account_id, u.direction, u.phase, u.amount, u.currency, e.effective_at
	FROM unnest($13::uuid[], $14::int2[], $15::uuid[], $16::text[], $17::text[], $18::numeric[], $19::text[])
		AS u(entry_id, idx, account_id, direction, phase, amount, currency)
	JOIN e ON e.id = u.entry_id
	RETURNING 1
), b AS (
	UPDATE accounts a SET
		posted_debits = a.posted_debits + u.pd, posted_credits = a.posted_credits + u.pc,
		pending_debits = a.pending_debits + u.qd, pending_credits = a.pending_credits + u.qc,
		updated_at = now()
	FROM unnest($20::uuid[], $21::numeric[], $22::numeric[], $23::numeric[], $24::numeric[]) AS u(id, pd, pc, qd, qc)
	WHERE a.id = u.id AND (a.tenant_id = $1) IS TRUE
	RETURNING 1
)
SELECT ledger_check_open((SELECT count(*) FROM l), cardinality($20::uuid[])) + (SELECT count(*) FROM p) - (SELECT count(*) FROM b)`

// notOpenCode is the SQLSTATE writeSQL fails with when it finds an account
// of the batch frozen or closed (migrations/00007_ledger_write_check.sql).
const notOpenCode = "XL001"

// writeEntries writes accepted drafts and the balance changes they add up
// to. openOnly asks the statement to check that every account is still open
// (the fast path, which checked them without a lock). The drafts of a batch
// are made at one instant, so created_at is the first one's.
func writeEntries(ctx context.Context, q querier, tenant string, drafts []*draft, deltas map[uuid.UUID]*Balance, openOnly bool) error {
	if len(drafts) == 0 {
		return nil
	}
	// Keys in order (see writeSQL); the drafts were checked in the batch's.
	drafts = slices.SortedFunc(slices.Values(drafts), func(a, b *draft) int {
		return strings.Compare(a.entry.IdempotencyKey, b.entry.IdempotencyKey)
	})
	n := len(drafts)
	var (
		ids, hold, rev               = make([]uuid.UUID, n), make([]sql.NullString, n), make([]sql.NullString, n)
		keys, kinds, descr, meta, by = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		hashes                       = make([][]byte, n)
		eff                          = make([]string, n)
		pEntry, pAcct                []uuid.UUID
		pIdx                         []int16
		pDir, pPhase, pAmt, pCur     []string
	)
	for i, d := range drafts {
		e := &d.entry
		assertBalanced(e)
		ids[i], keys[i], hashes[i], kinds[i] = e.ID, e.IdempotencyKey, d.requestHash, string(e.Kind)
		hold[i], rev[i] = nullUUID(e.HoldID), nullUUID(e.ReversesEntryID)
		eff[i] = e.EffectiveAt.Format(time.RFC3339Nano)
		descr[i], meta[i], by[i] = e.Description, string(e.Metadata), e.CreatedBy
		for j, p := range e.Postings {
			pEntry, pIdx, pAcct = append(pEntry, e.ID), append(pIdx, int16(j)), append(pAcct, p.AccountID)
			pDir, pPhase = append(pDir, string(p.Direction)), append(pPhase, string(p.Phase))
			pAmt, pCur = append(pAmt, p.Amount.String()), append(pCur, string(p.Currency))
		}
	}
	bID := slices.SortedFunc(maps.Keys(deltas), compareUUID) // the lock order

	pd, pc, qd, qc := make([]string, len(bID)), make([]string, len(bID)), make([]string, len(bID)), make([]string, len(bID))
	for i, id := range bID {
		d := deltas[id]
		pd[i], pc[i], qd[i], qc[i] = d.PostedDebits.String(), d.PostedCredits.String(), d.PendingDebits.String(), d.PendingCredits.String()
	}
	var out int
	err := q.GetContext(ctx, &out, writeSQL, tenant, pq.Array(by),
		uuidArray(ids), pq.Array(keys), pq.ByteaArray(hashes), pq.Array(kinds), pq.Array(hold), pq.Array(rev),
		pq.Array(eff), drafts[0].entry.CreatedAt, pq.Array(descr), pq.Array(meta),
		uuidArray(pEntry), pq.Array(pIdx), uuidArray(pAcct), pq.Array(pDir), pq.Array(pPhase), pq.Array(pAmt), pq.Array(pCur),
		uuidArray(bID), pq.Array(pd), pq.Array(pc), pq.Array(qd), pq.Array(qc), openOnly)
	if err != nil {
		return fmt.Errorf("write %d entries: %w", n, err)
	}
	return nil
}

// compareUUID orders ids as PostgreSQL orders uuids: bytewise.
func compareUUID(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) }

// uuidArray writes ids as a PostgreSQL array literal. pq.Array would get
// there by reflection and a string per id: 6% of the API's CPU in bulk
// posting.
func uuidArray(ids []uuid.UUID) string {
	b := make([]byte, 0, 2+37*len(ids))
	b = append(b, '{')
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		for j, x := range id { // 8-4-4-4-12 hex digits
			if j == 4 || j == 6 || j == 8 || j == 10 {
				b = append(b, '-')
			}
			b = append(b, hexDigits[x>>4], hexDigits[x&0xf])
		}
	}
	return string(append(b, '}'))
}

const hexDigits = "0123456789abcdef"

func nullUUID(id *uuid.UUID) sql.NullString {
	if id == nil {
		return sql.NullString{}
	}
	return sql.NullString{String: id.String(), Valid: true}
}

type entryRow struct {
	ID              uuid.UUID       `db:"id"`
	TenantID        string          `db:"tenant_id"`
	IdempotencyKey  string          `db:"idempotency_key"`
	Kind            EntryKind       `db:"kind"`
	HoldID          *uuid.UUID      `db:"hold_id"`
	ReversesEntryID *uuid.UUID      `db:"reverses_entry_id"`
	EffectiveAt     time.Time       `db:"effective_at"`
	CreatedAt       time.Time       `db:"created_at"`
	Description     string          `db:"description"`
	Metadata        json.RawMessage `db:"metadata"`
	CreatedBy       string          `db:"created_by"`
	Hash            []byte          `db:"hash"`
}

type postingRow struct {
	EntryID   uuid.UUID       `db:"entry_id"`
	AccountID uuid.UUID       `db:"account_id"`
	Direction Direction       `db:"direction"`
	Phase     Phase           `db:"phase"`
	Amount    decimal.Decimal `db:"amount"`
	Currency  Currency        `db:"currency"`
}

// loadEntries reads whole entries, in the order of ids.
func loadEntries(ctx context.Context, q querier, tenant string, ids []uuid.UUID) ([]Entry, error) {
	var rows []entryRow
	if err := q.SelectContext(ctx, &rows, `SELECT e.id, e.tenant_id, e.idempotency_key, e.kind, e.hold_id,
			e.reverses_entry_id, e.effective_at, e.created_at, e.description, e.metadata, e.created_by, s.hash
		FROM entries e LEFT JOIN entry_seals s ON s.entry_id = e.id
		WHERE e.id = ANY($2) AND (e.tenant_id = $1) IS TRUE`, tenant, pq.Array(ids)); err != nil {
		return nil, fmt.Errorf("load entries: %w", err)
	}
	var postings []postingRow
	if err := q.SelectContext(ctx, &postings, `SELECT entry_id, account_id, direction, phase, amount, currency
		FROM postings WHERE tenant_id = $1 AND entry_id = ANY($2) ORDER BY entry_id, idx`, tenant, pq.Array(ids)); err != nil {
		return nil, fmt.Errorf("load postings: %w", err)
	}
	byID := make(map[uuid.UUID]*Entry, len(rows))
	for _, r := range rows {
		byID[r.ID] = &Entry{ID: r.ID, TenantID: r.TenantID, IdempotencyKey: r.IdempotencyKey, Kind: r.Kind,
			HoldID: r.HoldID, ReversesEntryID: r.ReversesEntryID, EffectiveAt: r.EffectiveAt.UTC(),
			CreatedAt: r.CreatedAt.UTC(), Description: r.Description, Metadata: r.Metadata, CreatedBy: r.CreatedBy, Hash: r.Hash}
	}
	for _, p := range postings {
		if e := byID[p.EntryID]; e != nil {
			e.Postings = append(e.Postings, Posting{AccountID: p.AccountID, Direction: p.Direction, Phase: p.Phase, Amount: p.Amount, Currency: p.Currency})
		}
	}
	out := make([]Entry, 0, len(ids))
	for _, id := range ids {
		if e := byID[id]; e != nil {
			out = append(out, *e)
		}
	}
	return out, nil
}
