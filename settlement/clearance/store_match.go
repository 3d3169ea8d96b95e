package clearance

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// chainRow is a clearance_chains row.
type chainRow struct {
	Tenant         string      `db:"tenant_id"`
	OrderNo        string      `db:"order_no"`
	Direction      Direction   `db:"direction"`
	Dirty          int64       `db:"dirty_version"`
	Clean          int64       `db:"clean_version"`
	VerdictVersion int         `db:"verdict_version"`
	VerdictHash    []byte      `db:"verdict_hash"` // verdictHash of the verdict in force
	Status         Status      `db:"status"`
	State          ChainStatus `db:"state"`
}

func (c *chainRow) key() ChainKey { return ChainKey{c.Tenant, c.OrderNo} }

const chainColumns = `c.tenant_id, c.order_no, coalesce(c.direction, '') AS direction, c.dirty_version, c.clean_version,
	c.verdict_version, c.verdict_hash, coalesce(c.status, '') AS status, c.state`

// dirtyChainsSQL reads the chains of a set that wait for evaluation.
//
// It and the other reads of a set of chains by key look each one up by its
// key (LATERAL … LIMIT 1, which the planner cannot turn into a join): as
// the table grows between two ANALYZEs, or with a backlog of dirty chains,
// the planner otherwise prefers to read the whole table, or every dirty
// chain, and hash them, at a cost that grows with the table.
const dirtyChainsSQL = `
SELECT c.* FROM unnest($1::text[], $2::text[]) AS u(t, o) CROSS JOIN LATERAL (
	SELECT ` + chainColumns + ` FROM clearance_chains c
	WHERE c.tenant_id = u.t AND c.order_no = u.o AND c.dirty_version > c.clean_version LIMIT 1) c`

// lockEvaluatedSQL locks chains in key order for the write of their verdicts.
const lockEvaluatedSQL = `
SELECT c.* FROM (SELECT * FROM unnest($1::text[], $2::text[]) AS u(t, o) ORDER BY t, o) u CROSS JOIN LATERAL (
	SELECT ` + chainColumns + ` FROM clearance_chains c
	WHERE c.tenant_id = u.t AND c.order_no = u.o LIMIT 1 FOR UPDATE) c`

// storedDoc is a clearance_documents row as read back.
type storedDoc struct {
	ID              uuid.UUID      `db:"id"`
	Tenant          string         `db:"tenant_id"`
	OrderNo         string         `db:"order_no"`
	Kind            Kind           `db:"kind"`
	Message         MessageType    `db:"message"`
	GUID            string         `db:"guid"`
	AppType         AppType        `db:"app_type"`
	AppTime         time.Time      `db:"app_time"`
	Body            string         `db:"body"`
	IDHash          sql.NullString `db:"id_hash"`
	IDValid         sql.NullBool   `db:"id_valid"`
	SubmittedBy     string         `db:"submitted_by"`
	SubmitterTenant string         `db:"submitter_tenant"`
	CreatedAt       time.Time      `db:"created_at"`
	doc             Document       // from the document cache
}

// decode rebuilds the document, its personal ID sealed, unless the
// document cache already gave it.
func (d *storedDoc) decode() (Document, error) {
	if d.doc != nil {
		return d.doc, nil
	}
	return DecodeStored(d.Message, []byte(d.Body), d.storedID())
}

func (d *storedDoc) storedID() StoredID {
	return StoredID{Hash: d.IDHash.String, Valid: d.IDValid.Bool}
}

// docHeadColumns are a stored version's columns but its body.
const (
	docHeadColumns = `d.id, d.tenant_id, d.order_no, d.kind, d.message, d.guid, d.app_type, d.app_time,
	d.id_hash, d.id_valid, d.submitted_by, d.submitter_tenant, d.created_at`
	docColumns = docHeadColumns + `, d.body::text AS body`
)

