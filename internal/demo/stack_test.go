package demo_test

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/jmoiron/sqlx"

	"github.com/xbsettle/xbsettle/api"
	"github.com/xbsettle/xbsettle/internal/testenv"
	"github.com/xbsettle/xbsettle/ledger"
	"github.com/xbsettle/xbsettle/risk"
	"github.com/xbsettle/xbsettle/settlement"
	"github.com/xbsettle/xbsettle/settlement/clearance"
)

// stack is the real API and its workers over a fresh database and Redis,
// wired as `xbsettle all` wires them, served on a loopback port.
type stack struct {
	db   *sqlx.DB
	url  string
	keys *api.KeyStore
}

// testCutoff is the stack's cut-off: late, so that a test run at almost
// any hour settles on today's value date (see waitPastMidnight).
var testCutoff = settlement.Cutoff{Hour: 23, Minute: 59}

func startStack(t *testing.T) *stack {
	t.Helper()
	db := testenv.NewDB(t, 40)
	ropt := testenv.Redis(t)
	client := asynq.NewClient(ropt)
	t.Cleanup(func() { client.Close() })

	led := ledger.NewService(db, ledger.NewTaskScheduler(client), ledger.WithBatching(4, ledger.MaxBatch))
	t.Cleanup(led.Close)
	clr, err := clearance.NewService(db, []byte("demo-test-secret-key-0123456789abcdef"), clearance.NewTaskScheduler(client))
	if err != nil {
		t.Fatal(err)
	}
	rsk, err := risk.NewService(db, risk.WithEnqueuer(risk.NewTaskEnqueuer(client)))
	if err != nil {
		t.Fatal(err)
	}
	fx, err := settlement.NewFX(db)
	if err != nil {
		t.Fatal(err)
	}
	set := settlement.NewService(db, led, fx, settlement.WithEnqueuer(settlement.NewTaskEnqueuer(client)),
		settlement.WithCutoff(testCutoff), settlement.WithCategoryPolicy(rsk.Policy()))
	keys := api.NewKeyStore(db)
	logger := slog.New(slog.NewTextHandler(testLog{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	srv := api.New(api.Deps{Ledger: led, Clearance: clr, FX: fx, Settlement: set, Risk: rsk, Keys: keys, Logger: logger})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)

	worker := asynq.NewServer(ropt, asynq.Config{
		Concurrency:              8,
		Queues:                   map[string]int{ledger.QueueName: 1, clearance.QueueName: 1, settlement.QueueName: 1, risk.QueueName: 1},
		DelayedTaskCheckInterval: 100 * time.Millisecond,
		LogLevel:                 asynq.ErrorLevel,
		ErrorHandler: asynq.ErrorHandlerFunc(func(ctx context.Context, task *asynq.Task, err error) {
			logger.WarnContext(ctx, "task failed", "type", task.Type(), "err", err)
		}),
	})
	mux := asynq.NewServeMux()
	ledger.RegisterTasks(mux, led)
	clearance.RegisterTasks(mux, clr)
	settlement.RegisterTasks(mux, set)
	risk.RegisterTasks(mux, rsk)
	if err := worker.Start(mux); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(worker.Shutdown)
	return &stack{db: db, url: ts.URL, keys: keys}
}

// testLog sends the server's warnings to the test log.
type testLog struct{ t *testing.T }

func (w testLog) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// waitPastMidnight waits out the last minutes of a Beijing day: items
// batched from the cut-off (23:59) on take tomorrow's value date, which
// the operator cannot cut off today.
func waitPastMidnight(t *testing.T) {
	now := time.Now().In(time.FixedZone("CST", 8*3600))
	if now.Hour() == 23 && now.Minute() >= 55 {
		next := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 5, 0, now.Location())
		t.Logf("waiting %s for the Beijing day to turn", next.Sub(now).Round(time.Second))
		time.Sleep(next.Sub(now))
	}
}
