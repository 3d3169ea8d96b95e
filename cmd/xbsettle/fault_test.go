package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq"

	"github.com/xbsettle/xbsettle/api"
	"github.com/xbsettle/xbsettle/internal/demo"
	"github.com/xbsettle/xbsettle/internal/testenv"
	"github.com/xbsettle/xbsettle/settlement"
)

// childEnv marks a copy of the test binary started as the xbsettle
// process of the fault test: TestMain runs the command instead of tests.
const childEnv = "XBS_TEST_RUN_AS_XBSETTLE"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		main()
	}
	os.Exit(m.Run())
}

// Bounds of the fault test.
const (
	faultParcels = 160              // chains in the burst
	faultDrivers = 16               // parcels in flight at once
	faultRetry   = 45 * time.Second // how long a client retries one request
	// faultRecovery bounds the time from the last fault until every chain
	// has its verdict and every item is at rest: the sweepers' patience is
	// seconds, so a minute means something was lost for good.
	faultRecovery = 60 * time.Second
)

// TestFaultsLoseNothing: while a burst of chains and settlement
// instructions is in flight, the xbsettle process is killed with SIGKILL
// and started again, Redis is flushed and PostgreSQL restarted in
// immediate mode. Afterwards every chain has its verdict, every verified
// chain's item is settled exactly once (one ledger entry per payment key),
// no instruction is lost, every entry balances per currency and phase,
// balances equal their postings and audit/verify is clean, and all of that
// within faultRecovery of the last fault: the sweepers find lost work in
// seconds. The test runs its own PostgreSQL (durable: an acknowledged
// commit must survive the immediate restart) and Redis, since it restarts
// them, through scripts/lib.sh.
func TestFaultsLoseNothing(t *testing.T) {
	fs := startFaultStack(t)
	owner, err := sqlx.Open("postgres", fs.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { owner.Close() })
	proc := fs.startXbsettle(t)
	t.Cleanup(func() { proc.stop(t) })

	day := demo.Generate(11, faultParcels, "FAULT", yesterdayInBeijing())
	cl := newFaultClient("http://" + fs.httpAddr)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	if err := cl.waitReady(ctx); err != nil {
		proc.dumpLog(t)
		t.Fatal(err)
	}
	keys := makeKeys(t, ctx, owner, day)
	register(t, ctx, cl, keys[""], day)
	loadBoard(t, ctx, cl, keys[""], day)

	// The burst, with the faults injected as it goes.
	b := &burst{cl: cl, keys: keys}
	faultsDone := make(chan time.Time, 1)
	go func() { faultsDone <- fs.injectFaults(t, ctx, proc, b) }()
	b.run(ctx, day.Parcels)
	burstEnd := time.Now()
	lastFault := <-faultsDone
	t.Logf("burst: %d chains, %d verified, %d instructions, %d parcels failed; the client retried %d requests (%d answers 500)",
		len(day.Parcels), b.verified.Load(), len(b.instructions()), len(b.errors()), cl.retried.Load(), cl.internal.Load())
	if errs := b.errors(); len(errs) > 0 {
		proc.dumpLog(t)
		t.Fatalf("%d parcels failed in the burst, such as: %v", len(errs), errs[0])
	}
	// Everything comes to rest within seconds of the last fault: first the
	// work (verdicts, items), then the audit chain behind it.
	deadline := lastFault.Add(faultRecovery)
	for _, wait := range []struct {
		what  string
		left  func(workLeft) string
		fatal bool
	}{
		{"work", workLeft.work, true},
		{"sealing", workLeft.sealing, false},
	} {
		if !awaitRest(t, ctx, owner, deadline, wait.left) {
			proc.dumpLog(t)
			if wait.fatal {
				t.FailNow()
			}
			continue
		}
		t.Logf("%s at rest %s after the last fault, %s after the burst", wait.what, time.Since(lastFault).Round(100*time.Millisecond), time.Since(burstEnd).Round(100*time.Millisecond))
	}

	checkChains(t, ctx, owner, day, b)
	checkSettled(t, ctx, owner, b)
	checkLedger(t, ctx, owner)
	checkAudit(t, ctx, cl, keys, day)
}

