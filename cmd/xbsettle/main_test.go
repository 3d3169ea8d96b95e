package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xbsettle/xbsettle/internal/db"
	"github.com/xbsettle/xbsettle/internal/testenv"
)

// env points the commands at a fresh database, Redis and a free port.
func env(t *testing.T) (dbURL, httpAddr string) {
	t.Helper()
	dbURL = testenv.NewDatabase(t)
	r := testenv.Redis(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	httpAddr = l.Addr().String()
	l.Close()
	t.Setenv("XBS_ENV", "production")
	t.Setenv("XBS_SECRET_KEY", "main-test-secret-key-0123456789abcdef")
	t.Setenv("XBS_DATABASE_URL", dbURL)
	t.Setenv("XBS_MIGRATE_DATABASE_URL", testenv.OwnerURL(t, dbURL))
	t.Setenv("XBS_REDIS_ADDR", r.Addr)
	t.Setenv("XBS_REDIS_DB", strconv.Itoa(r.DB))
	t.Setenv("XBS_HTTP_ADDR", httpAddr)
	t.Setenv("XBS_SHUTDOWN_TIMEOUT", "10s")
	t.Setenv("XBS_LOG_LEVEL", "warn")
	return dbURL, httpAddr
}

// xbsettle runs a command in-process and returns its exit status and stdout.
func xbsettle(t *testing.T, ctx context.Context, args ...string) (int, string) {
	t.Helper()
	var out, errs bytes.Buffer
	code := run(ctx, args, &out, &errs)
	if errs.Len() > 0 {
		t.Logf("xbsettle %s: stderr: %s", strings.Join(args, " "), errs.String())
	}
	return code, out.String()
}

// TestCommands: migrate, keys, all (API and workers, stopped by a signal's
// cancellation) and verify, on a real database and Redis.
func TestCommands(t *testing.T) {
	dbURL, addr := env(t)
	ctx := context.Background()

	if code, _ := xbsettle(t, ctx, "migrate"); code != 0 {
		t.Fatalf("migrate: exit %d", code)
	}
	for _, bad := range [][]string{{"keys", "create"}, {"keys", "create", "--role", "root"}, {"nope"}, {}} {
		if code, _ := xbsettle(t, ctx, bad...); code != 2 {
			t.Errorf("xbsettle %v: exit %d, want 2", bad, code)
		}
	}
	if code, _ := xbsettle(t, ctx, "keys", "create", "--role", "payment_institution"); code != 1 {
		t.Errorf("a payment_institution key without tenant: exit %d, want 1", code)
	}
	code, out := xbsettle(t, ctx, "keys", "create", "--role", "payment_institution", "--tenant", "T1")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	key := lines[len(lines)-1]
	if code != 0 || !strings.HasPrefix(key, "xbs_") || strings.Count(out, key) != 1 {
		t.Fatalf("keys create: exit %d, output %q", code, out)
	}

	// all: serve and work until cancelled.
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan int, 1)
	go func() {
		code, _ := xbsettle(t, runCtx, "all")
		done <- code
	}()
	base := "http://" + addr
	call := func(method, path, idem, body string) (int, map[string]any) {
		hr, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		hr.Header.Set("Authorization", "Bearer "+key)
		if body != "" {
			hr.Header.Set("Content-Type", "application/json")
		}
		if idem != "" {
			hr.Header.Set("Idempotency-Key", idem)
		}
		resp, err := http.DefaultClient.Do(hr)
		if err != nil {
			return 0, nil
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		var v map[string]any
		_ = json.Unmarshal(raw, &v)
		return resp.StatusCode, v
	}
	eventually(t, "the API to be ready", 20*time.Second, func() bool {
		s, _ := call("GET", "/readyz", "", "")
		return s == http.StatusOK
	})
	var ids []string
	for _, kind := range []string{"asset", "liability"} {
		s, a := call("POST", "/v1/accounts", "", fmt.Sprintf(`{"code":"%s:CNY","currency":"CNY","kind":%q}`, kind, kind))
		if s != http.StatusCreated {
			t.Fatalf("open account: %d %v", s, a)
		}
		ids = append(ids, a["id"].(string))
	}
	s, e := call("POST", "/v1/entries", "e1", fmt.Sprintf(`{"postings":[{"account_id":%q,"direction":"debit","amount":"12.30"},{"account_id":%q,"direction":"credit","amount":"12.30"}]}`, ids[0], ids[1]))
	if s != http.StatusCreated {
		t.Fatalf("post entry: %d %v", s, e)
	}
	entryID := e["id"].(string)
	// The scheduler enqueues the sealer every 2 s and the worker runs it.
	eventually(t, "the worker to seal the entry", 30*time.Second, func() bool {
		_, got := call("GET", "/v1/entries/"+entryID, "", "")
		return got["hash"] != nil
	})
	stop()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("all: exit %d after cancellation", code)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("all did not stop within 20 s of cancellation")
	}

	code, out = xbsettle(t, ctx, "verify")
	if code != 0 || !strings.Contains(out, "tenant T1: ok, 1 sealed") {
		t.Fatalf("verify: exit %d\n%s", code, out)
	}

	// Tamper with the sealed posting behind the trigger's back: only the
	// tables' owner can.
	d, err := db.Open(ctx, testenv.OwnerURL(t, dbURL), 1)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.Exec(`ALTER TABLE postings DISABLE TRIGGER postings_immutable;
		UPDATE postings SET amount = 99 WHERE entry_id = '` + entryID + `';
		ALTER TABLE postings ENABLE TRIGGER postings_immutable`); err != nil {
		t.Fatal(err)
	}
	code, out = xbsettle(t, ctx, "verify")
	if code != 1 || !strings.Contains(out, "altered entry "+entryID) {
		t.Fatalf("verify after tampering: exit %d\n%s", code, out)
	}
}

