package clearance

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// docRow is one document version as the store writes it.
type docRow struct {
	ID              uuid.UUID
	Doc             Document
	Tenant          string // the chain's ebpCode; "" for a waybill whose chain is unknown
	OrderNo         string
	Kind            Kind
	Message         MessageType
	Direction       Direction // "" for cancellations and returns, which have none of their own
	GUID            string
	AppType         AppType
	AppTime         time.Time
	LogisticsCode   string
	LogisticsNo     string
	PayCode         string // a payment's institution, the one an order names; "" for the other kinds
	Body            []byte
	SID             StoredID
	BodyHash        []byte
	By              string
	SubmitterTenant string
	replayed        bool
}

func (r *docRow) key() ChainKey { return ChainKey{r.Tenant, r.OrderNo} }

// keyArrays splits chain keys into the two arrays the SQL takes.
func keyArrays(keys []ChainKey) (tenants, orderNos []string) {
	tenants, orderNos = make([]string, len(keys)), make([]string, len(keys))
	for i, k := range keys {
		tenants[i], orderNos[i] = k.EbpCode, k.OrderNo
	}
	return tenants, orderNos
}

// insertDocumentsSQL inserts versions and bumps their chains' dirty version
// in one statement: the chain is in the outbox exactly when its versions
// are stored. A version already stored (same chain, kind, guid, appTime,
// appType) is skipped; the caller tells replays from conflicts.
//
// The chains are created or bumped last, in key order (every writer does
// it so, and the matcher locks in the same order), so a transaction holds
// its chains' locks only from the end of its statement to its commit, not
// while its documents are written: the four parties' batches of the same
// chains, and the matcher, wait for each other that much less. A document
// of the other direction than its chain's is reported in the second column
// (the chain, whose direction is then left as it was) and the caller rolls
// back.
//
// The same upsert decides the chain's parties (docs/clearance.md, "Who may
// declare, supersede and read"): on the row as the last committed writer
// left it, since ON CONFLICT DO UPDATE waits for that writer and then reads
// the row's latest version. The new versions' namings (an order's payCode,
// an inventory's logisticsCode: n.*_named) and claims (a payment's payCode,
// a waybill's logisticsCode: n.*_claim) are folded into the row; a chain
// whose claims disagree with its party is left as it was (the WHERE) and
// reported in the third column, and the caller rolls back. A chain the
// upsert creates has no row to disagree with, only its own versions
// (inserted: xmax = 0 marks a row the upsert inserted).
//
// Bodies travel as one text (jsonList) and become jsonb one by one.
const insertDocumentsSQL = `
WITH u AS (
	SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::smallint[],
		$8::timestamptz[], $9::text[], $10::text[], string_to_array($11, chr(30)), $12::text[], $13::bool[], $14::bytea[],
		$15::text[], $16::text[], $17::text[], $18::text[])
	AS u(id, tenant_id, order_no, kind, message, guid, app_type, app_time, logistics_code, logistics_no,
		body, id_hash, id_valid, body_hash, submitted_by, submitter_tenant, direction, pay_code)
), ins AS (
	INSERT INTO clearance_documents (id, tenant_id, order_no, kind, message, guid, app_type, app_time,
		logistics_code, logistics_no, body, id_hash, id_valid, body_hash, submitted_by, submitter_tenant)
	SELECT id, tenant_id, order_no, kind, message, guid, app_type, app_time, logistics_code, logistics_no,
		body::jsonb, NULLIF(id_hash, ''), CASE WHEN id_hash = '' THEN NULL ELSE id_valid END, body_hash, submitted_by, submitter_tenant
	FROM u
	ON CONFLICT (tenant_id, order_no, kind, guid, app_time, app_type) DO NOTHING
	RETURNING id, tenant_id, order_no
), n AS (
	SELECT ins.tenant_id, ins.order_no, count(*) AS n, max(NULLIF(u.direction, '')) AS direction,
		(array_agg(ROW(u.app_time, u.app_type, u.guid, u.pay_code)::clearance_naming
			ORDER BY u.app_time DESC, u.app_type DESC, u.guid DESC) FILTER (WHERE u.kind = 'ORDER' AND u.pay_code <> ''))[1] AS payment_named,
		min(u.pay_code) FILTER (WHERE u.kind = 'PAYMENT') AS payment_claim,
		count(DISTINCT u.pay_code) FILTER (WHERE u.kind = 'PAYMENT') AS payment_claims,
		(array_agg(ROW(u.app_time, u.app_type, u.guid, u.logistics_code)::clearance_naming
			ORDER BY u.app_time DESC, u.app_type DESC, u.guid DESC) FILTER (WHERE u.kind = 'INVENTORY'))[1] AS waybill_named,
		min(u.logistics_code) FILTER (WHERE u.kind = 'WAYBILL') AS waybill_claim,
		count(DISTINCT u.logistics_code) FILTER (WHERE u.kind = 'WAYBILL') AS waybill_claims
	FROM ins JOIN u ON u.id = ins.id
	GROUP BY 1, 2
), bump AS (
	INSERT INTO clearance_chains AS c (tenant_id, order_no, direction, dirty_version, dirty_since,
		payment_named, payment_first, waybill_named, waybill_first)
	SELECT tenant_id, order_no, direction, n, now(), payment_named, payment_claim, waybill_named, waybill_claim
	FROM n ORDER BY tenant_id, order_no
	ON CONFLICT (tenant_id, order_no) DO UPDATE SET dirty_version = c.dirty_version + excluded.dirty_version,
		dirty_since = coalesce(c.dirty_since, now()), direction = coalesce(c.direction, excluded.direction),
		payment_named = GREATEST(c.payment_named, excluded.payment_named), payment_first = coalesce(c.payment_first, excluded.payment_first),
		waybill_named = GREATEST(c.waybill_named, excluded.waybill_named), waybill_first = coalesce(c.waybill_first, excluded.waybill_first),
		updated_at = now()
	WHERE clearance_party_holds(GREATEST(c.payment_named, excluded.payment_named), c.payment_first, excluded.payment_first)
		AND clearance_party_holds(GREATEST(c.waybill_named, excluded.waybill_named), c.waybill_first, excluded.waybill_first)
	RETURNING c.tenant_id, c.order_no, c.direction, c.xmax = 0 AS inserted
)
SELECT id, '' AS conflict, '' AS party_conflict FROM ins
UNION ALL
SELECT NULL, bump.tenant_id || '/' || bump.order_no || ' is ' || bump.direction || ', got ' || n.direction, ''
FROM bump JOIN n USING (tenant_id, order_no) WHERE bump.direction <> n.direction
UNION ALL
SELECT NULL, '', n.tenant_id || '/' || n.order_no
FROM n LEFT JOIN bump USING (tenant_id, order_no)
WHERE bump.tenant_id IS NULL OR n.payment_claims > 1 OR n.waybill_claims > 1 OR (bump.inserted AND NOT (
	clearance_party_holds(n.payment_named, NULL, n.payment_claim) AND clearance_party_holds(n.waybill_named, NULL, n.waybill_claim)))`

