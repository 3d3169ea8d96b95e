package clearance

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/xbsettle/xbsettle/internal/testenv"
)

// testKey keys the ID hashes in store tests.
var testKey = []byte("clearance-store-test-key-0123456789abcdef")

// storeBundle is a service on a fresh database with the fixtures'
// enterprises registered.
type storeBundle struct {
	t   testing.TB
	ctx context.Context
	db  *sqlx.DB
	svc *Service
}

func storeSetup(t testing.TB) *storeBundle {
	t.Helper()
	db := testenv.NewDB(t, 20)
	svc, err := NewService(db, testKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	b := &storeBundle{t: t, ctx: context.Background(), db: db, svc: svc}
	var es []Enterprise
	for code := range testRegistry {
		es = append(es, Enterprise{CustomsCode: code, Name: "Enterprise " + code, Kind: "seller"})
	}
	if err := svc.RegisterEnterprises(b.ctx, es); err != nil {
		t.Fatal(err)
	}
	return b
}

// submit stores documents as an admin, expecting success.
func (b *storeBundle) submit(docs ...Document) []Stored {
	b.t.Helper()
	out, err := b.svc.Submit(b.ctx, Submitter{By: "test"}, docs)
	if err != nil {
		b.t.Fatalf("submit: %v", err)
	}
	return out
}

// match evaluates the chains and returns the first one's view.
func (b *storeBundle) match(keys ...ChainKey) ChainView {
	b.t.Helper()
	if err := b.svc.MatchChains(b.ctx, keys); err != nil {
		b.t.Fatalf("match: %v", err)
	}
	return b.chain(keys[0])
}

func (b *storeBundle) chain(k ChainKey) ChainView {
	b.t.Helper()
	v, err := b.svc.Chain(b.ctx, k)
	if err != nil {
		b.t.Fatalf("chain %v: %v", k, err)
	}
	return v
}

// verdictOf decodes a chain view's verdict.
func verdictOf(t testing.TB, v ChainView) (out struct {
	Status   Status        `json:"verdict"`
	Missing  []Kind        `json:"missing"`
	Failed   []RuleFailure `json:"failed_rules"`
	Warnings []RuleFailure `json:"warnings"`
	Tax      *struct {
		TaxablePrice string `json:"taxable_price"`
		Total        string `json:"total"`
	} `json:"tax"`
}) {
	t.Helper()
	if err := json.Unmarshal(v.Verdict, &out); err != nil {
		t.Fatalf("decode verdict %s: %v", v.Verdict, err)
	}
	return out
}

// count returns the number of rows of table.
func (b *storeBundle) count(table string) int {
	b.t.Helper()
	var n int
	if err := b.db.Get(&n, "SELECT count(*) FROM "+table); err != nil {
		b.t.Fatal(err)
	}
	return n
}