func eventually(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestSafeDefaults: outside development the long-running commands refuse to
// start without their secret or as a role that owns the tables, and
// migrating needs the owner's URL.
func TestSafeDefaults(t *testing.T) {
	dbURL, _ := env(t)
	ctx := context.Background()
	refuses := func(want int, says string, args ...string) {
		t.Helper()
		var out, errs bytes.Buffer
		if code := run(ctx, args, &out, &errs); code != want || !strings.Contains(errs.String(), says) {
			t.Errorf("xbsettle %v: exit %d, want %d saying %q; stderr:\n%s", args, code, want, says, errs.String())
		}
	}

	t.Setenv("XBS_SECRET_KEY", "")
	for _, cmd := range []string{"serve", "worker", "all"} {
		refuses(2, "XBS_SECRET_KEY is not set", cmd)
	}
	t.Setenv("XBS_SECRET_KEY", "main-test-secret-key-0123456789abcdef")

	t.Setenv("XBS_MIGRATE_DATABASE_URL", "")
	refuses(2, "set XBS_MIGRATE_DATABASE_URL", "migrate")

	t.Setenv("XBS_DATABASE_URL", testenv.OwnerURL(t, dbURL))
	for _, cmd := range []string{"serve", "worker", "all"} {
		refuses(1, "is a superuser", cmd)
	}

	// The owner's URL as both: migrating refuses to grant the owner to itself.
	t.Setenv("XBS_MIGRATE_DATABASE_URL", testenv.OwnerURL(t, dbURL))
	refuses(1, "role of its own", "migrate")

	// As the app role without the owner's URL, a schema behind the binary
	// is not served.
	t.Setenv("XBS_DATABASE_URL", testenv.AppURL(t, testenv.NewEmptyDatabase(t)))
	t.Setenv("XBS_MIGRATE_DATABASE_URL", "")
	refuses(1, "lacks migrations", "serve")
}