// jsonList passes JSON texts to PostgreSQL as one text, which the SQL splits
// with string_to_array($n, chr(30)). A JSON text never holds a raw control
// character, so U+001E cannot occur in one, and neither side has to quote
// and unquote every '"' as a text[] literal needs: for 1,000 documents that
// cost the API more than the rest of the insert.
func jsonList(docs [][]byte) (string, error) {
	var b strings.Builder
	size := len(docs)
	for _, d := range docs {
		size += len(d)
	}
	b.Grow(size)
	for i, d := range docs {
		if bytes.IndexByte(d, 0x1e) >= 0 {
			return "", fmt.Errorf("document %d is not JSON text: it holds U+001E", i)
		}
		if i > 0 {
			b.WriteByte(0x1e)
		}
		b.Write(d)
	}
	return b.String(), nil
}

// insertDocuments writes rows and returns the chains that got a new
// version. Replays take the stored version's id.
//
// Errors: ErrChainDirection, ErrChainPartyConflict (the transaction must
// not commit).
func insertDocuments(ctx context.Context, tx *sqlx.Tx, rows []*docRow) ([]ChainKey, error) {
	if len(rows) == 0 {
		return nil, nil
	}
	n := len(rows)
	ids := make([]uuid.UUID, n)
	tenants, orderNos, kinds, msgs, guids := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	appTypes, appTimes := make([]int64, n), make([]string, n)
	lcs, lns, idHashes, bys, subTenants, dirs := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	payCodes := make([]string, n)
	bodies := make([][]byte, n)
	idValid, bodyHashes := make([]bool, n), make([][]byte, n)
	for i, r := range rows {
		ids[i], tenants[i], orderNos[i], kinds[i], msgs[i], guids[i] = r.ID, r.Tenant, r.OrderNo, string(r.Kind), string(r.Message), r.GUID
		appTypes[i], appTimes[i] = int64(r.AppType), r.AppTime.Format(time.RFC3339Nano)
		lcs[i], lns[i], bodies[i], idHashes[i], idValid[i], bodyHashes[i] = r.LogisticsCode, r.LogisticsNo, r.Body, r.SID.Hash, r.SID.Valid, r.BodyHash
		bys[i], subTenants[i], dirs[i], payCodes[i] = r.By, r.SubmitterTenant, string(r.Direction), r.PayCode
	}
	bodyList, err := jsonList(bodies)
	if err != nil {
		return nil, err
	}
	var out []struct {
		ID            uuid.NullUUID `db:"id"`
		Conflict      string        `db:"conflict"`
		PartyConflict string        `db:"party_conflict"`
	}
	err = tx.SelectContext(ctx, &out, insertDocumentsSQL, pq.Array(ids), pq.Array(tenants), pq.Array(orderNos),
		pq.Array(kinds), pq.Array(msgs), pq.Array(guids), pq.Array(appTypes), pq.Array(appTimes), pq.Array(lcs), pq.Array(lns),
		bodyList, pq.Array(idHashes), pq.Array(idValid), pq.ByteaArray(bodyHashes), pq.Array(bys), pq.Array(subTenants), pq.Array(dirs), pq.Array(payCodes))
	if err != nil {
		return nil, fmt.Errorf("insert %d documents: %w", n, err)
	}
	inserted := make([]uuid.UUID, 0, len(out))
	for _, o := range out {
		switch {
		case o.Conflict != "":
			return nil, ErrChainDirection.With("chain %s", o.Conflict)
		case o.PartyConflict != "":
			return nil, ErrChainPartyConflict.With("chain %s: its payments are declared by the institution its order names "+
				"and its waybills by the carrier its inventory names or, before those name one, by the first to declare one; "+
				"this request declares for another", o.PartyConflict)
		}
		inserted = append(inserted, o.ID.UUID)
	}
	done := make(map[uuid.UUID]bool, len(inserted))
	for _, id := range inserted {
		done[id] = true
	}
	var dirty, again []*docRow
	for _, r := range rows {
		if done[r.ID] {
			dirty = append(dirty, r)
		} else {
			again = append(again, r)
		}
	}
	if err := matchReplays(ctx, tx, again); err != nil {
		return nil, err
	}
	return sortedKeys(dirty), nil
}

