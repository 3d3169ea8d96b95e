package clearance

import (
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
	if v1.Status != StatusVerified || v1.Tax == nil || v1.Tax.Total != "26.39" {
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
