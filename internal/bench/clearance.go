package bench

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hibiken/asynq"

	"github.com/xbsettle/xbsettle/api"
	"github.com/xbsettle/xbsettle/settlement/clearance"
)

// DefaultChains is the size of the clearance scenario (issue 6, scenario
// 4): 500,000 chains, 2,000,000 documents, a day of a national pilot.
const DefaultChains = 500_000

// benchBatch is how many documents, and chains, one request carries.
const benchBatch = clearance.MaxBatch

// clearanceClients post batches concurrently.
const clearanceClients = 16

// clearanceChains: Chains import chains (order, payment, waybill,
// inventory) posted through POST /v1/documents/batch by the parties that
// declare them — platforms send orders and inventories, payment
// institutions payments, carriers waybills — each batch 1,000 documents of
// one party. The four batches of a block of 1,000 chains arrive in random
// order among those of their neighbours, so a chain may be matched before
// all its documents are in, and again when they are. An Asynq worker in
// this process matches them, as in production (xbsettle all). The clock
// runs from the first request to the moment no chain is left to match;
// then every chain must be verified, or the scenario fails. Target ≤ 60 s.
// p50 and p99 are the latencies of the batch requests.
func clearanceChains(ctx context.Context, h *harness) (Result, error) {
	if h.clearance == nil {
		return Result{}, errors.New("the clearance scenario needs Redis: set XBS_TEST_REDIS_ADDR (make bench does)")
	}
	n := h.cfg.Chains
	if n <= 0 {
		n = DefaultChains
	}
	keys, err := clearanceParties(ctx, h)
	if err != nil {
		return Result{}, err
	}
	tariff, err := clearance.ShippedTariff()
	if err != nil {
		return Result{}, err
	}
	t0 := time.Now()
	jobs, samples := clearanceJobs(n, tariff, keys)
	fmt.Fprintf(h.log, "  generated %d documents in %d batches (%.1f s)\n", 4*n, len(jobs), time.Since(t0).Seconds())
	stop, err := h.startWorker()
	if err != nil {
		return Result{}, err
	}
	defer stop()

	usage, err := h.measure(ctx)
	if err != nil {
		return Result{}, err
	}
	begin := time.Now()
	var errs atomic.Int64
	failed := make([]error, len(jobs))
	lat := make([]time.Duration, len(jobs))
	parallel(clearanceClients, len(jobs), func(i int) {
		t := time.Now()
		failed[i] = h.postBatch(ctx, jobs[i], &errs)
		lat[i] = time.Since(t)
		jobs[i].body = nil // what is posted is not needed again
	})
	if err := errors.Join(failed...); err != nil {
		usage.stop()
		return Result{}, err
	}
	ingested := time.Since(begin)
	fmt.Fprintf(h.log, "  posted in %.1f s; matching the rest…\n", ingested.Seconds())
	err = h.waitMatched(ctx, n)
	u := usage.stop()
	if err != nil {
		return Result{}, err
	}
	elapsed := time.Since(begin).Seconds()
	if err := h.verifyClearance(ctx, n, keys.admin, samples); err != nil {
		return Result{}, fmt.Errorf("after %.1f s: %w", elapsed, err)
	}
	st := h.db.Stats()
	fmt.Fprintf(h.log, "  %d chains verified in %.1f s (waits for a pooled connection: %d, %.1f s in all)\n",
		n, elapsed, st.WaitCount, st.WaitDuration.Seconds())
	r := Result{Scenario: "clearance", Entries: int64(4 * n), Chains: int64(n), Errors: errs.Load(), Seconds: elapsed,
		IngestSeconds: ingested.Seconds(), PerSecond: float64(4*n) / elapsed, Target: "≤ 60 s for 500000 chains", Usage: &u}
	slices.Sort(lat)
	r.P50ms, r.P99ms = ms(lat[len(lat)/2]), ms(lat[len(lat)*99/100])
	r.Met = n >= DefaultChains && elapsed <= 60
	return r, nil
}

// partyKeys are the API keys of the scenario's parties, by tenant.
type partyKeys struct {
	byTenant map[string]string
	admin    string
}

// clearanceParties registers the enterprises the documents name and makes
// an API key for each declaring party and one admin key for the checks.
func clearanceParties(ctx context.Context, h *harness) (partyKeys, error) {
	keys := partyKeys{byTenant: map[string]string{}}
	var es []clearance.Enterprise
	add := func(codes []string, kind string, role api.Role) error {
		for _, c := range codes {
			es = append(es, clearance.Enterprise{CustomsCode: c, Name: "Bench " + kind + " " + c, Kind: kind})
			if role == "" {
				continue
			}
			_, key, err := h.keys.Create(ctx, role, c)
			if err != nil {
				return err
			}
			keys.byTenant[c] = key
		}
		return nil
	}
	if err := errors.Join(add(benchPlatforms, "platform", api.RolePlatform), add(benchSellers, "seller", ""),
		add(benchPayers, "payment_institution", api.RolePaymentInstitution), add(benchCarriers, "carrier", api.RoleCarrier)); err != nil {
		return keys, err
	}
	if err := h.clearance.RegisterEnterprises(ctx, es); err != nil {
		return keys, err
	}
	_, admin, err := h.keys.Create(ctx, api.RoleAdmin, "")
	keys.admin = admin
	return keys, err
}