// yesterdayInBeijing is the day the parcels were ordered: they are
// settled today, as the demo's are.
func yesterdayInBeijing() time.Time {
	return settlement.Today(time.Now()).AddDate(0, 0, -1)
}

// faultStack is the test's own PostgreSQL and Redis, and the scripts that
// run them.
type faultStack struct {
	lib                 string // scripts/lib.sh
	pgDir, redisDir     string
	pgPort, redisPort   string
	dbURL, httpAddr     string // dbURL as the owner, who migrates
	appURL              string // as the app role, which xbsettle runs as
	logDir              string
	secret, cutoffClock string
}

func startFaultStack(t *testing.T) *faultStack {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	// Not t.TempDir: the postgres user (when the test runs as root) must
	// be able to enter the directory.
	dir, err := os.MkdirTemp("", "xbsettle-fault-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	fs := &faultStack{lib: filepath.Join(root, "scripts", "lib.sh"), pgDir: filepath.Join(dir, "pg"),
		redisDir: filepath.Join(dir, "redis"), logDir: dir,
		secret: "fault-test-secret-key-0123456789abcdef", cutoffClock: "23:59"}
	t.Cleanup(func() {
		_ = fs.script(t, "stop_postgres", fs.pgDir, "immediate")
		_ = fs.script(t, "stop_redis", fs.redisDir)
		if !t.Failed() {
			os.RemoveAll(dir)
		} else {
			t.Logf("the fault test's files are kept in %s", dir)
		}
	})
	fs.pgPort, fs.redisPort, fs.httpAddr = freePort(t), freePort(t), "127.0.0.1:"+freePort(t)
	if err := fs.script(t, "start_postgres", fs.pgDir, fs.pgPort, "durable"); err != nil {
		t.Fatalf("start PostgreSQL: %v", err)
	}
	if err := fs.script(t, "start_redis", fs.redisDir, fs.redisPort); err != nil {
		t.Fatalf("start Redis: %v", err)
	}
	fs.dbURL = "postgres://postgres@127.0.0.1:" + fs.pgPort + "/postgres?sslmode=disable"
	fs.appURL = "postgres://" + testenv.AppRole + "@127.0.0.1:" + fs.pgPort + "/postgres?sslmode=disable"
	return fs
}

// lib_ runs a function of scripts/lib.sh.
func (fs *faultStack) script(t *testing.T, args ...string) error {
	out, err := exec.Command("bash", append([]string{fs.lib}, args...)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("lib.sh %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	if len(out) > 0 {
		t.Logf("lib.sh %s: %s", args[0], strings.TrimSpace(string(out)))
	}
	return nil
}

// freePort is a local TCP port nobody listens on now.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// xbsettleProc is the xbsettle process (`xbsettle all`), which the test
// kills and starts again; every start appends to one log.
type xbsettleProc struct {
	fs  *faultStack
	mu  sync.Mutex
	cmd *exec.Cmd
	log string
}

// startXbsettle starts `xbsettle all`: this test binary, run as the
// command (TestMain), with the stack's configuration.
func (fs *faultStack) startXbsettle(t *testing.T) *xbsettleProc {
	p := &xbsettleProc{fs: fs, log: filepath.Join(fs.logDir, "xbsettle.log")}
	if err := p.start(); err != nil {
		t.Fatal(err)
	}
	return p
}

func (p *xbsettleProc) start() error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	logf, err := os.OpenFile(p.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(self, "all")
	cmd.Env = append(os.Environ(), childEnv+"=1",
		"XBS_DATABASE_URL="+p.fs.appURL, "XBS_MIGRATE_DATABASE_URL="+p.fs.dbURL, "XBS_REDIS_ADDR=127.0.0.1:"+p.fs.redisPort, "XBS_REDIS_DB=0",
		"XBS_HTTP_ADDR="+p.fs.httpAddr, "XBS_SECRET_KEY="+p.fs.secret, "XBS_CUTOFF="+p.fs.cutoffClock,
		"XBS_LOG_LEVEL=warn", "XBS_SHUTDOWN_TIMEOUT=5s", "XBS_DB_MAX_CONNS=16", "XBS_WORKER_CONCURRENCY=8")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start xbsettle: %w", err)
	}
	p.mu.Lock()
	p.cmd = cmd
	p.mu.Unlock()
	return nil
}

