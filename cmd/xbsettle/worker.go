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
	srv         *asynq.Server
	sched       *asynq.Scheduler
	stopSweeps  context.CancelFunc
	sweepsEnded chan struct{}
}

// startSweepTimeout bounds each sweep a starting worker runs.
const startSweepTimeout = time.Minute

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
	periodic := slices.Concat(ledger.PeriodicTasks(), clearance.PeriodicTasks(), settlement.PeriodicTasks(), risk.PeriodicTasks())
	w := &worker{srv: srv}
	w.sweepAtStart(mux, periodic)
	if !withScheduler {
		return w, nil
	}
	w.sched = asynq.NewScheduler(redisOpt(cfg), &asynq.SchedulerOpts{Location: time.UTC, Logger: log})
	for _, p := range periodic {
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

// sweepAtStart runs the sweepers (the periodic tasks marked AtStart) once,
// one after the other, in the background, through the same handlers the
// queue calls: a worker that starts after a crash or a Redis flush finds
// the lost work at once instead of at the scheduler's first period. Every
// worker process does, scheduler or not; the sweeps are idempotent, so
// several workers starting together only repeat a query.
func (w *worker) sweepAtStart(h asynq.Handler, periodic []ledger.PeriodicTask) {
	ctx, cancel := context.WithCancel(context.Background())
	w.stopSweeps, w.sweepsEnded = cancel, make(chan struct{})
	go func() {
		defer close(w.sweepsEnded)
		for _, p := range periodic {
			if !p.AtStart {
				continue
			}
			tctx, done := context.WithTimeout(ctx, startSweepTimeout)
			if err := h.ProcessTask(tctx, p.Task); err != nil && ctx.Err() == nil {
				slog.Warn("sweep at start failed; the scheduler runs it again", "type", p.Task.Type(), "err", err)
			}
			done()
		}
	}()
}

// stop stops the sweeps at start and the periodic tasks, then lets the
// running tasks finish.
func (w *worker) stop() {
	w.stopSweeps()
	<-w.sweepsEnded
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
