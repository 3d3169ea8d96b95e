// Package db opens PostgreSQL connections and applies the migrations.
package db

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq" // the PostgreSQL driver
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/xbsettle/xbsettle/migrations"
)

// Open connects to PostgreSQL and checks the connection.
func Open(ctx context.Context, url string, maxConns int) (*sqlx.DB, error) {
	db, err := sqlx.Open("postgres", url)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	return db, nil
}

// Migrate applies every pending migration over owner, a connection as the
// schema's owner, then gives appRole the privileges the service needs and no
// more (GrantApp). A PostgreSQL advisory lock makes it safe when several
// processes start at once: one migrates, the others wait and then find
// nothing left to do.
func Migrate(ctx context.Context, owner *sqlx.DB, appRole string) error {
	p, err := provider(owner, true)
	if err != nil {
		return err
	}
	results, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("apply migrations: %w", err)
	}
	for _, r := range results {
		slog.Info("migration applied", "version", r.Source.Version, "file", r.Source.Path, "took", r.Duration)
	}
	return GrantApp(ctx, owner, appRole)
}

// Pending reports whether the database behind d lacks a migration of this
// binary. It only reads, so the app role may ask.
func Pending(ctx context.Context, d *sqlx.DB) (bool, error) {
	// goose would create its version table when it is missing.
	var migrated bool
	if err := d.GetContext(ctx, &migrated, `SELECT to_regclass('goose_db_version') IS NOT NULL`); err != nil || !migrated {
		return true, err
	}
	p, err := provider(d, false)
	if err != nil {
		return false, err
	}
	pending, err := p.HasPending(ctx)
	if err != nil {
		return false, fmt.Errorf("read the applied migrations: %w", err)
	}
	return pending, nil
}

func provider(d *sqlx.DB, locked bool) (*goose.Provider, error) {
	var opts []goose.ProviderOption
	if locked {
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, fmt.Errorf("migration lock: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(goose.DialectPostgres, d.DB, migrations.FS, opts...)
	if err != nil {
		return nil, fmt.Errorf("load migrations: %w", err)
	}
	return p, nil
}
