package main

import (
	"context"
	"flag"
	"log/slog"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/xbsettle/xbsettle/api"
	"github.com/xbsettle/xbsettle/internal/config"
	"github.com/xbsettle/xbsettle/ledger"
	"github.com/xbsettle/xbsettle/settlement/clearance"
)

// serve: xbsettle serve, and with the workers xbsettle all. It runs until
// SIGINT or SIGTERM, then lets the requests and tasks in flight finish
// (up to XBS_SHUTDOWN_TIMEOUT).
func serve(ctx context.Context, cfg config.Config, args []string, withWorker bool) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	withScheduler := fs.Bool("scheduler", true, "with all: also run the periodic task scheduler (run exactly one per deployment)")
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
	rdb := redis.NewClient(&redis.Options{Addr: cfg.RedisAddr, DB: cfg.RedisDB})
	defer rdb.Close()

	// The API groups concurrent posts of a tenant into shared transactions
	// (docs/architecture.md, "Group commit").
	svc := ledger.NewService(d, ledger.NewTaskScheduler(client), ledger.WithBatching(ledgerLanes(cfg), ledger.MaxBatch))
	defer svc.Close()
	clr, err := clearance.NewService(d, []byte(cfg.SecretKey), clearance.NewTaskScheduler(client))
	if err != nil {
		return err
	}
	rsk, err := newRisk(d, client)
	if err != nil {
		return err
	}
	fx, set, err := newSettlement(d, svc, client, cfg, rsk.Policy())
	if err != nil {
		return err
	}
	srv := api.New(api.Deps{
		Ledger:     svc,
		Clearance:  clr,
		FX:         fx,
		Settlement: set,
		Risk:       rsk,
		Keys:       api.NewKeyStore(d),
		Checks: []api.Check{
			{Name: "postgres", Ping: d.PingContext},
			{Name: "redis", Ping: func(ctx context.Context) error { return rdb.Ping(ctx).Err() }},
		},
		Logger:         slog.Default(),
		RequestTimeout: cfg.RequestIn,
	})
	if withWorker {
		w, err := startWorker(cfg, services{ledger: svc, clearance: clr, settlement: set, risk: rsk}, *withScheduler)
		if err != nil {
			return err
		}
		defer w.stop()
	}

	served := make(chan error, 1)
	go func() { served <- srv.ListenAndServe(cfg.HTTPAddr) }()
	select {
	case err := <-served: // could not listen
		return err
	case <-ctx.Done():
	}
	slog.Info("shutting down; waiting for requests in flight", "timeout", cfg.ShutdownIn)
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownIn)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	return <-served
}

// ledgerLanes spreads tenants over a quarter of the pool, leaving
// connections for reads, holds and the other services.
func ledgerLanes(cfg config.Config) int {
	return max(1, cfg.DBMaxConns/4)
}
