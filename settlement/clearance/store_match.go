package clearance

import (
	"context"
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
	Status         Status      `db:"status"`
	State          ChainStatus `db:"state"`
}

func (c *chainRow) key() ChainKey { return ChainKey{c.Tenant, c.OrderNo} }

const chainColumns = `c.tenant_id, c.order_no, coalesce(c.direction, '') AS direction, c.dirty_version, c.clean_version,
	c.verdict_version, coalesce(c.status, '') AS status, c.state`

// dirtyChainsSQL reads the chains of a set that wait for evaluation.
const dirtyChainsSQL = `
SELECT ` + chainColumns + `
FROM clearance_chains c JOIN unnest($1::text[], $2::text[]) AS u(t, o) ON c.tenant_id = u.t AND c.order_no = u.o
WHERE c.dirty_version > c.clean_version`

// lockEvaluatedSQL locks chains in key order for the write of their verdicts.
const lockEvaluatedSQL = `
SELECT ` + chainColumns + `
FROM clearance_chains c JOIN unnest($1::text[], $2::text[]) AS u(t, o) ON c.tenant_id = u.t AND c.order_no = u.o
ORDER BY c.tenant_id, c.order_no
FOR UPDATE OF c`

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
}

// decode rebuilds the document, its personal ID sealed.
func (d *storedDoc) decode() (Document, error) {
	return DecodeStored(d.Message, []byte(d.Body), StoredID{Hash: d.IDHash.String, Valid: d.IDValid.Bool})
}

const docColumns = `d.id, d.tenant_id, d.order_no, d.kind, d.message, d.guid, d.app_type, d.app_time, d.body::text AS body,
	d.id_hash, d.id_valid, d.submitted_by, d.submitter_tenant, d.created_at`

// docsInForceSQL reads, for a set of chains, the version in force of each
// kind: the order of clearance.Supersedes. A delete in force is returned
// too; the caller leaves it out.
const docsInForceSQL = `
SELECT DISTINCT ON (d.tenant_id, d.order_no, d.kind) ` + docColumns + `
FROM clearance_documents d JOIN unnest($1::text[], $2::text[]) AS u(t, o) ON d.tenant_id = u.t AND d.order_no = u.o
ORDER BY d.tenant_id, d.order_no, d.kind, d.app_time DESC, d.app_type DESC, d.guid DESC`

// loadDocsInForce returns the versions in force of the chains' documents.
func loadDocsInForce(ctx context.Context, q querier, keys []ChainKey) ([]storedDoc, error) {
	ts, os := keyArrays(keys)
	var docs []storedDoc
	if err := q.SelectContext(ctx, &docs, docsInForceSQL, pq.Array(ts), pq.Array(os)); err != nil {
		return nil, fmt.Errorf("load documents of %d chains: %w", len(keys), err)
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
	docs, err := loadDocsInForce(ctx, tx, dirty)
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

// writeVerdictsSQL records an evaluation for a set of chains in one
// statement: a new verdict version where the verdict or the state differs
// from the one in force (history is kept, repeats are not), and the chain's
// clean version, status and state.
const writeVerdictsSQL = `
WITH u AS (
	SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::jsonb[])
	AS u(t, o, v, status, state, verdict)
), cur AS (
	SELECT c.tenant_id, c.order_no, c.verdict_version, cv.verdict, cv.state
	FROM clearance_chains c JOIN u ON c.tenant_id = u.t AND c.order_no = u.o
	LEFT JOIN clearance_verdicts cv ON cv.tenant_id = c.tenant_id AND cv.order_no = c.order_no AND cv.version = c.verdict_version
), ins AS (
	INSERT INTO clearance_verdicts (tenant_id, order_no, version, status, state, verdict, chain_version)
	SELECT u.t, u.o, cur.verdict_version + 1, u.status, u.state, u.verdict, u.v
	FROM u JOIN cur ON cur.tenant_id = u.t AND cur.order_no = u.o
	WHERE cur.verdict IS DISTINCT FROM u.verdict OR cur.state IS DISTINCT FROM u.state
	RETURNING tenant_id, order_no, version
)
UPDATE clearance_chains c SET clean_version = u.v, dirty_since = NULL, status = u.status, state = u.state,
	verdict_version = coalesce(ins.version, c.verdict_version), updated_at = now()
FROM u LEFT JOIN ins ON ins.tenant_id = u.t AND ins.order_no = u.o
WHERE c.tenant_id = u.t AND c.order_no = u.o`

// writeVerdicts stores the evaluations.
func writeVerdicts(ctx context.Context, tx *sqlx.Tx, evs []*evaluation) error {
	n := len(evs)
	ts, os, statuses, states, verdicts := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	versions := make([]int64, n)
	for i, e := range evs {
		ts[i], os[i], versions[i] = e.key.EbpCode, e.key.OrderNo, e.version
		statuses[i], states[i], verdicts[i] = string(e.verdict.Status), string(e.state), string(e.verdictJSON)
	}
	if _, err := tx.ExecContext(ctx, writeVerdictsSQL, pq.Array(ts), pq.Array(os), pq.Array(versions),
		pq.Array(statuses), pq.Array(states), pq.Array(verdicts)); err != nil {
		return fmt.Errorf("write %d verdicts: %w", n, err)
	}
	return nil
}