// docsInForceSQL reads, for a set of chains, the version in force of each
// kind: the order of clearance.Supersedes. A delete in force is returned
// too; the caller leaves it out. docHeadsInForceSQL does without the
// bodies, which the matcher mostly has in its cache, and docBodiesSQL
// reads those it does not.
const (
	docsInForceFrom = `
FROM clearance_documents d JOIN unnest($1::text[], $2::text[]) AS u(t, o) ON d.tenant_id = u.t AND d.order_no = u.o
ORDER BY d.tenant_id, d.order_no, d.kind, d.app_time DESC, d.app_type DESC, d.guid DESC`
	docsInForceSQL     = `SELECT DISTINCT ON (d.tenant_id, d.order_no, d.kind) ` + docColumns + docsInForceFrom
	docHeadsInForceSQL = `SELECT DISTINCT ON (d.tenant_id, d.order_no, d.kind) ` + docHeadColumns + docsInForceFrom
	docBodiesSQL       = `SELECT id, body::text AS body FROM clearance_documents WHERE id = ANY($1::uuid[])`
)

// loadDocsInForce returns the versions in force of the chains' documents.
func loadDocsInForce(ctx context.Context, q querier, keys []ChainKey) ([]storedDoc, error) {
	ts, os := keyArrays(keys)
	var docs []storedDoc
	if err := q.SelectContext(ctx, &docs, docsInForceSQL, pq.Array(ts), pq.Array(os)); err != nil {
		return nil, fmt.Errorf("load documents of %d chains: %w", len(keys), err)
	}
	return docs, nil
}

// loadDocsToMatch is loadDocsInForce for the matcher: documents in the
// cache are taken from it, the bodies of the others are read.
func (s *Service) loadDocsToMatch(ctx context.Context, q querier, keys []ChainKey) ([]storedDoc, error) {
	ts, os := keyArrays(keys)
	var docs []storedDoc
	if err := q.SelectContext(ctx, &docs, docHeadsInForceSQL, pq.Array(ts), pq.Array(os)); err != nil {
		return nil, fmt.Errorf("load documents of %d chains: %w", len(keys), err)
	}
	missing := map[uuid.UUID]*storedDoc{}
	var ids []uuid.UUID
	for i := range docs {
		if docs[i].doc = s.cache.get(docs[i].ID); docs[i].doc == nil {
			missing[docs[i].ID] = &docs[i]
			ids = append(ids, docs[i].ID)
		}
	}
	if len(ids) == 0 {
		return docs, nil
	}
	var bodies []struct {
		ID   uuid.UUID `db:"id"`
		Body string    `db:"body"`
	}
	if err := q.SelectContext(ctx, &bodies, docBodiesSQL, pq.Array(ids)); err != nil {
		return nil, fmt.Errorf("load %d documents: %w", len(ids), err)
	}
	for _, b := range bodies {
		missing[b.ID].Body = b.Body
	}
	return docs, nil
}

// snapshot is what one evaluation round reads, from one consistent
// snapshot: every dirty chain's dirty version and the documents that
// version stands for.
type snapshot struct {
	chains []chainRow
	docs   map[ChainKey][]storedDoc
}

