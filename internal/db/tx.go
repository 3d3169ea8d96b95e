package db

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Attempts bounds how often InTx runs a transaction that keeps failing in
// a way worth trying again.
const Attempts = 4

// InTx runs fn in one transaction, committed when fn returns nil and rolled
// back otherwise. A transaction that failed in a way worth trying again —
// Transient by default, or what retry says — runs again, at most Attempts
// times in all.
//
//	err := db.InTx(ctx, pool, func(tx *sqlx.Tx) error { … })
func InTx(ctx context.Context, pool *sqlx.DB, fn func(tx *sqlx.Tx) error, retry ...func(error) bool) error {
	again := Transient
	if len(retry) > 0 {
		again = retry[0]
	}
	var err error
	for attempt := 1; attempt <= Attempts; attempt++ {
		if err = once(ctx, pool, fn); !again(err) {
			return err
		}
		slog.DebugContext(ctx, "transaction retried", "attempt", attempt, "err", err)
	}
	return fmt.Errorf("gave up after %d attempts: %w", Attempts, err)
}

func once(ctx context.Context, pool *sqlx.DB, fn func(tx *sqlx.Tx) error) error {
	tx, err := pool.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// Transient reports a failure that running the transaction again can cure:
// PostgreSQL chose it as a deadlock victim or it lost a serialization race.
func Transient(err error) bool {
	return HasCode(err, "40P01", "40001")
}

// HasCode reports whether err is a PostgreSQL error with one of the codes.
func HasCode(err error, codes ...string) bool {
	var pqErr *pq.Error
	if !errors.As(err, &pqErr) {
		return false
	}
	for _, c := range codes {
		if string(pqErr.Code) == c {
			return true
		}
	}
	return false
}
