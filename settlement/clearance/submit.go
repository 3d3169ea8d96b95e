package clearance

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
)

// Stored is the outcome of one submitted document.
type Stored struct {
	ID       uuid.UUID
	Document Document // sealed: its personal ID is a hash and a mask
	// Chain is the chain the document belongs to; EbpCode is "" while a
	// waybill without ebpCode waits for its chain (Parked).
	Chain    ChainKey
	Parked   bool
	Replayed bool // this version was stored before, with the same content
	// Body is the document's JSON as stored (its MarshalJSON, personal IDs
	// masked), for answering without encoding it again.
	Body []byte
}

// Submit stores documents (decoded and validated: DecodeJSON, DecodeXML),
// all or none, each as a new version of its chain, and schedules the chains
// for matching. Personal IDs are sealed first (in place): the number is
// never stored. A version stored before with the same content is a replay
// (Replayed, nothing written). Who may declare what (parties.go) is checked
// first from the documents alone, then against the chains in the statement
// that stores them.
//
// Errors: ErrBatchTooLarge (more than MaxBatch), ErrNotDeclarant (by is not
// the party a document names as its declarant), ErrChainPartyConflict (the
// chain's document of that kind is another party's), ErrDocumentConflict (a
// version stored before with other content), ErrChainDirection (an import
// document for an export chain, or the reverse).
func (s *Service) Submit(ctx context.Context, by Submitter, docs []Document) ([]Stored, error) {
	if len(docs) == 0 || len(docs) > MaxBatch {
		return nil, ErrBatchTooLarge.With("submit 1 to %d documents at once, got %d", MaxBatch, len(docs))
	}
	for i, d := range docs {
		if err := by.mayDeclare(i, d); err != nil {
			return nil, err
		}
	}
	rows := make([]*docRow, len(docs))
	for i, d := range docs {
		r, err := s.newRow(d, by)
		if err != nil {
			return nil, err
		}
		rows[i] = r
	}
	if err := sameDirection(rows); err != nil {
		return nil, err
	}
	var out []Stored
	var dirty []ChainKey
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		out, dirty, err = s.storeRows(ctx, tx, rows)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store %d documents: %w", len(docs), err)
	}
	var stored []*docRow
	for _, r := range rows {
		if !r.replayed && r.Tenant != "" {
			stored = append(stored, r)
		}
	}
	s.cache.put(stored)
	s.schedule(ctx, dirty)
	// A waybill stored meanwhile under its carrier may now find its chain,
	// and a waybill parked here may have missed a chain committed
	// concurrently: whichever of the two commits last sees the other here.
	orderNos := make([]string, len(rows))
	for i, r := range rows {
		orderNos[i] = r.OrderNo
	}
	if err := s.AttachWaybills(ctx, orderNos); err != nil {
		// The documents are stored; the sweeper attaches what this missed.
		slog.WarnContext(ctx, "attach parked waybills after a submit; the sweeper will retry", "err", err)
	}
	return out, nil
}

// newRow seals d and turns it into the row the store writes.
func (s *Service) newRow(d Document, by Submitter) (*docRow, error) {
	if err := SealPersonalIDs(d, s.key); err != nil {
		return nil, err
	}
	body, err := EncodeStored(d)
	if err != nil {
		return nil, fmt.Errorf("encode %s %s: %w", d.Kind(), d.Header().GUID, err)
	}
	sid, err := Sealed(d)
	if err != nil {
		return nil, err
	}
	h := d.Header()
	r := &docRow{ID: uuid.Must(uuid.NewV7()), Doc: d, Tenant: d.Key().EbpCode, OrderNo: d.Key().OrderNo,
		Kind: d.Kind(), Message: h.Message, GUID: h.GUID, AppType: h.AppType, AppTime: h.AppTime.UTC().Truncate(time.Microsecond),
		Body: body, SID: sid, BodyHash: Fingerprint(body, sid), By: by.By, SubmitterTenant: by.Tenant}
	if r.Kind != KindCancellation && r.Kind != KindReturn {
		r.Direction = d.Direction()
	}
	switch d := d.(type) {
	case *Waybill:
		r.LogisticsCode, r.LogisticsNo = d.LogisticsCode, d.LogisticsNo
	case *Inventory:
		r.LogisticsCode, r.LogisticsNo = d.LogisticsCode, d.LogisticsNo
	case *Order:
		r.PayCode = d.PayCode
	case *Payment:
		r.PayCode = d.PayCode
	}
	return r, nil
}

// sameDirection refuses a batch that mixes directions within one chain. A
// waybill without ebpCode is checked once its chain is known.
func sameDirection(rows []*docRow) error {
	dirs := map[ChainKey]Direction{}
	for _, r := range rows {
		if r.Direction == "" || r.Tenant == "" {
			continue
		}
		k := r.key()
		if d, ok := dirs[k]; ok && d != r.Direction {
			return ErrChainDirection.With("chain %s/%s gets both %s and %s documents", k.EbpCode, k.OrderNo, d, r.Direction)
		}
		dirs[k] = r.Direction
	}
	return nil
}

// storeRows writes one Submit in its transaction: it resolves the chains of
// waybills without ebpCode (parking those it cannot), then inserts the
// versions and creates or bumps their chains, in key order, in one
// statement that also checks their direction. It returns the outcome per
// row and the chains made dirty.
func (s *Service) storeRows(ctx context.Context, tx *sqlx.Tx, rows []*docRow) ([]Stored, []ChainKey, error) {
	if err := resolveWaybills(ctx, tx, rows); err != nil {
		return nil, nil, err
	}
	var chained, parked []*docRow
	for _, r := range rows {
		if r.Tenant == "" {
			parked = append(parked, r)
		} else {
			chained = append(chained, r)
		}
	}
	dirty, err := insertDocuments(ctx, tx, chained)
	if err != nil {
		return nil, nil, err
	}
	if err := parkWaybills(ctx, tx, parked); err != nil {
		return nil, nil, err
	}
	out := make([]Stored, len(rows))
	for i, r := range rows {
		out[i] = Stored{ID: r.ID, Document: r.Doc, Chain: r.key(), Parked: r.Tenant == "", Replayed: r.replayed, Body: r.Body}
	}
	return out, dirty, nil
}

// sortedKeys returns the distinct chain keys of rows in key order, the
// order in which every writer locks chains.
func sortedKeys(rows []*docRow) []ChainKey {
	keys := make([]ChainKey, 0, len(rows))
	for _, r := range rows {
		keys = append(keys, r.key())
	}
	slices.SortFunc(keys, compareKeys)
	return slices.Compact(keys)
}

func compareKeys(a, b ChainKey) int {
	return cmp.Or(cmp.Compare(a.EbpCode, b.EbpCode), cmp.Compare(a.OrderNo, b.OrderNo))
}
