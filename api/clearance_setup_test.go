package api_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/xbsettle/xbsettle/api"
	"github.com/xbsettle/xbsettle/internal/testenv"
	"github.com/xbsettle/xbsettle/settlement/clearance"
)

// Enterprise codes of the fixtures: platform, seller, payment institution,
// carrier; and a platform that is party to nothing.
const (
	codePlatform = "4403960001"
	codeSeller   = "4403960002"
	codePayer    = "4403169D3W"
	codeCarrier  = "4403980001"
	codeStranger = "4403960009"
)

// clearanceBundle is the API with the clearance over a fresh database, a
// real Asynq worker running the match tasks, and every log line (server,
// domain, worker) captured in logs.
type clearanceBundle struct {
	*bundle
	svc  *clearance.Service
	logs *syncBuffer

	platform, seller, payer, carrier, stranger, fx, bank string
	bodies                                               *syncBuffer // every response body, for the privacy checks
}

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func clearanceSetup(t testing.TB) *clearanceBundle {
	t.Helper()
	db := testenv.NewDB(t, 40)
	ropt := testenv.Redis(t)
	client := asynq.NewClient(ropt)
	t.Cleanup(func() { client.Close() })
	svc, err := clearance.NewService(db, []byte("api-test-secret-key-0123456789abcdef"), clearance.NewTaskScheduler(client))
	if err != nil {
		t.Fatal(err)
	}
	var es []clearance.Enterprise
	for _, c := range []string{codePlatform, codeSeller, codePayer, codeCarrier, codeStranger} {
		es = append(es, clearance.Enterprise{CustomsCode: c, Name: "Enterprise " + c, Kind: "seller"})
	}
	if err := svc.RegisterEnterprises(context.Background(), es); err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	worker := asynq.NewServer(ropt, asynq.Config{
		Concurrency:              8,
		Queues:                   map[string]int{clearance.QueueName: 1},
		DelayedTaskCheckInterval: 100 * time.Millisecond,
		Logger:                   asynqLogs{logger},
		LogLevel:                 asynq.DebugLevel,
		ErrorHandler: asynq.ErrorHandlerFunc(func(ctx context.Context, task *asynq.Task, err error) {
			logger.WarnContext(ctx, "task failed", "type", task.Type(), "payload", string(task.Payload()), "err", err)
		}),
	})
	mux := asynq.NewServeMux()
	clearance.RegisterTasks(mux, svc)
	if err := worker.Start(mux); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(worker.Shutdown)

	keys := api.NewKeyStore(db)
	server := api.New(api.Deps{Clearance: svc, Keys: keys, Logger: logger})
	ts := httptest.NewServer(server.Handler())
	t.Cleanup(ts.Close)
	b := &clearanceBundle{bundle: &bundle{t: t, db: db, keys: keys, server: server, url: ts.URL,
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}, svc: svc, logs: logs, bodies: &syncBuffer{}}
	t.Cleanup(b.client.CloseIdleConnections)
	b.admin = b.key(api.RoleAdmin, "")
	b.platform = b.key(api.RolePlatform, codePlatform)
	b.seller = b.key(api.RolePlatform, codeSeller)
	b.payer = b.key(api.RolePaymentInstitution, codePayer)
	b.carrier = b.key(api.RoleCarrier, codeCarrier)
	b.stranger = b.key(api.RolePlatform, codeStranger)
	b.fx = b.key(api.RoleFXBureau, "")
	b.bank = b.key(api.RoleBank, codeStranger)
	return b
}

// asynqLogs sends the worker's own logs to the captured logger.
type asynqLogs struct{ l *slog.Logger }

func (a asynqLogs) Debug(args ...any) { a.l.Debug(fmt.Sprint(args...)) }
func (a asynqLogs) Info(args ...any)  { a.l.Info(fmt.Sprint(args...)) }
func (a asynqLogs) Warn(args ...any)  { a.l.Warn(fmt.Sprint(args...)) }
func (a asynqLogs) Error(args ...any) { a.l.Error(fmt.Sprint(args...)) }
func (a asynqLogs) Fatal(args ...any) { a.l.Error(fmt.Sprint(args...)) }