// storedVersionsSQL finds the stored versions that rows repeat.
const storedVersionsSQL = `
SELECT d.id, d.tenant_id, d.order_no, d.kind, d.guid, d.app_time, d.app_type, d.body_hash
FROM clearance_documents d
JOIN unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::smallint[]) AS u(t, o, k, g, at, ap)
	ON d.tenant_id = u.t AND d.order_no = u.o AND d.kind = u.k AND d.guid = u.g AND d.app_time = u.at AND d.app_type = u.ap`

// versionKey names one version of one document.
type versionKey struct {
	Tenant, OrderNo, Kind, GUID string
	AppTime                     time.Time
	AppType                     int16
}

func (r *docRow) version() versionKey {
	return versionKey{r.Tenant, r.OrderNo, string(r.Kind), r.GUID, r.AppTime, int16(r.AppType)}
}

// matchReplays gives each row that was not inserted the id of the version
// stored before, or refuses it when that version's content differs. A row
// repeated within the batch itself finds nothing stored and is refused too
// (ErrDocumentConflict), since its twin's id cannot be told from it.
func matchReplays(ctx context.Context, tx *sqlx.Tx, rows []*docRow) error {
	if len(rows) == 0 {
		return nil
	}
	n := len(rows)
	ts, os, ks, gs, ats, aps := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]int64, n)
	for i, r := range rows {
		v := r.version()
		ts[i], os[i], ks[i], gs[i], ats[i], aps[i] = v.Tenant, v.OrderNo, v.Kind, v.GUID, v.AppTime.Format(time.RFC3339Nano), int64(v.AppType)
	}
	var found []struct {
		ID       uuid.UUID `db:"id"`
		Tenant   string    `db:"tenant_id"`
		OrderNo  string    `db:"order_no"`
		Kind     string    `db:"kind"`
		GUID     string    `db:"guid"`
		AppTime  time.Time `db:"app_time"`
		AppType  int16     `db:"app_type"`
		BodyHash []byte    `db:"body_hash"`
	}
	if err := tx.SelectContext(ctx, &found, storedVersionsSQL, pq.Array(ts), pq.Array(os), pq.Array(ks), pq.Array(gs), pq.Array(ats), pq.Array(aps)); err != nil {
		return fmt.Errorf("look up replayed versions: %w", err)
	}
	type stored struct {
		id   uuid.UUID
		hash []byte
	}
	byVersion := make(map[versionKey]stored, len(found))
	for _, f := range found {
		byVersion[versionKey{f.Tenant, f.OrderNo, f.Kind, f.GUID, f.AppTime.UTC(), f.AppType}] = stored{f.ID, f.BodyHash}
	}
	for _, r := range rows {
		st, ok := byVersion[r.version()]
		if !ok || !bytes.Equal(st.hash, r.BodyHash) {
			return ErrDocumentConflict.With("%s %s (appType %d, appTime %s) of chain %s/%s was already stored with other content",
				r.Kind, r.GUID, r.AppType, r.AppTime.Format(time.RFC3339), r.Tenant, r.OrderNo)
		}
		r.ID, r.replayed = st.id, true
	}
	return nil
}
