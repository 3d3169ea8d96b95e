// Package bench is the load generator behind `xbsettle bench` (make bench):
// it starts the real API in-process on a fresh database, drives it over
// HTTP from many clients and reports throughput and latency per scenario.
package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"github.com/jmoiron/sqlx"

	"github.com/xbsettle/xbsettle/api"
	"github.com/xbsettle/xbsettle/internal/db"
	"github.com/xbsettle/xbsettle/ledger"
	"github.com/xbsettle/xbsettle/risk"
	"github.com/xbsettle/xbsettle/settlement/clearance"
)

// Config says what to run and where.
type Config struct {
	ServerURL string        // superuser URL of a PostgreSQL server; a fresh database is made on it
	Scenarios []string      // names to run; empty runs all
	Duration  time.Duration // how long each timed scenario runs
	PoolSize  int           // PostgreSQL connections of the API (and its in-process worker)
	RedisAddr string        // Redis for the clearance's Asynq tasks; "" skips the clearance
	RedisDB   int           // its logical database
	Workers   int           // Asynq worker concurrency
	Chains    int           // chains of the clearance scenario; 0 means DefaultChains
}

// Result is one scenario's figures.
type Result struct {
	Scenario string  `json:"scenario"`
	Entries  int64   `json:"entries"` // entries, or documents for the clearance
	Chains   int64   `json:"chains,omitempty"`
	Errors   int64   `json:"errors"`
	Seconds  float64 `json:"seconds"`
	// IngestSeconds is how long the clearance's posting took; matching
	// ends later.
	IngestSeconds float64 `json:"ingest_seconds,omitempty"`
	PerSecond     float64 `json:"entries_per_second"`
	P50ms         float64 `json:"p50_ms,omitempty"`
	P99ms         float64 `json:"p99_ms,omitempty"`
	Target        string  `json:"target"`
	Met           bool    `json:"met"`
	Usage         *Usage  `json:"usage,omitempty"` // during the timed part
}

// Report is what bench.json holds.
type Report struct {
	StartedAt time.Time `json:"started_at"`
	CPUs      int       `json:"cpus"`
	GoVersion string    `json:"go_version"`
	Durable   string    `json:"postgres_synchronous_commit"`
	Results   []Result  `json:"results"`
}

type scenario struct {
	name string
	run  func(ctx context.Context, h *harness) (Result, error)
}

var scenarios = []scenario{
	{"single", singleEntries},
	{"bulk", bulkEntries},
	{"hot", hotAccount},
	{"clearance", clearanceChains},
	{"credit", creditAssessment},
}

// Run sets up the stack, runs the scenarios and returns the report.
func Run(ctx context.Context, cfg Config, log io.Writer) (Report, error) {
	h, err := start(ctx, cfg, log)
	if err != nil {
		return Report{}, err
	}
	defer h.stop()
	rep := Report{StartedAt: time.Now().UTC(), CPUs: runtime.NumCPU(), GoVersion: runtime.Version()}
	if err := h.db.GetContext(ctx, &rep.Durable, `SHOW synchronous_commit`); err != nil {
		return rep, err
	}
	for _, s := range scenarios {
		if len(cfg.Scenarios) > 0 && !slices.Contains(cfg.Scenarios, s.name) {
			continue
		}
		fmt.Fprintf(log, "running %s…\n", s.name)
		// As pgbench does: what the scenario before wrote is vacuumed now,
		// not by an autovacuum worker in the middle of this one's clock. (In
		// one run the hot account fell from ~7,900 to 3,100 entries/s with
		// PostgreSQL's CPU up 80%, most likely vacuuming bulk's rows.)
		if _, err := h.db.ExecContext(ctx, `VACUUM (ANALYZE)`); err != nil {
			return rep, fmt.Errorf("vacuum before %s: %w", s.name, err)
		}
		r, err := s.run(ctx, h)
		if err != nil {
			return rep, fmt.Errorf("scenario %s: %w", s.name, err)
		}
		rep.Results = append(rep.Results, r)
	}
	return rep, nil
}

