package clearance

import (
	"reflect"
	"slices"
	"testing"
)

func TestStoredFixturesMatch(t *testing.T) {
	t.Parallel()
	b := storeSetup(t)
	docs := append(fixtureDocs(t, order1), fixtureDocs(t, order2)...)
	stored := b.submit(docs...)
	for _, s := range stored {
		if s.Parked || s.Replayed || s.Chain.EbpCode != "4403960001" {
			t.Fatalf("stored %+v", s)
		}
	}
	k1, k2 := ChainKey{"4403960001", order1}, ChainKey{"4403960001", order2}
	v1 := verdictOf(t, b.match(k1, k2))
	if v1.Status != StatusVerified || v1.Tax == nil || v1.Tax.Total != "28.21" {
		t.Fatalf("order 1: %+v", v1)
	}
	v2 := verdictOf(t, b.chain(k2))
	if v2.Status != StatusMismatched || !slices.Equal(v2.Missing, []Kind{KindInventory}) ||
		!slices.Equal(failures(v2.Failed), []string{"PAID_AMOUNT PAYMENT amountPaid"}) {
		t.Fatalf("order 2: %+v", v2)
	}
	if n := b.count("trade_chains"); n != 1 {
		t.Fatalf("%d trade chains, want 1", n)
	}
}

// TestCachedDocumentsAreStoredOnes: what the document cache gives the
// matcher is what it would decode from the store (which keeps the JSON as
// jsonb: other key order, other escapes), for every kind, with text that
// encoding escapes.
func TestCachedDocumentsAreStoredOnes(t *testing.T) {
	t.Parallel()
	b := storeSetup(t)
	o, p, w, i := chainDocs(t, "CACHE1", 9601)
	o.ConsigneeAddress, w.ConsigneeAddress = `深圳 <"Nanshan"> & \ 1号`, `深圳 <"Nanshan"> & \ 1号`
	o.Note, i.Lines[0].ItemName = "tab\there\u2028", "奶粉\n900g"
	b.submit(o, p, w, i)
	docs, err := loadDocsInForce(b.ctx, b.db, []ChainKey{{ebp, "CACHE1"}})
	if err != nil || len(docs) != 4 {
		t.Fatalf("%d documents, %v", len(docs), err)
	}
	for _, sd := range docs {
		cached := b.svc.cache.get(sd.ID)
		fromStore, err := sd.decode()
		if err != nil || cached == nil {
			t.Fatalf("%s: cached %v, %v", sd.Kind, cached, err)
		}
		if !reflect.DeepEqual(cached, fromStore) {
			t.Errorf("%s: cached\n%+v\nstored\n%+v", sd.Kind, cached, fromStore)
		}
	}
}