// kill ends the process with SIGKILL: no shutdown, tasks in flight lost.
func (p *xbsettleProc) kill() error {
	p.mu.Lock()
	cmd := p.cmd
	p.mu.Unlock()
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		return err
	}
	_ = cmd.Wait() // "signal: killed"
	return nil
}

// stop ends the process with SIGTERM, as a deployment would.
func (p *xbsettleProc) stop(t *testing.T) {
	p.mu.Lock()
	cmd := p.cmd
	p.mu.Unlock()
	if cmd == nil || cmd.ProcessState != nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Errorf("xbsettle did not stop within 15 s of SIGTERM")
	}
}

// dumpLog shows the end of the process's log in the test's.
func (p *xbsettleProc) dumpLog(t *testing.T) {
	raw, _ := os.ReadFile(p.log)
	if len(raw) > 20000 {
		raw = raw[len(raw)-20000:]
	}
	t.Logf("xbsettle log (end):\n%s", raw)
}

// injectFaults waits for the burst to be under way and then, each while
// chains are matched and instructions are settled: kills the process and
// starts it again, flushes Redis, and restarts PostgreSQL in immediate
// mode. It answers when the last fault ended.
func (fs *faultStack) injectFaults(t *testing.T, ctx context.Context, p *xbsettleProc, b *burst) time.Time {
	faults := []struct {
		name string
		at   int64 // instructions submitted
		do   func() error
	}{
		{"SIGKILL xbsettle and start it again", faultParcels / 8, func() error {
			if err := p.kill(); err != nil {
				return err
			}
			return p.start()
		}},
		{"FLUSHALL Redis", faultParcels / 4, func() error {
			out, err := exec.Command("redis-cli", "-h", "127.0.0.1", "-p", fs.redisPort, "FLUSHALL").CombinedOutput()
			if err != nil || strings.TrimSpace(string(out)) != "OK" {
				return fmt.Errorf("redis-cli FLUSHALL: %v: %s", err, out)
			}
			return nil
		}},
		{"restart PostgreSQL in immediate mode", faultParcels * 3 / 8, func() error {
			if err := fs.script(t, "stop_postgres", fs.pgDir, "immediate"); err != nil {
				return err
			}
			return fs.script(t, "start_postgres", fs.pgDir, fs.pgPort, "durable")
		}},
	}
	for _, f := range faults {
		for b.submitted.Load() < f.at && !b.finished.Load() {
			select {
			case <-ctx.Done():
				t.Errorf("%s: %v", f.name, ctx.Err())
				return time.Now()
			case <-time.After(20 * time.Millisecond):
			}
		}
		if b.finished.Load() {
			t.Errorf("the burst ended before the fault %q (%d instructions submitted)", f.name, b.submitted.Load())
			return time.Now()
		}
		t0 := time.Now()
		if err := f.do(); err != nil {
			t.Errorf("%s: %v", f.name, err)
			return time.Now()
		}
		t.Logf("fault: %s (%d instructions submitted, took %s)", f.name, b.submitted.Load(), time.Since(t0).Round(time.Millisecond))
	}
	return time.Now()
}

// faultClient is a client of the API as a careful institution writes one:
// a request that fails in transport or answers 5xx is sent again, the same
// (the same Idempotency-Key), for up to faultRetry.
type faultClient struct {
	base     string
	http     *http.Client
	retried  atomic.Int64
	internal atomic.Int64 // 500 answers (the database away, before 503s)
}

func newFaultClient(base string) *faultClient {
	return &faultClient{base: base, http: &http.Client{Timeout: 30 * time.Second}}
}