// PrintTable writes the report as an aligned table.
func PrintTable(w io.Writer, rep Report) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\tentries\terrors\tseconds\tentries/s\tp50 ms\tp99 ms\tcores: bench / pg\ttarget\tmet\t")
	for _, r := range rep.Results {
		cores := "-"
		if r.Usage != nil {
			cores = fmt.Sprintf("%.2f / %.2f", r.Usage.BenchCores, r.Usage.PostgresCores)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.1f\t%.0f\t%.2f\t%.2f\t%s\t%s\t%v\t\n", r.Scenario, r.Entries, r.Errors, r.Seconds, r.PerSecond, r.P50ms, r.P99ms, cores, r.Target, r.Met)
	}
	tw.Flush()
	fmt.Fprintln(w, "\nPostgreSQL backends busy in an average sample (every 100 ms), and what they did:")
	for _, r := range rep.Results {
		if r.Usage != nil && len(r.Usage.Waits) > 0 {
			fmt.Fprintf(w, "  %-10s %.2f: %s\n", r.Scenario, r.Usage.Busy(), r.Usage.TopWaits(4))
		}
	}
}

// harness is the running stack and a client for it.
type harness struct {
	cfg       Config
	log       io.Writer
	db        *sqlx.DB
	ledger    *ledger.Service
	clearance *clearance.Service // nil without Redis
	risk      *risk.Service
	redis     asynq.RedisClientOpt
	queue     *asynq.Client
	keys      *api.KeyStore
	srv       *api.Server
	dsn       string // the bench database
	base      string
	key       string
	client    *http.Client
	drop      func()
}

// appRole is the role the bench's API connects as.
const appRole = "xbsettle_app"

func start(ctx context.Context, cfg Config, log io.Writer) (*harness, error) {
	admin, err := db.Open(ctx, cfg.ServerURL, 1)
	if err != nil {
		return nil, err
	}
	name := "xbs_bench_" + strings.ReplaceAll(uuid.NewString(), "-", "")[:12]
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close()
		return nil, fmt.Errorf("create bench database: %w", err)
	}
	h := &harness{cfg: cfg, log: log, drop: func() {
		_, _ = admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
		admin.Close()
	}}
	// Migrated by the server's user, served as the app role, as deployed.
	u, _ := url.Parse(cfg.ServerURL)
	u.Path = "/" + name
	owner, err := db.Open(ctx, u.String(), 1)
	if err != nil {
		h.drop()
		return nil, err
	}
	err = db.Migrate(ctx, owner, appRole)
	owner.Close()
	if err != nil {
		h.drop()
		return nil, err
	}
	u.User = url.User(appRole)
	h.dsn = u.String()
	if h.db, err = db.Open(ctx, h.dsn, cfg.PoolSize); err != nil {
		h.drop()
		return nil, err
	}
	h.ledger = ledger.NewService(h.db, nil, ledger.WithBatching(max(1, cfg.PoolSize/4), ledger.MaxBatch))
	h.keys = api.NewKeyStore(h.db)
	if _, h.key, err = h.keys.Create(ctx, api.Role("payment_institution"), "BENCH00001"); err != nil {
		h.stop()
		return nil, err
	}
	if cfg.RedisAddr != "" {
		// The API schedules matching on Redis as in production; the
		// clearance scenario starts the worker that runs it.
		h.redis = asynq.RedisClientOpt{Addr: cfg.RedisAddr, DB: cfg.RedisDB}
		h.queue = asynq.NewClient(h.redis)
		if h.clearance, err = clearance.NewService(h.db, newSecretKey(), clearance.NewTaskScheduler(h.queue)); err != nil {
			h.stop()
			return nil, err
		}
	}
	// The access log would cost the server as much as some requests; the
	// bench keeps warnings and errors only.
	quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	// Without an enqueuer: the credit scenario runs the worker's handler itself.
	if h.risk, err = risk.NewService(h.db); err != nil {
		h.stop()
		return nil, err
	}
	h.srv = api.New(api.Deps{Ledger: h.ledger, Clearance: h.clearance, Risk: h.risk, Keys: h.keys, Logger: quiet})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		h.stop()
		return nil, err
	}
	go h.srv.Serve(ln) //nolint:errcheck // ends with Shutdown
	h.base = "http://" + ln.Addr().String()
	h.client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256}}
	return h, nil
}

