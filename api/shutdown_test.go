package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"
)

// TestGracefulShutdown: a request in flight when Shutdown starts finishes
// and is answered, while new connections are refused.
func TestGracefulShutdown(t *testing.T) {
	t.Parallel()
	b := setup(t)
	merchant, sink := limitedAccount(b)

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	served := make(chan error, 1)
	go func() { served <- b.server.Serve(l) }()

	// Hold the merchant's row so that the entry below waits in the ledger:
	// a request genuinely in flight, not a sleep.
	ctx := context.Background()
	blocker, err := b.db.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer blocker.Rollback() //nolint:errcheck // committed below
	if _, err := blocker.ExecContext(ctx, `SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE`, merchant.ID); err != nil {
		t.Fatal(err)
	}

	type answer struct {
		status int
		body   []byte
		err    error
	}
	inflight := make(chan answer, 1)
	go func() {
		raw, _ := json.Marshal(transfer(merchant.ID, sink.ID, "1.00"))
		hr, _ := http.NewRequest("POST", "http://"+addr+"/v1/entries", bytes.NewReader(raw))
		hr.Header.Set("Authorization", "Bearer "+b.pi)
		hr.Header.Set("Content-Type", "application/json")
		hr.Header.Set("Idempotency-Key", "in-flight")
		resp, err := http.DefaultClient.Do(hr)
		if err != nil {
			inflight <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		inflight <- answer{status: resp.StatusCode, body: body, err: err}
	}()
	waitFor(t, "the entry to wait on the row lock", func() bool {
		var waiting int
		err := b.db.Get(&waiting, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`)
		return err == nil && waiting > 0
	})

	shutdown := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		shutdown <- b.server.Shutdown(ctx)
	}()
	waitFor(t, "the listener to close", func() bool {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
		}
		return errors.Is(err, syscall.ECONNREFUSED)
	})
	select {
	case err := <-shutdown:
		t.Fatalf("Shutdown returned (%v) while a request was in flight", err)
	case a := <-inflight:
		t.Fatalf("the in-flight request ended early: %+v", a)
	default:
	}

	if err := blocker.Commit(); err != nil {
		t.Fatal(err)
	}
	a := <-inflight
	if a.err != nil || a.status != http.StatusCreated {
		t.Fatalf("in-flight request: %d %s %v", a.status, a.body, a.err)
	}
	if err := <-shutdown; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve after Shutdown: %v", err)
	}
	if _, err := net.DialTimeout("tcp", addr, time.Second); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("a new connection after shutdown: %v, want connection refused", err)
	}
}

// waitFor polls cond for up to 10 s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