// batchJob is one request: a party's batch of documents.
type batchJob struct {
	key  string
	body []byte
}

// sampleChain is a chain the final check reads through the API.
type sampleChain struct {
	platform, orderNo, tax string
}

// clearanceJobs generates the documents of n chains (on every core) and
// groups them into per-party batches: for each block of benchBatch chains,
// one batch of orders and one of inventories from its platform, one of
// payments from its payment institution and one of waybills from its
// carrier. The batches of every four neighbouring blocks are shuffled.
func clearanceJobs(n int, tariff *clearance.Tariff, keys partyKeys) ([]batchJob, []sampleChain) {
	blocks := (n + benchBatch - 1) / benchBatch
	jobs := make([]batchJob, 4*blocks)
	parallel(runtime.GOMAXPROCS(0), blocks, func(b int) {
		var bodies [4]bytes.Buffer
		for k := range bodies {
			bodies[k].Grow(1400 * benchBatch)
			bodies[k].WriteString(`{"documents":[`)
		}
		var c chainDocs
		for i := b * benchBatch; i < min(n, (b+1)*benchBatch); i++ {
			c = genChain(i, n, tariff)
			for k, doc := range [][]byte{c.order, c.payment, c.waybill, c.inventory} {
				if i > b*benchBatch {
					bodies[k].WriteByte(',')
				}
				bodies[k].Write(doc)
			}
		}
		parties := []string{c.platform, benchPayers[b%len(benchPayers)], benchCarriers[b%len(benchCarriers)], c.platform}
		for k := range bodies {
			bodies[k].WriteString(`]}`)
			jobs[4*b+k] = batchJob{key: keys.byTenant[parties[k]], body: bodies[k].Bytes()}
		}
	})
	r := rand.New(rand.NewPCG(6, 4))
	for w := 0; w < len(jobs); w += 16 {
		win := jobs[w:min(w+16, len(jobs))]
		r.Shuffle(len(win), func(i, j int) { win[i], win[j] = win[j], win[i] })
	}
	var samples []sampleChain
	for i := 0; i < n; i += max(1, n/200) {
		c := genChain(i, n, tariff)
		samples = append(samples, sampleChain{c.platform, c.orderNo, c.tax})
	}
	return jobs, samples
}

// postBatch posts one batch, again (a replay) after a transport error or a
// 5xx, a bounded number of times; every failed attempt counts in errs.
func (h *harness) postBatch(ctx context.Context, job batchJob, errs *atomic.Int64) error {
	const attempts = 3
	var last error
	for range attempts {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.base+"/v1/documents/batch", bytes.NewReader(job.body))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+job.key)
		req.Header.Set("Content-Type", "application/json")
		resp, err := h.client.Do(req)
		if err != nil {
			last = err
			errs.Add(1)
			continue
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch {
		case err != nil:
			last = err
		case resp.StatusCode == http.StatusCreated || resp.StatusCode == http.StatusOK:
			return nil
		case resp.StatusCode < 500:
			return fmt.Errorf("POST /v1/documents/batch: %d %.500s", resp.StatusCode, body)
		default:
			last = fmt.Errorf("POST /v1/documents/batch: %d %.500s", resp.StatusCode, body)
		}
		errs.Add(1)
	}
	return last
}

// startWorker runs the clearance's Asynq tasks in this process, on the
// Redis of the harness.
func (h *harness) startWorker() (stop func(), err error) {
	quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	srv := asynq.NewServer(h.redis, asynq.Config{
		Concurrency: h.cfg.Workers,
		Queues:      map[string]int{clearance.QueueName: 1},
		Logger:      asynqLog{quiet},
		LogLevel:    asynq.WarnLevel,
		ErrorHandler: asynq.ErrorHandlerFunc(func(ctx context.Context, t *asynq.Task, err error) {
			quiet.WarnContext(ctx, "task failed", "type", t.Type(), "err", err)
		}),
	})
	mux := asynq.NewServeMux()
	clearance.RegisterTasks(mux, h.clearance)
	if err := srv.Start(mux); err != nil {
		return nil, fmt.Errorf("start worker: %w", err)
	}
	return srv.Shutdown, nil
}