// do sends a JSON request with key and decodes a 2xx answer into out.
func (c *faultClient) do(ctx context.Context, key, method, path string, body any, out any, headers ...string) error {
	var raw []byte
	if body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			return err
		}
	}
	deadline := time.Now().Add(faultRetry)
	var last error
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			if time.Now().After(deadline) {
				return fmt.Errorf("%s %s: gave up after %d attempts: %w", method, path, attempt, last)
			}
			c.retried.Add(1)
			select {
			case <-ctx.Done():
				return fmt.Errorf("%s %s: %w (last: %v)", method, path, ctx.Err(), last)
			case <-time.After(min(time.Duration(50<<min(attempt, 5))*time.Millisecond, time.Second)):
			}
		}
		req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(raw))
		if err != nil {
			return err
		}
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		resp, err := c.http.Do(req)
		if err != nil {
			last = err
			continue
		}
		answer, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch {
		case err != nil:
			last = err
			continue
		case resp.StatusCode >= 500:
			if resp.StatusCode == http.StatusInternalServerError {
				c.internal.Add(1)
			}
			last = fmt.Errorf("%d: %s", resp.StatusCode, answer)
			continue
		case resp.StatusCode >= 300:
			return fmt.Errorf("%s %s: %d: %s", method, path, resp.StatusCode, answer)
		}
		if out == nil {
			return nil
		}
		return json.Unmarshal(answer, out)
	}
}

// waitReady waits for the API to answer /readyz.
func (c *faultClient) waitReady(ctx context.Context) error {
	return c.do(ctx, "", http.MethodGet, "/readyz", nil, nil)
}

// makeKeys makes an API key for every party of the day and one admin key
// (under ""), in the database as `xbsettle keys create` does.
func makeKeys(t *testing.T, ctx context.Context, owner *sqlx.DB, day *demo.Day) map[string]string {
	t.Helper()
	ks := api.NewKeyStore(owner)
	keys := map[string]string{}
	_, admin, err := ks.Create(ctx, api.RoleAdmin, "")
	if err != nil {
		t.Fatal(err)
	}
	keys[""] = admin
	for _, party := range parties(day) {
		_, k, err := ks.Create(ctx, party.Role(), party.Code)
		if err != nil {
			t.Fatal(err)
		}
		keys[party.Code] = k
	}
	return keys
}

// parties are the enterprises the day's parcels name, once each.
func parties(day *demo.Day) []*demo.Party {
	seen := map[string]bool{}
	var out []*demo.Party
	for _, p := range day.Parcels {
		for _, party := range []*demo.Party{p.Platform, p.Seller, p.Institution, p.Carrier} {
			if !seen[party.Code] {
				seen[party.Code] = true
				out = append(out, party)
			}
		}
	}
	return out
}

// register registers the day's enterprises, as the operator does: the
// matcher verifies only chains of registered parties.
func register(t *testing.T, ctx context.Context, cl *faultClient, admin string, day *demo.Day) {
	t.Helper()
	for _, p := range parties(day) {
		body := map[string]string{"customs_code": p.Code, "name": p.Name, "kind": p.Kind, "unified_social_credit_code": p.USCC(),
			"registered_at": day.Date.AddDate(0, -p.Months, 0).Format(time.DateOnly)}
		if err := cl.do(ctx, admin, http.MethodPost, "/v1/enterprises", body, nil); err != nil {
			t.Fatal(err)
		}
	}
}

// loadBoard loads today's FX board, which the quotes lock.
func loadBoard(t *testing.T, ctx context.Context, cl *faultClient, admin string, day *demo.Day) {
	t.Helper()
	today := settlement.Today(time.Now()).Format(time.DateOnly)
	var rates []map[string]any
	for _, r := range day.Board {
		rates = append(rates, map[string]any{"pair": r.Currency + "/CNY", "date": today, "unit": r.Unit,
			"parity": r.Parity.StringFixed(4), "buy": r.Buy.StringFixed(4), "sell": r.Sell.StringFixed(4), "source": "fault test"})
	}
	if err := cl.do(ctx, admin, http.MethodPost, "/v1/fx/rates", map[string]any{"rates": rates}, nil); err != nil {
		t.Fatal(err)
	}
}

// burst drives parcels through the API, faultDrivers at a time: each
// parcel's declarants post its documents, its platform follows the chain
// until it has a verdict, and for a verified chain its institution takes a
// quote if the payment converts and submits the settlement of the payment.
type burst struct {
	cl        *faultClient
	keys      map[string]string
	submitted atomic.Int64 // instructions answered
	verified  atomic.Int64
	finished  atomic.Bool

	mu   sync.Mutex
	errs []error
	sent []sentInstruction
}

