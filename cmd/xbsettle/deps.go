package main

import (
	"context"
	"flag"
	"io"

	"github.com/hibiken/asynq"
	"github.com/jmoiron/sqlx"

	"github.com/xbsettle/xbsettle/internal/config"
	"github.com/xbsettle/xbsettle/internal/db"
)

// openDB connects to PostgreSQL, applying pending migrations first when
// migrate is set (serve, worker and all do, so a fresh database just works).
func openDB(ctx context.Context, cfg config.Config, migrate bool) (*sqlx.DB, error) {
	d, err := db.Open(ctx, cfg.DatabaseURL, cfg.DBMaxConns)
	if err != nil {
		return nil, err
	}
	if migrate {
		if err := db.Migrate(ctx, d); err != nil {
			d.Close()
			return nil, err
		}
	}
	return d, nil
}

// redisOpt is where Asynq finds Redis.
func redisOpt(cfg config.Config) asynq.RedisClientOpt {
	return asynq.RedisClientOpt{Addr: cfg.RedisAddr, DB: cfg.RedisDB}
}

// migrate: xbsettle migrate.
func migrate(ctx context.Context, cfg config.Config, args []string) error {
	if err := parseFlags(flag.NewFlagSet("migrate", flag.ContinueOnError), args); err != nil {
		return err
	}
	d, err := openDB(ctx, cfg, true)
	if err != nil {
		return err
	}
	return d.Close()
}

// parseFlags parses a subcommand's flags, refusing stray arguments.
func parseFlags(fs *flag.FlagSet, args []string) error {
	fs.SetOutput(io.Discard) // errors are reported once, by run
	if err := fs.Parse(args); err != nil {
		return usageError("%s: %v", fs.Name(), err)
	}
	if fs.NArg() > 0 {
		return usageError("%s: unexpected arguments %v", fs.Name(), fs.Args())
	}
	return nil
}
