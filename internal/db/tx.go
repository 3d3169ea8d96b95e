package db

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Attempts bounds how often InTx runs a transaction that keeps failing in
// a way worth trying again.
const Attempts = 4

// reconnectBackoff is the first wait before a transaction runs again after
// its connection was lost; it doubles with each attempt (50, 100, 200 ms:
// about a third of a second in all before InTx gives up and the API answers
// 503). A lost race is retried at once: waiting would not help it.
const reconnectBackoff = 50 * time.Millisecond

// InTx runs fn in one transaction, committed when fn returns nil and rolled
// back otherwise. A transaction that failed in a way worth trying again —
// Transient by default, or what retry says — runs again, at most Attempts
// times in all. So does one whose connection was lost (Unavailable) before
// it committed, after a backoff: it wrote nothing. One whose connection was
// lost during COMMIT is not run again, because whether it committed is
// unknown; its error goes up to a caller that can tell, by a key
// (docs/operations.md, "Faults").
//
//	err := db.InTx(ctx, pool, func(tx *sqlx.Tx) error { … })
func InTx(ctx context.Context, pool *sqlx.DB, fn func(tx *sqlx.Tx) error, retry ...func(error) bool) error {
	again := Transient
	if len(retry) > 0 {
		again = retry[0]
	}
	var err error
	for attempt := 1; attempt <= Attempts; attempt++ {
		err = once(ctx, pool, fn)
		switch {
		case err == nil:
			return nil
		case again(err):
		case Unavailable(err) && !lostCommit(err) && attempt < Attempts:
			wait := reconnectBackoff << (attempt - 1)
			wait += rand.N(wait / 2) // jitter, so that the pool does not reconnect in step
			if serr := sleep(ctx, wait); serr != nil {
				return fmt.Errorf("%w (and then %w)", err, serr)
			}
		default:
			return err
		}
		slog.DebugContext(ctx, "transaction retried", "attempt", attempt, "err", err)
	}
	return fmt.Errorf("gave up after %d attempts: %w", Attempts, err)
}

// commitError is a failed COMMIT.
type commitError struct{ err error }

func (e commitError) Error() string { return "commit: " + e.err.Error() }
func (e commitError) Unwrap() error { return e.err }

// lostCommit reports a COMMIT whose connection went away: it may or may not
// have committed.
func lostCommit(err error) bool {
	var ce commitError
	return errors.As(err, &ce) && Unavailable(err)
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
		return commitError{err}
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Transient reports a failure that running the transaction again can cure:
// PostgreSQL chose it as a deadlock victim or it lost a serialization race.
func Transient(err error) bool {
	return HasCode(err, "40P01", "40001")
}

// Unavailable reports an error that says the database is away rather than
// anything about the statement: it could not be reached (connection
// refused, reset, timed out), the connection broke, or the server is
// shutting down, restarting or not accepting connections yet (SQLSTATE
// class 08, 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03
// cannot_connect_now). A cancelled or expired context is not: that is the
// caller giving up.
func Unavailable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		return pqErr.Code.Class() == "08" || HasCode(err, "57P01", "57P02", "57P03")
	}
	var netErr net.Error
	return errors.Is(err, driver.ErrBadConn) || errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &netErr)
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
