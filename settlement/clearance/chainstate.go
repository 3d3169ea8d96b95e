package clearance

import "fmt"

// ChainState holds the current version of each of a chain's documents as
// they arrive, in any order and any number of times, so that the final set
// depends only on which versions arrived, never on their order. It is the
// in-memory model of what the store does with SQL; use Supersedes for the
// same ordering there.
type ChainState struct {
	key  ChainKey
	dir  Direction
	docs map[Kind]Document // latest version of each kind, deletions included
}

// NewChainState returns an empty chain named key.
func NewChainState(key ChainKey) *ChainState {
	return &ChainState{key: key, docs: make(map[Kind]Document, len(Kinds))}
}

// Supersedes reports whether version next of a document replaces version
// cur: the later appTime wins; at the same appTime the higher appType
// (a delete over a change over a new); then the greater guid. The same
// (appTime, appType, guid) is the same version, a replay: it does not.
func Supersedes(next, cur *Head) bool {
	if c := next.AppTime.Compare(cur.AppTime); c != 0 {
		return c > 0
	}
	if next.AppType != cur.AppType {
		return next.AppType > cur.AppType
	}
	return next.GUID > cur.GUID
}

// Apply takes one version of a document. It reports whether the chain
// changed; a stale version or a replay changes nothing. A delete (appType 3)
// that supersedes the current version removes the document from Chain; a
// later new version brings it back.
//
// Errors: ErrChainKeyMismatch when d names another chain (a waybill without
// ebpCode matches on orderNo alone), ErrDirectionConflict when d's direction
// is not the chain's.
func (s *ChainState) Apply(d Document) (bool, error) {
	k := d.Key()
	if k.OrderNo != s.key.OrderNo || k.EbpCode != s.key.EbpCode && !(k.EbpCode == "" && d.Kind() == KindWaybill) {
		return false, fmt.Errorf("apply %s %s/%s to chain %s/%s: %w", d.Kind(), k.EbpCode, k.OrderNo, s.key.EbpCode, s.key.OrderNo, ErrChainKeyMismatch)
	}
	if s.dir != "" && d.Direction() != s.dir {
		return false, fmt.Errorf("apply %s %s to %s chain %s/%s: %w", d.Direction(), d.Kind(), s.dir, k.EbpCode, k.OrderNo, ErrDirectionConflict)
	}
	if cur, ok := s.docs[d.Kind()]; ok && !Supersedes(d.Header(), cur.Header()) {
		return false, nil
	}
	s.dir = d.Direction()
	s.docs[d.Kind()] = d
	return true, nil
}

// Chain returns the current documents, deleted ones left out, with no
// Facts: the caller adds them before calling Match.
func (s *ChainState) Chain() Chain {
	var c Chain
	for _, d := range s.docs {
		if d.Header().AppType == AppDelete {
			continue
		}
		switch d := d.(type) {
		case *Order:
			c.Order = d
		case *Payment:
			c.Payment = d
		case *Waybill:
			c.Waybill = d
		case *Inventory:
			c.Inventory = d
		}
	}
	return c
}