// sentInstruction is an instruction the API accepted.
type sentInstruction struct {
	tenant, id, payRef string
}

func (b *burst) run(ctx context.Context, parcels []*demo.Parcel) {
	defer b.finished.Store(true)
	next := make(chan *demo.Parcel)
	var wg sync.WaitGroup
	for range faultDrivers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range next {
				if err := b.parcel(ctx, p); err != nil {
					b.mu.Lock()
					b.errs = append(b.errs, fmt.Errorf("%s: %w", p.OrderNo, err))
					b.mu.Unlock()
				}
			}
		}()
	}
	for _, p := range parcels {
		next <- p
	}
	close(next)
	wg.Wait()
}

func (b *burst) errors() []error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.errs
}

func (b *burst) instructions() []sentInstruction {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.sent
}

func (b *burst) parcel(ctx context.Context, p *demo.Parcel) error {
	for _, d := range p.Documents() {
		if err := b.cl.do(ctx, b.keys[d.By.Code], http.MethodPost, "/v1/documents/batch",
			map[string]any{"documents": []json.RawMessage{d.Body}}, nil); err != nil {
			return err
		}
	}
	var chain struct {
		Verdict string          `json:"verdict"`
		Pending bool            `json:"pending"`
		Failed  json.RawMessage `json:"failed_rules"`
	}
	path := "/v1/chains/" + url.PathEscape(p.Platform.Code) + "/" + url.PathEscape(p.OrderNo)
	for chain.Verdict == "" || chain.Pending {
		if err := b.cl.do(ctx, b.keys[p.Platform.Code], http.MethodGet, path, nil, &chain); err != nil {
			return err
		}
		if chain.Verdict == "" || chain.Pending {
			select {
			case <-ctx.Done():
				return fmt.Errorf("waiting for the verdict: %w", ctx.Err())
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
	if chain.Verdict != demo.VerdictVerified {
		if p.Defect == "" {
			return fmt.Errorf("a parcel without defect: chain %s: %s", chain.Verdict, chain.Failed)
		}
		return nil
	}
	b.verified.Add(1)
	key := b.keys[p.Institution.Code]
	item := map[string]string{"ebpCode": p.Platform.Code, "orderNo": p.OrderNo, "payTransactionId": p.PayRef,
		"enterprise": p.Seller.Code, "currency": string(p.Currency), "amount": p.Currency.Format(p.Paid),
		"payout_currency": string(p.PayoutCurrency)}
	if pair, side, ok := p.Conversion(); ok {
		var q struct {
			ID string `json:"id"`
		}
		if err := b.cl.do(ctx, key, http.MethodPost, "/v1/fx/quotes", map[string]string{"pair": pair, "side": string(side)}, &q); err != nil {
			return err
		}
		item["quote_id"] = q.ID
	}
	var ins struct {
		ID string `json:"id"`
	}
	if err := b.cl.do(ctx, key, http.MethodPost, "/v1/settlements", map[string]any{"items": []any{item}}, &ins,
		"Idempotency-Key", "fault-"+p.OrderNo); err != nil {
		return err
	}
	b.mu.Lock()
	b.sent = append(b.sent, sentInstruction{tenant: p.Institution.Code, id: ins.ID, payRef: p.PayRef})
	b.mu.Unlock()
	b.submitted.Add(1)
	return nil
}

// awaitRest polls the work left until left says nothing is, or deadline.
func awaitRest(t *testing.T, ctx context.Context, owner *sqlx.DB, deadline time.Time, left func(workLeft) string) bool {
	t.Helper()
	for {
		var n workLeft
		if err := owner.GetContext(ctx, &n, workLeftSQL); err != nil {
			t.Fatalf("count unfinished work: %v", err)
		}
		what := left(n)
		if what == "" {
			return true
		}
		if time.Now().After(deadline) {
			t.Errorf("%s after the last fault: %s", faultRecovery, what)
			return false
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// workLeft counts the work not done: chains waiting for a verdict,
// waybills waiting for their chain, items not at rest, instructions in the
// outbox, entries not sealed.
type workLeft struct {
	Dirty    int `db:"dirty"`
	Parked   int `db:"parked"`
	Items    int `db:"items"`
	Outbox   int `db:"outbox"`
	Unsealed int `db:"unsealed"`
}

const workLeftSQL = `SELECT
	(SELECT count(*) FROM clearance_chains WHERE dirty_since IS NOT NULL) AS dirty,
	(SELECT count(*) FROM clearance_parked_waybills) AS parked,
	(SELECT count(*) FROM settlement_items WHERE status IN ('accepted', 'verified', 'posted')) AS items,
	(SELECT count(*) FROM settlement_outbox WHERE done_at IS NULL) AS outbox,
	(SELECT count(*) FROM entries e WHERE NOT EXISTS (SELECT 1 FROM entry_seals s WHERE s.entry_id = e.id)) AS unsealed`

// work says what matching and settlement have left ("" for nothing).
func (n workLeft) work() string {
	if n.Dirty+n.Parked+n.Items+n.Outbox == 0 {
		return ""
	}
	return fmt.Sprintf("%d chains dirty, %d waybills parked, %d items in flight, %d instructions in the outbox",
		n.Dirty, n.Parked, n.Items, n.Outbox)
}

// sealing says how many entries wait for their seal ("" for none).
func (n workLeft) sealing() string {
	if n.Unsealed == 0 {
		return ""
	}
	return fmt.Sprintf("%d entries unsealed", n.Unsealed)
}

// checkChains: every chain of the burst has its verdict, and every parcel
// the generator made without a defect is verified.
func checkChains(t *testing.T, ctx context.Context, owner *sqlx.DB, day *demo.Day, b *burst) {
	t.Helper()
	var verified []string
	if err := owner.SelectContext(ctx, &verified, `SELECT order_no FROM clearance_chains WHERE status = $1 AND state = 'open'`,
		demo.VerdictVerified); err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, o := range verified {
		got[o] = true
	}
	clean := 0
	for _, p := range day.Parcels {
		if p.Defect == "" {
			clean++
			if !got[p.OrderNo] {
				t.Errorf("chain %s has no defect but is not verified", p.OrderNo)
			}
		}
	}
	if int64(len(verified)) != b.verified.Load() {
		t.Errorf("%d chains verified in the database, the platforms saw %d", len(verified), b.verified.Load())
	}
	if clean == 0 {
		t.Fatal("the day has no clean parcel: the test settles nothing")
	}
}

// checkSettled: every instruction the API accepted is stored with its one
// item batched, and each payment of a verified chain has exactly one item
// that settled it and exactly one ledger entry under its key.
func checkSettled(t *testing.T, ctx context.Context, owner *sqlx.DB, b *burst) {
	t.Helper()
	sent := b.instructions()
	if int64(len(sent)) != b.verified.Load() {
		t.Errorf("%d instructions for %d verified chains", len(sent), b.verified.Load())
	}
	for _, s := range sent {
		var items []struct {
			Status  string  `db:"status"`
			EntryID *string `db:"entry_id"`
		}
		if err := owner.SelectContext(ctx, &items, `SELECT status, entry_id FROM settlement_items
			WHERE tenant_id = $1 AND instruction_id = $2`, s.tenant, s.id); err != nil {
			t.Fatal(err)
		}
		if len(items) != 1 || (items[0].Status != "batched" && items[0].Status != "settled") || items[0].EntryID == nil {
			t.Errorf("instruction %s (%s): items %+v, want one batched with its entry", s.id, s.payRef, items)
		}
		var entries int
		if err := owner.GetContext(ctx, &entries, `SELECT count(*) FROM entries WHERE tenant_id = $1 AND idempotency_key = $2`,
			s.tenant, "settle:"+s.tenant+":"+s.payRef); err != nil {
			t.Fatal(err)
		}
		if entries != 1 {
			t.Errorf("payment %s: %d ledger entries, want 1", s.payRef, entries)
		}
	}
	// Nothing settled beyond what was asked: one item per payment, and
	// as many settlement entries as batched items.
	var n struct {
		Instructions int `db:"instructions"`
		Batched      int `db:"batched"`
		Payments     int `db:"payments"`
		Entries      int `db:"entries"`
	}
	if err := owner.GetContext(ctx, &n, `SELECT
		(SELECT count(*) FROM settlement_instructions) AS instructions,
		(SELECT count(*) FROM settlement_items WHERE status IN ('batched', 'settled')) AS batched,
		(SELECT count(DISTINCT (tenant_id, pay_transaction_id)) FROM settlement_items WHERE status IN ('batched', 'settled')) AS payments,
		(SELECT count(*) FROM entries WHERE idempotency_key LIKE 'settle:%') AS entries`); err != nil {
		t.Fatal(err)
	}
	if n.Instructions != len(sent) || n.Batched != len(sent) || n.Payments != len(sent) || n.Entries != len(sent) {
		t.Errorf("stored %+v, want %d of each", n, len(sent))
	}
}

// checkLedger: every entry balances per currency and phase, and every
// account's totals are the sums of its postings.
func checkLedger(t *testing.T, ctx context.Context, owner *sqlx.DB) {
	t.Helper()
	var unbalanced []string
	if err := owner.SelectContext(ctx, &unbalanced, `SELECT entry_id::text || ' ' || currency || ' ' || phase FROM postings
		GROUP BY entry_id, currency, phase
		HAVING sum(CASE direction WHEN 'debit' THEN amount ELSE -amount END) <> 0`); err != nil {
		t.Fatal(err)
	}
	if len(unbalanced) > 0 {
		t.Errorf("%d entries do not balance, such as %s", len(unbalanced), unbalanced[0])
	}
	var off []string
	if err := owner.SelectContext(ctx, &off, `SELECT a.code FROM accounts a
		LEFT JOIN LATERAL (SELECT
			coalesce(sum(amount) FILTER (WHERE direction = 'debit' AND phase = 'posted'), 0) AS pd,
			coalesce(sum(amount) FILTER (WHERE direction = 'credit' AND phase = 'posted'), 0) AS pc,
			coalesce(sum(amount) FILTER (WHERE direction = 'debit' AND phase = 'pending'), 0)
				- coalesce(sum(amount) FILTER (WHERE direction = 'debit' AND phase = 'release'), 0) AS hd,
			coalesce(sum(amount) FILTER (WHERE direction = 'credit' AND phase = 'pending'), 0)
				- coalesce(sum(amount) FILTER (WHERE direction = 'credit' AND phase = 'release'), 0) AS hc
			FROM postings p WHERE p.account_id = a.id) s ON true
		WHERE (a.posted_debits, a.posted_credits, a.pending_debits, a.pending_credits) <> (s.pd, s.pc, s.hd, s.hc)`); err != nil {
		t.Fatal(err)
	}
	if len(off) > 0 {
		t.Errorf("%d accounts' balances differ from their postings: %v", len(off), off)
	}
	var entries int
	if err := owner.GetContext(ctx, &entries, `SELECT count(*) FROM entries`); err != nil || entries == 0 {
		t.Errorf("%d entries (%v): the test posted nothing", entries, err)
	}
}

// checkAudit: audit/verify is clean for every institution that settled,
// with every entry sealed.
func checkAudit(t *testing.T, ctx context.Context, cl *faultClient, keys map[string]string, day *demo.Day) {
	t.Helper()
	seen := map[string]bool{}
	for _, p := range day.Parcels {
		code := p.Institution.Code
		if seen[code] {
			continue
		}
		seen[code] = true
		var r struct {
			OK       bool            `json:"ok"`
			Sealed   int64           `json:"sealed"`
			Unsealed int64           `json:"unsealed"`
			Altered  json.RawMessage `json:"altered"`
		}
		if err := cl.do(ctx, keys[code], http.MethodGet, "/v1/audit/verify", nil, &r); err != nil {
			t.Fatal(err)
		}
		if !r.OK || r.Unsealed != 0 || r.Sealed == 0 {
			t.Errorf("audit/verify of %s: ok %t, %d sealed, %d unsealed, altered %s", code, r.OK, r.Sealed, r.Unsealed, r.Altered)
		}
	}
}