// readSnapshot reads the dirty chains among keys and their documents in a
// repeatable-read transaction, so that documents and dirty versions agree.
func (s *Service) readSnapshot(ctx context.Context, keys []ChainKey) (*snapshot, error) {
	tx, err := s.db.BeginTxx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("begin snapshot: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // read only
	snap := &snapshot{docs: map[ChainKey][]storedDoc{}}
	ts, os := keyArrays(keys)
	if err := tx.SelectContext(ctx, &snap.chains, dirtyChainsSQL, pq.Array(ts), pq.Array(os)); err != nil {
		return nil, fmt.Errorf("read dirty chains: %w", err)
	}
	if len(snap.chains) == 0 {
		return snap, nil
	}
	dirty := make([]ChainKey, len(snap.chains))
	for i := range snap.chains {
		dirty[i] = snap.chains[i].key()
	}
	docs, err := s.loadDocsToMatch(ctx, tx, dirty)
	if err != nil {
		return nil, err
	}
	for _, d := range docs {
		k := ChainKey{d.Tenant, d.OrderNo}
		snap.docs[k] = append(snap.docs[k], d)
	}
	return snap, nil
}

// lockEvaluated locks the evaluated chains and returns their rows.
func lockEvaluated(ctx context.Context, tx *sqlx.Tx, keys []ChainKey) (map[ChainKey]chainRow, error) {
	ts, os := keyArrays(keys)
	var rows []chainRow
	if err := tx.SelectContext(ctx, &rows, lockEvaluatedSQL, pq.Array(ts), pq.Array(os)); err != nil {
		return nil, fmt.Errorf("lock %d chains: %w", len(keys), err)
	}
	out := make(map[ChainKey]chainRow, len(rows))
	for _, r := range rows {
		out[r.key()] = r
	}
	return out, nil
}

// insertVerdictsSQL adds verdict versions; cleanChainsSQL records an
// evaluation on its chains: clean version, status, state, the verdict in
// force and the seller (ebc_code, which risk reads for the chains that never
// verified; none keeps the one the chain had). Whether a verdict is new is
// decided in Go, by the fingerprint the chain keeps of its verdict in force
// (verdictHash), rather than by reading and comparing the stored verdicts:
// history is kept, repeats are not.
const (
	insertVerdictsSQL = `
INSERT INTO clearance_verdicts (tenant_id, order_no, version, status, state, verdict, chain_version)
SELECT t, o, v, status, state, verdict::jsonb, cv
FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::text[], string_to_array($6, chr(30)), $7::bigint[])
	AS u(t, o, v, status, state, verdict, cv)`
	cleanChainsSQL = `
UPDATE clearance_chains c SET clean_version = u.v, dirty_since = NULL, status = u.status, state = u.state,
	verdict_version = u.vv, verdict_hash = u.h, ebc_code = coalesce(nullif(u.ebc, ''), c.ebc_code), updated_at = now()
FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::int[], $7::bytea[], $8::text[])
	AS u(t, o, v, status, state, vv, h, ebc)
WHERE c.tenant_id = u.t AND c.order_no = u.o`
)

// verdictHash fingerprints what a verdict version records: the chain's
// state and its verdict as stored.
func verdictHash(state ChainStatus, verdictJSON []byte) []byte {
	h := sha256.New()
	h.Write([]byte(state))
	h.Write([]byte{0})
	h.Write(verdictJSON)
	return h.Sum(nil)
}

// writeVerdicts stores the evaluations: a new verdict version for each
// chain whose verdict or state changed, and the chains' outcome.
func writeVerdicts(ctx context.Context, tx *sqlx.Tx, evs []*evaluation) error {
	n := len(evs)
	ts, os, statuses, states, sellers := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	versions, verdictVersions, hashes := make([]int64, n), make([]int64, n), make([][]byte, n)
	var vt, vo, vstatus, vstate []string
	var verdicts [][]byte
	var vv, vchain []int64
	for i, e := range evs {
		ts[i], os[i], versions[i] = e.key.EbpCode, e.key.OrderNo, e.version
		statuses[i], states[i], sellers[i] = string(e.verdict.Status), string(e.state), e.chain.seller()
		hashes[i], verdictVersions[i] = verdictHash(e.state, e.verdictJSON), int64(e.prev.VerdictVersion)
		if !bytes.Equal(hashes[i], e.prev.VerdictHash) {
			verdictVersions[i]++
			vt, vo, vv, vstatus, vstate = append(vt, ts[i]), append(vo, os[i]), append(vv, verdictVersions[i]), append(vstatus, statuses[i]), append(vstate, states[i])
			verdicts, vchain = append(verdicts, e.verdictJSON), append(vchain, e.version)
		}
	}
	if len(vt) > 0 {
		list, err := jsonList(verdicts)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, insertVerdictsSQL, pq.Array(vt), pq.Array(vo), pq.Array(vv), pq.Array(vstatus),
			pq.Array(vstate), list, pq.Array(vchain)); err != nil {
			return fmt.Errorf("write %d verdicts: %w", len(vt), err)
		}
	}
	if _, err := tx.ExecContext(ctx, cleanChainsSQL, pq.Array(ts), pq.Array(os), pq.Array(versions),
		pq.Array(statuses), pq.Array(states), pq.Array(verdictVersions), pq.ByteaArray(hashes), pq.Array(sellers)); err != nil {
		return fmt.Errorf("record %d evaluations: %w", n, err)
	}
	return nil
}
