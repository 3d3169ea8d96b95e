package clearance

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

// permutations returns every ordering of 0..n-1 (Heap's algorithm).
func permutations(n int) [][]int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	var out [][]int
	var gen func(k int)
	gen = func(k int) {
		if k == 1 {
			out = append(out, append([]int(nil), p...))
			return
		}
		for i := range k {
			gen(k - 1)
			if k%2 == 0 {
				p[i], p[k-1] = p[k-1], p[i]
			} else {
				p[0], p[k-1] = p[k-1], p[0]
			}
		}
	}
	gen(n)
	return out
}

// applyAll feeds docs to a new ChainState in the order perm and matches.
func applyAll(t *testing.T, key ChainKey, docs []Document, perm []int) Verdict {
	t.Helper()
	s := NewChainState(key)
	for _, i := range perm {
		if _, err := s.Apply(docs[i]); err != nil {
			t.Fatalf("apply %s: %v", docs[i].Kind(), err)
		}
	}
	c := s.Chain()
	c.Facts = Facts{Registry: testRegistry, Tariff: testTariff}
	return Match(c)
}

// assertSameVerdict applies docs in every order and checks that all end in
// want, both by Verdict.Equal and field by field.
func assertSameVerdict(t *testing.T, key ChainKey, docs []Document, want Status) {
	t.Helper()
	perms := permutations(len(docs))
	first := applyAll(t, key, docs, perms[0])
	if first.Status != want {
		t.Fatalf("verdict %s %q, want %s", first.Status, failures(first.Failed), want)
	}
	for _, perm := range perms[1:] {
		v := applyAll(t, key, docs, perm)
		if !v.Equal(first) || !reflect.DeepEqual(v, first) {
			t.Fatalf("order %v: verdict %+v, differs from %+v", perm, v, first)
		}
	}
	if len(perms) < 24 {
		t.Fatalf("only %d orders tried", len(perms))
	}
}

func TestAllArrivalOrdersGiveTheSameVerdict(t *testing.T) {
	t.Parallel()
	t.Run("verified chain, 24 orders", func(t *testing.T) {
		t.Parallel()
		assertSameVerdict(t, ChainKey{"4403960001", order1}, fixtureDocs(t, order1), StatusVerified)
	})
	t.Run("mismatched chain, 24 orders", func(t *testing.T) {
		t.Parallel()
		docs := append(fixtureDocs(t, order2), order2Inventory(t))
		assertSameVerdict(t, ChainKey{"4403960001", order2}, docs, StatusMismatched)
	})
	t.Run("versions, deletes and a replay, 5040 orders", func(t *testing.T) {
		t.Parallel()
		docs := fixtureDocs(t, order1) // order, payment, waybill, inventory at 09:30–10:30
		// A first order version, stale: its acturalPaid would fail.
		stale := *docs[0].(*Order)
		stale.GUID, stale.AppTime, stale.ActuralPaid = "OLD", stale.AppTime.Add(-time.Minute), dec("1.00")
		// The inventory is deleted, then declared again.
		inv := docs[3].(*Inventory)
		deleted, again := *inv, *inv
		deleted.GUID, deleted.AppType, deleted.AppTime = "DEL", AppDelete, inv.AppTime.Add(time.Minute)
		again.GUID, again.AppType, again.AppTime = "AGAIN", AppNew, inv.AppTime.Add(2*time.Minute)
		docs = append(docs, &stale, &deleted, &again)
		assertSameVerdict(t, ChainKey{"4403960001", order1}, docs, StatusVerified)
	})
	t.Run("a final delete leaves the chain incomplete", func(t *testing.T) {
		t.Parallel()
		docs := fixtureDocs(t, order1)
		deleted := *docs[2].(*Waybill)
		deleted.AppType, deleted.AppTime = AppDelete, deleted.AppTime.Add(time.Hour)
		docs = append(docs, &deleted)
		assertSameVerdict(t, ChainKey{"4403960001", order1}, docs, StatusIncomplete)
	})
}

func TestChainStateApply(t *testing.T) {
	t.Parallel()
	docs := fixtureDocs(t, order1)
	s := NewChainState(ChainKey{"4403960001", order1})
	for _, d := range docs {
		if changed, err := s.Apply(d); !changed || err != nil {
			t.Fatalf("first apply of %s: changed %v, err %v", d.Kind(), changed, err)
		}
	}
	if changed, err := s.Apply(docs[0]); changed || err != nil {
		t.Errorf("replay: changed %v, err %v; want no change", changed, err)
	}
	other := fixtureDocs(t, order2)[0]
	if _, err := s.Apply(other); !errors.Is(err, ErrChainKeyMismatch) {
		t.Errorf("other chain's order: err %v, want ErrChainKeyMismatch", err)
	}
	export := *docs[1].(*Payment)
	export.Message, export.AppTime = CEB403, export.AppTime.Add(time.Hour)
	if _, err := s.Apply(&export); !errors.Is(err, ErrDirectionConflict) {
		t.Errorf("export receipt in an import chain: err %v, want ErrDirectionConflict", err)
	}
}

func TestSupersedes(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2015, 11, 11, 1, 30, 0, 0, time.UTC)
	tests := []struct {
		name      string
		next, cur Head
		want      bool
	}{
		{"later time wins", Head{AppTime: t0.Add(time.Second), AppType: AppNew}, Head{AppTime: t0, AppType: AppChange}, true},
		{"earlier time loses", Head{AppTime: t0, AppType: AppDelete}, Head{AppTime: t0.Add(time.Second), AppType: AppNew}, false},
		{"same time: change over new", Head{AppTime: t0, AppType: AppChange}, Head{AppTime: t0, AppType: AppNew}, true},
		{"same time: delete over change", Head{AppTime: t0, AppType: AppDelete}, Head{AppTime: t0, AppType: AppChange}, true},
		{"same time and type: greater guid", Head{AppTime: t0, AppType: AppNew, GUID: "B"}, Head{AppTime: t0, AppType: AppNew, GUID: "A"}, true},
		{"replay", Head{AppTime: t0, AppType: AppNew, GUID: "A"}, Head{AppTime: t0, AppType: AppNew, GUID: "A"}, false},
	}
	for _, tt := range tests {
		if got := Supersedes(&tt.next, &tt.cur); got != tt.want {
			t.Errorf("%s: Supersedes = %v, want %v", tt.name, got, tt.want)
		}
	}
}
