package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/hibiken/asynq"
	"github.com/jmoiron/sqlx"

	"github.com/xbsettle/xbsettle/internal/config"
	"github.com/xbsettle/xbsettle/internal/db"
)

// openService connects serve, worker, all and demo to PostgreSQL as the app
// role (XBS_DATABASE_URL). It migrates first, as the owner, when
// XBS_MIGRATE_DATABASE_URL is set, so a fresh database just works; without
// it the schema must already be up to date (a deployment that migrates in a
// step of its own). Outside development it refuses an app role that is a
// superuser or owns anything: its credentials could undo what the
// append-only triggers guarantee (docs/operations.md, "Database roles").
func openService(ctx context.Context, cfg config.Config) (*sqlx.DB, error) {
	if cfg.MigrateURL != "" {
		if err := migrateAsOwner(ctx, cfg); err != nil {
			return nil, err
		}
	}
	d, err := openDB(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := checkService(ctx, cfg, d); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

func checkService(ctx context.Context, cfg config.Config, d *sqlx.DB) error {
	if cfg.MigrateURL == "" {
		pending, err := db.Pending(ctx, d)
		if err != nil {
			return err
		}
		if pending {
			return errors.New("the database lacks migrations of this binary: run xbsettle migrate with XBS_MIGRATE_DATABASE_URL (the owner's), or set it for this process")
		}
	}
	if cfg.SecretKey == config.DevelopmentSecretKey {
		slog.Warn("XBS_SECRET_KEY is not set: personal ID numbers are hashed with the public development key", "env", cfg.Env)
	}
	if err := db.Unprivileged(ctx, d); err != nil {
		if !cfg.Development() {
			return fmt.Errorf("%w: XBS_DATABASE_URL must name a role that owns nothing, such as xbsettle_app (docs/operations.md)", err)
		}
		slog.Warn("the app's database role is privileged; outside development this refuses to start", "err", err)
	}
	return nil
}

// openDB connects to PostgreSQL as the app role.
func openDB(ctx context.Context, cfg config.Config) (*sqlx.DB, error) {
	return db.Open(ctx, cfg.DatabaseURL, cfg.DBMaxConns)
}

// migrateAsOwner applies pending migrations over XBS_MIGRATE_DATABASE_URL
// and grants the app role of XBS_DATABASE_URL what it needs.
func migrateAsOwner(ctx context.Context, cfg config.Config) error {
	role, err := db.RoleOf(cfg.DatabaseURL)
	if err != nil {
		return fmt.Errorf("XBS_DATABASE_URL: %w", err)
	}
	owner, err := db.Open(ctx, cfg.MigrateURL, 2)
	if err != nil {
		return fmt.Errorf("XBS_MIGRATE_DATABASE_URL: %w", err)
	}
	defer owner.Close()
	return db.Migrate(ctx, owner, role)
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
	if cfg.MigrateURL == "" {
		return usageError("migrate: set XBS_MIGRATE_DATABASE_URL to the URL of the schema's owner; XBS_DATABASE_URL names the app role it grants")
	}
	return migrateAsOwner(ctx, cfg)
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
