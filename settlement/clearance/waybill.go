package clearance

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// The standard's waybill (CEB511) names its order but not the platform, so
// a waybill without the ebpCode extension must find its chain. The rule, in
// order (docs/clearance.md, "Waybills"):
//
//  1. a waybill (logisticsCode, logisticsNo) already attached to a chain
//     stays there: later versions follow the first;
//  2. else the chain whose inventory, with the waybill's orderNo, names
//     (logisticsCode, logisticsNo) — if exactly one does;
//  3. else the only chain with that orderNo, unless another waybill is
//     known for the orderNo (then the waybill waits for rule 2). An
//     inventory that names another waybill does not keep it out: the chain
//     then fails WAYBILL_REF, whatever the order of arrival;
//  4. else the waybill is parked under its carrier and attached when a
//     document of its chain arrives (AttachWaybills, and the sweeper).
//
// A chain whose waybills another carrier declares (parties.go) is no
// candidate in any rule: the waybill does not name the chain, so it is
// parked rather than refused, and tells its carrier nothing of a chain
// that is not its own.
//
// This is the one place where a query crosses tenants: the chain's tenant
// is exactly what the waybill does not say.

// waybillRefsSQL reads what rules 1 to 3 need about a set of order numbers.
const waybillRefsSQL = `
SELECT kind AS src, tenant_id, order_no, logistics_code, logistics_no FROM clearance_documents
	WHERE kind IN ('WAYBILL', 'INVENTORY') AND order_no = ANY($1)
UNION
SELECT 'CHAIN', tenant_id, order_no, coalesce((waybill_named).party, waybill_first, ''), '' FROM clearance_chains WHERE order_no = ANY($1)
UNION
SELECT 'PARKED', '', order_no, tenant_id, logistics_no FROM clearance_parked_waybills WHERE order_no = ANY($1)`

// waybillRef is one fact rules 1 to 3 use; for a CHAIN, LogisticsCode is
// the carrier that declares its waybills, "" while none does.
type waybillRef struct {
	Src           string `db:"src"`
	Tenant        string `db:"tenant_id"`
	OrderNo       string `db:"order_no"`
	LogisticsCode string `db:"logistics_code"`
	LogisticsNo   string `db:"logistics_no"`
}

// resolveWaybills sets the chain (Tenant) of every waybill row without one
// that rules 1 to 3 place; the others stay "" (parked). The other rows of
// the same call count as if stored.
func resolveWaybills(ctx context.Context, q querier, rows []*docRow) error {
	var orderNos []string
	for _, r := range rows {
		if r.Kind == KindWaybill && r.Tenant == "" {
			orderNos = append(orderNos, r.OrderNo)
		}
	}
	if len(orderNos) == 0 {
		return nil
	}
	var refs []waybillRef
	if err := q.SelectContext(ctx, &refs, waybillRefsSQL, pq.Array(orderNos)); err != nil {
		return fmt.Errorf("look up the chains of %d waybills: %w", len(orderNos), err)
	}
	for _, r := range rows {
		src := string(r.Kind)
		switch {
		case r.Tenant != "" && (r.Kind == KindWaybill || r.Kind == KindInventory):
		case r.Tenant != "":
			src = "CHAIN"
		case r.Kind == KindWaybill:
			src = "PARKED"
		default:
			continue
		}
		refs = append(refs, waybillRef{src, r.Tenant, r.OrderNo, r.LogisticsCode, r.LogisticsNo})
	}
	for _, r := range rows {
		if r.Kind == KindWaybill && r.Tenant == "" {
			r.Tenant = chainOfWaybill(refs, r.OrderNo, r.LogisticsCode, r.LogisticsNo)
		}
	}
	return nil
}

// chainOfWaybill applies rules 1 to 3 to one waybill; "" means park it.
func chainOfWaybill(refs []waybillRef, orderNo, lc, ln string) string {
	othersChain := map[string]bool{}
	for _, f := range refs {
		if f.Src == "CHAIN" && f.OrderNo == orderNo && f.LogisticsCode != "" && f.LogisticsCode != lc {
			othersChain[f.Tenant] = true
		}
	}
	named := func(src string) map[string]bool {
		out := map[string]bool{}
		for _, f := range refs {
			if f.Src == src && f.OrderNo == orderNo && f.LogisticsCode == lc && f.LogisticsNo == ln && !othersChain[f.Tenant] {
				out[f.Tenant] = true
			}
		}
		return out
	}
	if t, ok := only(named("WAYBILL")); ok {
		return t
	}
	if t, ok := only(named("INVENTORY")); ok {
		return t
	}
	chains := map[string]bool{}
	for _, f := range refs {
		if f.OrderNo != orderNo {
			continue
		}
		switch f.Src {
		case "CHAIN":
			if !othersChain[f.Tenant] {
				chains[f.Tenant] = true
			}
		case "WAYBILL", "PARKED":
			if f.LogisticsCode != lc || f.LogisticsNo != ln {
				return "" // another waybill for the same order: ambiguous
			}
		}
	}
	t, _ := only(chains)
	return t
}

// only returns the single member of a set.
func only(set map[string]bool) (string, bool) {
	if len(set) != 1 {
		return "", false
	}
	for k := range set {
		return k, true
	}
	return "", false
}

// parkSQL stores waybills whose chain is unknown, under their carrier.
const parkSQL = `
INSERT INTO clearance_parked_waybills (id, tenant_id, order_no, logistics_no, message, guid, app_type, app_time,
	body, body_hash, submitted_by, submitter_tenant)
SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::smallint[],
	$8::timestamptz[], $9::jsonb[], $10::bytea[], $11::text[], $12::text[])
ON CONFLICT (tenant_id, logistics_no, guid, app_time, app_type) DO NOTHING
RETURNING id`

