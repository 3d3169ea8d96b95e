package clearance

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/hibiken/asynq"
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
	out, err := b.svc.Submit(b.ctx, Submitter{By: "test", Role: RoleAdmin}, docs)
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
	v, err := b.svc.Chain(b.ctx, operator, k)
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

// taskRunner is a Scheduler that runs the match task at once, through the
// task handler RegisterTasks installs, as a worker would.
type taskRunner struct {
	t   testing.TB
	mux *asynq.ServeMux
}

func newTaskRunner(t testing.TB, svc *Service) *taskRunner {
	mux := asynq.NewServeMux()
	RegisterTasks(mux, svc)
	return &taskRunner{t: t, mux: mux}
}

func (r *taskRunner) ScheduleMatch(ctx context.Context, chains []ChainKey) error {
	payload, err := json.Marshal(matchPayload{Chains: chains})
	if err != nil {
		return err
	}
	if err := r.mux.ProcessTask(ctx, asynq.NewTask(TaskMatch, payload)); err != nil {
		r.t.Errorf("match task: %v", err)
	}
	return nil
}

// withTasks makes every Submit run its match task before returning.
func (b *storeBundle) withTasks() *storeBundle {
	b.svc.sched = newTaskRunner(b.t, b.svc)
	return b
}

// residentID makes a resident ID number with a right GB 11643 check
// character from a serial number.
func residentID(n int) string {
	s := fmt.Sprintf("4403051990%07d", n)
	sum := 0
	for i, w := range gb11643Weights {
		sum += int(s[i]-'0') * w
	}
	return s + string(gb11643Check[sum%11])
}

// chainDocs returns fixture order 1's four documents as a chain of its own:
// its order number, document numbers and buyer.
func chainDocs(t testing.TB, orderNo string, buyer int) (*Order, *Payment, *Waybill, *Inventory) {
	t.Helper()
	docs := fixtureDocs(t, order1)
	o, p, w, i := docs[0].(*Order), docs[1].(*Payment), docs[2].(*Waybill), docs[3].(*Inventory)
	id := ParsePersonalID(residentID(buyer))
	o.OrderNo, o.GUID, o.PayTransactionID, o.BuyerIDNumber = orderNo, orderNo+"-O", "PAY-"+orderNo, id
	p.OrderNo, p.GUID, p.PayTransactionID, p.PayerIDNumber = orderNo, orderNo+"-P", "PAY-"+orderNo, id
	w.OrderNo, w.GUID, w.LogisticsNo = orderNo, orderNo+"-W", "LN-"+orderNo
	i.OrderNo, i.GUID, i.LogisticsNo, i.CopNo, i.BuyerIDNumber = orderNo, orderNo+"-I", "LN-"+orderNo, "COP-"+orderNo, id
	return o, p, w, i
}

// ebp is the fixtures' platform.
const ebp = "4403960001"