// asynqLog sends the worker's logs to slog.
type asynqLog struct{ l *slog.Logger }

func (a asynqLog) Debug(args ...any) { a.l.Debug(fmt.Sprint(args...)) }
func (a asynqLog) Info(args ...any)  { a.l.Info(fmt.Sprint(args...)) }
func (a asynqLog) Warn(args ...any)  { a.l.Warn(fmt.Sprint(args...)) }
func (a asynqLog) Error(args ...any) { a.l.Error(fmt.Sprint(args...)) }
func (a asynqLog) Fatal(args ...any) { a.l.Error(fmt.Sprint(args...)) }

// waitMatched polls until every one of the n chains exists and none waits
// for matching (the chains' outbox is empty). It gives up when nothing has
// moved for a few minutes.
func (h *harness) waitMatched(ctx context.Context, n int) error {
	const stall = 3 * time.Minute
	last, since := -1, time.Now()
	for {
		// The count walks the partial index of dirty chains: cheap near the
		// end, where the clock stops, and polled less often while the
		// backlog is long, so that the poll costs the server little.
		var dirty, chains int
		if err := h.db.GetContext(ctx, &dirty, `SELECT count(*) FROM clearance_chains WHERE dirty_since IS NOT NULL`); err != nil {
			return fmt.Errorf("count dirty chains: %w", err)
		}
		if dirty == 0 {
			if err := h.db.GetContext(ctx, &chains, `SELECT count(*) FROM clearance_chains`); err != nil {
				return fmt.Errorf("count chains: %w", err)
			}
			if chains >= n {
				return nil
			}
		}
		if dirty != last {
			last, since = dirty, time.Now()
		} else if time.Since(since) > stall {
			return fmt.Errorf("%d chains still wait for matching, none matched for %s", dirty, stall)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(min(time.Second, 20*time.Millisecond+time.Duration(dirty)*20*time.Microsecond)):
		}
	}
}

// verifyClearance checks the outcome: every chain verified, open and
// clean, with its four documents, its quota use and its trade; and a
// sample of chains read through GET /v1/chains is verified with the tax the
// generator computed and every document cleared (receipt 399).
func (h *harness) verifyClearance(ctx context.Context, n int, admin string, samples []sampleChain) error {
	var c struct {
		Chains   int `db:"chains"`
		Verified int `db:"verified"`
		Docs     int `db:"docs"`
		Trades   int `db:"trades"`
		Quota    int `db:"quota"`
	}
	err := h.db.GetContext(ctx, &c, `SELECT
		(SELECT count(*) FROM clearance_chains) AS chains,
		(SELECT count(*) FROM clearance_chains WHERE status = 'verified' AND state = 'open' AND dirty_version = clean_version) AS verified,
		(SELECT count(*) FROM clearance_documents) AS docs,
		(SELECT count(*) FROM trade_chains WHERE status = 'verified') AS trades,
		(SELECT count(*) FROM clearance_quota_uses WHERE state = 'used') AS quota`)
	if err != nil {
		return fmt.Errorf("count outcomes: %w", err)
	}
	if c.Chains != n || c.Verified != n || c.Docs != 4*n || c.Trades != n || c.Quota != n {
		var why []string
		_ = h.db.SelectContext(ctx, &why, `SELECT coalesce(status, 'none') || ': ' || count(*) FROM clearance_chains GROUP BY status`)
		return fmt.Errorf("want %d chains all verified with %d documents, trades and quota uses; got %+v (%s)",
			n, 4*n, c, strings.Join(why, ", "))
	}
	for _, s := range samples {
		var v struct {
			Verdict   string                  `json:"verdict"`
			Pending   bool                    `json:"pending"`
			Tax       *struct{ Total string } `json:"tax"`
			Documents map[string]struct {
				Receipt struct{ Status int } `json:"receipt"`
			} `json:"documents"`
		}
		code, err := h.doAs(ctx, admin, http.MethodGet, "/v1/chains/"+s.platform+"/"+s.orderNo, "", nil, &v)
		if err != nil || code != http.StatusOK {
			return fmt.Errorf("GET chain %s/%s: %d %v", s.platform, s.orderNo, code, err)
		}
		ok := v.Verdict == "verified" && !v.Pending && v.Tax != nil && v.Tax.Total == s.tax && len(v.Documents) == 4
		for _, d := range v.Documents {
			ok = ok && d.Receipt.Status == 399
		}
		if !ok {
			return fmt.Errorf("chain %s/%s: %+v, want verified with tax %s and four documents cleared", s.platform, s.orderNo, v, s.tax)
		}
	}
	return nil
}

// newSecretKey is a random key for the ID hashes of one run.
func newSecretKey() []byte {
	b := make([]byte, 32)
	_, _ = crand.Read(b)
	return []byte(hex.EncodeToString(b))
}
