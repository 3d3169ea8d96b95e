package db_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/xbsettle/xbsettle/internal/db"
	"github.com/xbsettle/xbsettle/internal/testenv"
)

// killable is an app pool and the owner's connection to the same
// database, with a keyed table the app role may write.
func killable(t *testing.T) (app, owner *sqlx.DB) {
	t.Helper()
	app = testenv.NewDB(t, 2)
	owner = testenv.Owner(t, app)
	if _, err := owner.Exec(`CREATE TABLE payments (key text PRIMARY KEY);
		GRANT SELECT, INSERT ON payments TO ` + testenv.AppRole); err != nil {
		t.Fatal(err)
	}
	return app, owner
}

// kill terminates the backend of tx from the owner's connection, waiting
// until it is gone.
func kill(t *testing.T, owner *sqlx.DB, tx *sqlx.Tx) {
	t.Helper()
	var pid int
	if err := tx.Get(&pid, `SELECT pg_backend_pid()`); err != nil {
		t.Fatal(err)
	}
	var gone bool
	if err := owner.Get(&gone, `SELECT pg_terminate_backend($1, 5000)`, pid); err != nil || !gone {
		t.Fatalf("terminate backend %d: %v %v", pid, gone, err)
	}
}

func countPayments(t *testing.T, owner *sqlx.DB) int {
	t.Helper()
	var n int
	if err := owner.Get(&n, `SELECT count(*) FROM payments`); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestInTxRetriesATransactionWhoseConnectionWasKilled: the backend of a
// transaction is terminated half-way, after its first write; InTx runs it
// again on a new connection and it commits exactly once.
func TestInTxRetriesATransactionWhoseConnectionWasKilled(t *testing.T) {
	t.Parallel()
	app, owner := killable(t)
	attempts := 0
	err := db.InTx(context.Background(), app, func(tx *sqlx.Tx) error {
		attempts++
		if _, err := tx.Exec(`INSERT INTO payments VALUES ('p1')`); err != nil {
			return err
		}
		if attempts == 1 {
			kill(t, owner, tx)
		}
		_, err := tx.Exec(`INSERT INTO payments VALUES ('p1-fee')`)
		return err
	})
	if err != nil || attempts != 2 {
		t.Fatalf("InTx: %v after %d attempts, want success on the 2nd", err, attempts)
	}
	if n := countPayments(t, owner); n != 2 {
		t.Fatalf("%d rows, want the transaction's 2 once", n)
	}
}

// TestInTxLeavesALostCommitToTheCaller: a transaction whose connection dies
// at COMMIT may have committed, so InTx does not run it again; the error
// says the database is away (the API's 503, retried with the client's key).
func TestInTxLeavesALostCommitToTheCaller(t *testing.T) {
	t.Parallel()
	app, owner := killable(t)
	attempts := 0
	err := db.InTx(context.Background(), app, func(tx *sqlx.Tx) error {
		attempts++
		if _, err := tx.Exec(`INSERT INTO payments VALUES ('p1')`); err != nil {
			return err
		}
		kill(t, owner, tx)
		return nil
	})
	if !db.Unavailable(err) || attempts != 1 {
		t.Fatalf("InTx: %v after %d attempts, want the lost commit's error after 1", err, attempts)
	}
	if n := countPayments(t, owner); n != 0 {
		t.Fatalf("%d rows, want none: the backend died before the commit", n)
	}
}

// TestInTxGivesUpWhileTheDatabaseIsAway: with nothing to connect to, InTx
// retries a bounded number of times and reports the database unavailable.
func TestInTxGivesUpWhileTheDatabaseIsAway(t *testing.T) {
	t.Parallel()
	proxy, url := testenv.NewProxy(t, testenv.NewDatabase(t))
	app, err := db.Open(context.Background(), url, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	proxy.Stop()
	attempts := 0
	err = db.InTx(context.Background(), app, func(tx *sqlx.Tx) error {
		attempts++
		return nil
	})
	if !db.Unavailable(err) || attempts != 0 {
		t.Fatalf("InTx: %v with fn run %d times, want unavailable before fn ran", err, attempts)
	}
	proxy.Start()
	if err := db.InTx(context.Background(), app, func(tx *sqlx.Tx) error { attempts++; return nil }); err != nil || attempts != 1 {
		t.Fatalf("InTx once the database is back: %v, fn run %d times", err, attempts)
	}
}

func TestUnavailable(t *testing.T) {
	t.Parallel()
	for _, err := range []error{context.Canceled, context.DeadlineExceeded, errors.New("boom"), nil} {
		if db.Unavailable(err) {
			t.Errorf("Unavailable(%v) = true", err)
		}
	}
}