// parkedVersionSQL finds a parked version a row repeats.
const parkedVersionSQL = `
SELECT id, body_hash FROM clearance_parked_waybills
WHERE tenant_id = $1 AND logistics_no = $2 AND guid = $3 AND app_time = $4 AND app_type = $5`

// parkWaybills stores waybill rows whose chain is unknown. A replay of a
// parked version takes its id; other content is ErrDocumentConflict.
func parkWaybills(ctx context.Context, tx *sqlx.Tx, rows []*docRow) error {
	if len(rows) == 0 {
		return nil
	}
	n := len(rows)
	ids := make([]uuid.UUID, n)
	carriers, orderNos, lns, msgs, guids, times, bodies, bys, subs := make([]string, n), make([]string, n), make([]string, n),
		make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	types, hashes := make([]int64, n), make([][]byte, n)
	for i, r := range rows {
		ids[i], carriers[i], orderNos[i], lns[i], msgs[i], guids[i] = r.ID, r.LogisticsCode, r.OrderNo, r.LogisticsNo, string(r.Message), r.GUID
		types[i], times[i], bodies[i], hashes[i], bys[i], subs[i] = int64(r.AppType), r.AppTime.Format(time.RFC3339Nano), string(r.Body), r.BodyHash, r.By, r.SubmitterTenant
	}
	var inserted []uuid.UUID
	if err := tx.SelectContext(ctx, &inserted, parkSQL, pq.Array(ids), pq.Array(carriers), pq.Array(orderNos), pq.Array(lns),
		pq.Array(msgs), pq.Array(guids), pq.Array(types), pq.Array(times), pq.Array(bodies), pq.ByteaArray(hashes), pq.Array(bys), pq.Array(subs)); err != nil {
		return fmt.Errorf("park %d waybills: %w", n, err)
	}
	done := make(map[uuid.UUID]bool, len(inserted))
	for _, id := range inserted {
		done[id] = true
	}
	for _, r := range rows {
		if done[r.ID] {
			continue
		}
		var st struct {
			ID   uuid.UUID `db:"id"`
			Hash []byte    `db:"body_hash"`
		}
		err := tx.GetContext(ctx, &st, parkedVersionSQL, r.LogisticsCode, r.LogisticsNo, r.GUID, r.AppTime, r.AppType)
		if err != nil || !bytes.Equal(st.Hash, r.BodyHash) {
			return ErrDocumentConflict.With("waybill %s %s (appType %d) was already stored with other content", r.LogisticsNo, r.GUID, r.AppType)
		}
		r.ID, r.replayed = st.ID, true
	}
	return nil
}

// takeParkedSQL locks the parked waybills of some order numbers.
const takeParkedSQL = `
SELECT id, tenant_id, order_no, logistics_no, message, guid, app_type, app_time, body::text AS body, body_hash,
	submitted_by, submitter_tenant
FROM clearance_parked_waybills WHERE order_no = ANY($1)
ORDER BY id FOR UPDATE`

type parkedRow struct {
	ID              uuid.UUID   `db:"id"`
	Carrier         string      `db:"tenant_id"`
	OrderNo         string      `db:"order_no"`
	LogisticsNo     string      `db:"logistics_no"`
	Message         MessageType `db:"message"`
	GUID            string      `db:"guid"`
	AppType         AppType     `db:"app_type"`
	AppTime         time.Time   `db:"app_time"`
	Body            string      `db:"body"`
	BodyHash        []byte      `db:"body_hash"`
	By              string      `db:"submitted_by"`
	SubmitterTenant string      `db:"submitter_tenant"`
}

// AttachWaybills moves the parked waybills of the given order numbers that
// now find their chain (rules 1 to 3) into it, keeping their ids, and
// schedules those chains. It runs after every Submit and from the sweeper.
func (s *Service) AttachWaybills(ctx context.Context, orderNos []string) error {
	var dirty []ChainKey
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		var parked []parkedRow
		if err := tx.SelectContext(ctx, &parked, takeParkedSQL, pq.Array(orderNos)); err != nil {
			return fmt.Errorf("take parked waybills: %w", err)
		}
		if len(parked) == 0 {
			return nil
		}
		rows := make([]*docRow, len(parked))
		for i, p := range parked {
			rows[i] = &docRow{ID: p.ID, OrderNo: p.OrderNo, Kind: KindWaybill, Message: p.Message, Direction: p.Message.Direction(),
				GUID: p.GUID, AppType: p.AppType, AppTime: p.AppTime.UTC(), LogisticsCode: p.Carrier, LogisticsNo: p.LogisticsNo,
				Body: []byte(p.Body), BodyHash: p.BodyHash, By: p.By, SubmitterTenant: p.SubmitterTenant}
		}
		if err := resolveWaybills(ctx, tx, rows); err != nil {
			return err
		}
		var attach []*docRow
		for _, r := range rows {
			if r.Tenant != "" {
				attach = append(attach, r)
			}
		}
		ids := make([]uuid.UUID, len(attach)) // before a replay renames a row
		for i, r := range attach {
			ids[i] = r.ID
		}
		var err error
		if dirty, err = insertDocuments(ctx, tx, attach); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM clearance_parked_waybills WHERE id = ANY($1)`, pq.Array(ids))
		return err
	})
	if errors.Is(err, ErrChainDirection) || errors.Is(err, ErrChainPartyConflict) {
		// Rolled back: a waybill of the other direction stays parked, and
		// an operator sees it in the logs; one whose chain another carrier
		// took meanwhile is no candidate at the next try.
		slog.WarnContext(ctx, "parked waybills not attached", "err", err)
		return nil
	}
	if err != nil {
		return fmt.Errorf("attach parked waybills: %w", err)
	}
	s.schedule(ctx, dirty)
	return nil
}
