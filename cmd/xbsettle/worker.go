package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"time"

	"github.com/hibiken/asynq"

	"github.com/xbsettle/xbsettle/internal/config"
	"github.com/xbsettle/xbsettle/ledger"
	"github.com/xbsettle/xbsettle/risk"
	"github.com/xbsettle/xbsettle/settlement"
	"github.com/xbsettle/xbsettle/settlement/clearance"
)

// work: xbsettle worker. It runs until SIGINT or SIGTERM.
func work(ctx context.Context, cfg config.Config, args []string) error {
	fs := flag.NewFlagSet("worker", flag.ContinueOnError)
	withScheduler := fs.Bool("scheduler", true, "also run the periodic task scheduler (run exactly one per deployment)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	d, err := openService(ctx, cfg)
	if err != nil {
		return err
	}
	defer d.Close()
	client := asynq.NewClient(redisOpt(cfg))
	defer client.Close()
	clr, err := clearance.NewService(d, []byte(cfg.SecretKey), clearance.NewTaskScheduler(client))
	if err != nil {
		return err
	}
	led := ledger.NewService(d, ledger.NewTaskScheduler(client))
	rsk, err := newRisk(d, client)
	if err != nil {
		return err
	}
	_, set, err := newSettlement(d, led, client, cfg, rsk.Policy())
	if err != nil {
		return err
	}
	w, err := startWorker(cfg, services{ledger: led, clearance: clr, settlement: set, risk: rsk}, *withScheduler)
	if err != nil {
		return err
	}
	<-ctx.Done()
	slog.Info("shutting down; waiting for tasks in flight", "timeout", cfg.ShutdownIn)
	w.stop()
	return nil
}

// worker is a running Asynq server and, optionally, the scheduler that
// enqueues the periodic tasks.
type worker struct {
	srv   *asynq.Server
	sched *asynq.Scheduler
}

// services are the domain services whose tasks the worker runs.
type services struct {
	ledger     *ledger.Service
	clearance  *clearance.Service
	settlement *settlement.Service
	risk       *risk.Service
}

// startWorker starts the task handlers of every domain package and, with
// withScheduler, their periodic tasks. Asynq delivers at least once; the
// handlers are idempotent in PostgreSQL.
func startWorker(cfg config.Config, svc services, withScheduler bool) (*worker, error) {
	log := asynqLogger{}
	srv := asynq.NewServer(redisOpt(cfg), asynq.Config{
		Concurrency:     cfg.Concurrency,
		Queues:          map[string]int{ledger.QueueName: 1, clearance.QueueName: 1, settlement.QueueName: 1, risk.QueueName: 1},
		ShutdownTimeout: cfg.ShutdownIn,
		Logger:          log,
		ErrorHandler: asynq.ErrorHandlerFunc(func(ctx context.Context, t *asynq.Task, err error) {
			slog.WarnContext(ctx, "task failed", "type", t.Type(), "err", err)
		}),
	})
	mux := asynq.NewServeMux()
	ledger.RegisterTasks(mux, svc.ledger)
	clearance.RegisterTasks(mux, svc.clearance)
	settlement.RegisterTasks(mux, svc.settlement)
	risk.RegisterTasks(mux, svc.risk)
	if err := srv.Start(mux); err != nil {
		return nil, fmt.Errorf("start worker: %w", err)
	}
	w := &worker{srv: srv}
	if !withScheduler {
		return w, nil
	}
	w.sched = asynq.NewScheduler(redisOpt(cfg), &asynq.SchedulerOpts{Location: time.UTC, Logger: log})
	for _, p := range slices.Concat(ledger.PeriodicTasks(), clearance.PeriodicTasks(), settlement.PeriodicTasks(), risk.PeriodicTasks()) {
		if _, err := w.sched.Register(p.Cronspec, p.Task, p.Opts...); err != nil {
			w.stop()
			return nil, fmt.Errorf("schedule %s: %w", p.Task.Type(), err)
		}
	}
	if err := w.sched.Start(); err != nil {
		w.sched = nil
		w.stop()
		return nil, fmt.Errorf("start scheduler: %w", err)
	}
	slog.Info("worker started", "queues", []string{ledger.QueueName, clearance.QueueName, settlement.QueueName, risk.QueueName}, "scheduler", withScheduler)
	return w, nil
}

// stop stops enqueuing periodic tasks, then lets the running ones finish.
func (w *worker) stop() {
	if w.sched != nil {
		w.sched.Shutdown()
	}
	w.srv.Shutdown()
}

// asynqLogger sends Asynq's logs to slog.
type asynqLogger struct{}

func (asynqLogger) Debug(args ...any) { slog.Debug(fmt.Sprint(args...), "component", "asynq") }
func (asynqLogger) Info(args ...any)  { slog.Info(fmt.Sprint(args...), "component", "asynq") }
func (asynqLogger) Warn(args ...any)  { slog.Warn(fmt.Sprint(args...), "component", "asynq") }
func (asynqLogger) Error(args ...any) { slog.Error(fmt.Sprint(args...), "component", "asynq") }

// Fatal is called by Asynq for errors it cannot go on from.
func (asynqLogger) Fatal(args ...any) {
	slog.Error(fmt.Sprint(args...), "component", "asynq")
	os.Exit(1)
}