func (h *harness) stop() {
	if h.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = h.srv.Shutdown(ctx)
	}
	if h.ledger != nil {
		h.ledger.Close()
	}
	if h.queue != nil {
		h.queue.Close()
	}
	if h.db != nil {
		h.db.Close()
	}
	h.drop()
}

// do sends one request, with the header names and values given in pairs,
// and decodes a JSON answer into out (if not nil).
func (h *harness) do(ctx context.Context, method, path, idemKey string, body, out any, header ...string) (int, error) {
	return h.doAs(ctx, h.key, method, path, idemKey, body, out, header...)
}

// doAs is do with another API key.
func (h *harness) doAs(ctx context.Context, key, method, path, idemKey string, body, out any, header ...string) (int, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, method, h.base+path, bytes.NewReader(b))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	if idemKey != "" {
		req.Header.Set("Idempotency-Key", idemKey)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if out != nil && resp.StatusCode < 300 {
		return resp.StatusCode, json.NewDecoder(resp.Body).Decode(out)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

// accounts opens n accounts of one kind and returns their ids.
func (h *harness) accounts(ctx context.Context, prefix string, n int, kind ledger.Kind) ([]string, error) {
	ids := make([]string, n)
	var failed atomic.Value
	parallel(16, n, func(i int) {
		var out struct {
			ID string `json:"id"`
		}
		code, err := h.do(ctx, http.MethodPost, "/v1/accounts", "", map[string]any{"code": fmt.Sprintf("%s:%d", prefix, i), "currency": "CNY", "kind": kind}, &out)
		if err != nil || code != http.StatusCreated {
			failed.Store(fmt.Errorf("open account %d: status %d: %v", i, code, err))
		}
		ids[i] = out.ID
	})
	if err, _ := failed.Load().(error); err != nil {
		return nil, err
	}
	return ids, nil
}

// parallel runs fn(0..n-1) on k goroutines.
func parallel(k, n int, fn func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range k {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				fn(i)
			}
		}()
	}
	wg.Wait()
}

// entryBody is a two-posting entry as the API takes it. A struct, not a
// map: the load generator shares the two cores with what it measures, and
// encoding/json sorts a map's keys on every call.
type entryBody struct {
	IdempotencyKey string        `json:"idempotency_key,omitempty"`
	Postings       []postingBody `json:"postings"`
}

type postingBody struct {
	AccountID string `json:"account_id"`
	Direction string `json:"direction"`
	Amount    string `json:"amount"`
}

func entry(from, to, amount string) entryBody {
	return entryBody{Postings: []postingBody{
		{AccountID: from, Direction: "debit", Amount: amount},
		{AccountID: to, Direction: "credit", Amount: amount},
	}}
}

// timedClients runs clients that each call one() until the duration is up,
// and returns the figures with latency percentiles and the machine's usage.
func (h *harness) timedClients(ctx context.Context, name string, clients int, one func(ctx context.Context, client, seq int) error) (Result, error) {
	ctx, cancel := context.WithTimeout(ctx, h.cfg.Duration)
	defer cancel()
	lat := make([][]time.Duration, clients)
	var errs atomic.Int64
	var wg sync.WaitGroup
	usage, err := h.measure(ctx)
	if err != nil {
		return Result{}, err
	}
	begin := time.Now()
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seq := 0; ctx.Err() == nil; seq++ {
				t := time.Now()
				if err := one(ctx, c, seq); err != nil {
					if ctx.Err() == nil {
						errs.Add(1)
					}
					continue
				}
				lat[c] = append(lat[c], time.Since(t))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(begin).Seconds()
	u := usage.stop()
	all := slices.Concat(lat...)
	slices.Sort(all)
	r := Result{Scenario: name, Entries: int64(len(all)), Errors: errs.Load(), Seconds: elapsed, PerSecond: float64(len(all)) / elapsed, Usage: &u}
	if len(all) > 0 {
		r.P50ms = ms(all[len(all)/2])
		r.P99ms = ms(all[len(all)*99/100])
	}
	return r, nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