// send does a request and keeps its response body for the privacy checks.
func (b *clearanceBundle) send(r req) response {
	b.t.Helper()
	resp := b.do(r)
	b.bodies.Write(resp.Body)
	return resp
}

// postJSON posts a document (or batch) and expects status.
func (b *clearanceBundle) postJSON(path, key string, body any, status int) response {
	b.t.Helper()
	r := b.send(req{method: "POST", path: path, key: key, body: body})
	if r.Status != status {
		b.t.Fatalf("POST %s: %d, want %d: %s", path, r.Status, status, r.Body)
	}
	return r
}

// postXML posts a CEB message.
func (b *clearanceBundle) postXML(path, key, xml string) response {
	b.t.Helper()
	return b.send(req{method: "POST", path: path, key: key, body: xml, headers: []string{"Content-Type", "application/xml"}})
}

// drain waits until the worker has matched every dirty chain.
func (b *clearanceBundle) drain() {
	b.t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		var dirty int
		if err := b.db.Get(&dirty, `SELECT count(*) FROM clearance_chains WHERE dirty_version > clean_version`); err != nil {
			b.t.Fatal(err)
		}
		if dirty == 0 {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("%d chains still dirty after 90 s; logs:\n%s", dirty, tail(b.logs.String(), 4000))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}

// chainView is the part of a chain answer tests read.
type chainView struct {
	Verdict     string `json:"verdict"`
	State       string `json:"state"`
	Pending     bool   `json:"pending"`
	Missing     []string
	FailedRules []struct {
		Code     string `json:"code"`
		Document string `json:"document"`
		Field    string `json:"field"`
	} `json:"failed_rules"`
	Tax *struct {
		TaxablePrice string `json:"taxable_price"`
		Total        string `json:"total"`
	} `json:"tax"`
	Documents map[string]storedDoc `json:"documents"`
}

// storedDoc is the part of a document answer tests read.
type storedDoc struct {
	ID      string         `json:"id"`
	Kind    string         `json:"kind"`
	Chain   *chainKey      `json:"chain"`
	Receipt receipt        `json:"receipt"`
	Doc     map[string]any `json:"document"`
}

type chainKey struct {
	EbpCode string `json:"ebpCode"`
	OrderNo string `json:"orderNo"`
}

type receipt struct {
	Document string   `json:"document"`
	Status   int      `json:"status"`
	Rules    []string `json:"rules"`
}

// chain reads a chain with key, expecting 200.
func (b *clearanceBundle) chain(key, ebp, orderNo string) chainView {
	b.t.Helper()
	r := b.send(req{method: "GET", path: "/v1/chains/" + ebp + "/" + orderNo, key: key})
	if r.Status != http.StatusOK {
		b.t.Fatalf("GET chain %s/%s: %d %s", ebp, orderNo, r.Status, r.Body)
	}
	var v chainView
	r.into(b.t, &v)
	return v
}

// failedCodes lists a chain's failed rule codes, once each.
func (v chainView) failedCodes() []string {
	var out []string
	for _, f := range v.FailedRules {
		if len(out) == 0 || out[len(out)-1] != f.Code {
			out = append(out, f.Code)
		}
	}
	return out
}

// clearanceRows counts the rows of every clearance table.
func (b *clearanceBundle) clearanceRows() int {
	b.t.Helper()
	total := 0
	for _, table := range []string{"clearance_documents", "clearance_parked_waybills", "clearance_chains", "clearance_verdicts"} {
		var n int
		if err := b.db.Get(&n, "SELECT count(*) FROM "+table); err != nil {
			b.t.Fatal(err)
		}
		total += n
	}
	return total
}

// residentID makes a resident ID number with a right GB 11643 check
// character from a serial number.
func residentID(n int) string {
	weights := [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	s := fmt.Sprintf("1101011985%07d", n)
	sum := 0
	for i, w := range weights {
		sum += int(s[i]-'0') * w
	}
	return s + string("10X98765432"[sum%11])
}

// maskOf is how a resident ID number may appear.
func maskOf(id string) string { return id[:4] + strings.Repeat("*", 10) + id[14:] }
