// Package testenv gives tests a real PostgreSQL database and a real Redis.
//
// The servers are started by scripts/with-stack.sh (what `make test` runs),
// which exports XBS_TEST_DATABASE_URL and XBS_TEST_REDIS_ADDR. A test that
// needs storage and finds them unset fails: a missing service never skips.
//
// Databases are migrated by the server's superuser, their owner, and tests
// reach them as AppRole, the role xbsettle runs as: so every storage test
// also shows that the app role's privileges suffice (docs/operations.md,
// "Database roles"). Owner gives a test that must act behind the service's
// back (tampering, killing backends) the owner's connection.
package testenv

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"github.com/jmoiron/sqlx"
	"github.com/redis/go-redis/v9"

	"github.com/xbsettle/xbsettle/internal/db"
	"github.com/xbsettle/xbsettle/migrations"
)

const hint = "run the suite with `make test`, which starts PostgreSQL and Redis, or export XBS_TEST_DATABASE_URL and XBS_TEST_REDIS_ADDR"

// AppRole is the role tests connect as, as xbsettle does.
const AppRole = "xbsettle_app"

// ServerURL is the superuser URL of the test PostgreSQL server.
func ServerURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("XBS_TEST_DATABASE_URL")
	if u == "" {
		t.Fatalf("XBS_TEST_DATABASE_URL is not set: %s", hint)
	}
	return u
}

// NewDatabase creates a fresh, fully migrated database and returns its URL
// as AppRole. It is dropped when the test ends. Creation copies a migrated template, so
// it costs a few tens of milliseconds however many migrations there are.
func NewDatabase(t testing.TB) string {
	t.Helper()
	server := ServerURL(t)
	ctx := context.Background()
	admin, err := db.Open(ctx, server, 2)
	if err != nil {
		t.Fatalf("test PostgreSQL: %v (%s)", err, hint)
	}
	defer admin.Close()

	tmpl := templateName(t)
	ensureTemplate(t, admin, server, tmpl)
	return AppURL(t, createDatabase(t, tmpl))
}

// createDatabase copies a template into a new database dropped at the end
// of the test, and returns its URL as the owner.
func createDatabase(t testing.TB, tmpl string) string {
	t.Helper()
	server := ServerURL(t)
	ctx := context.Background()
	admin, err := db.Open(ctx, server, 1)
	if err != nil {
		t.Fatalf("test PostgreSQL: %v (%s)", err, hint)
	}
	defer admin.Close()
	name := "xbs_test_" + strings.ReplaceAll(uuid.NewString(), "-", "")[:16]
	if _, err := admin.ExecContext(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", name, tmpl)); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		admin, err := db.Open(context.Background(), server, 1)
		if err != nil {
			return
		}
		defer admin.Close()
		_, _ = admin.Exec(fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", name))
	})
	return withDatabase(t, server, name)
}

// NewEmptyDatabase creates a database with no tables at all and returns its
// URL as the owner; it is dropped when the test ends. For tests of the
// migrations.
func NewEmptyDatabase(t testing.TB) string {
	t.Helper()
	return createDatabase(t, "template0")
}

// NewDB is NewDatabase, opened with a pool of maxConns connections.
func NewDB(t testing.TB, maxConns int) *sqlx.DB {
	t.Helper()
	d, err := db.Open(context.Background(), NewDatabase(t), maxConns)
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// ensureTemplate migrates the template database once per migration set,
// under an advisory lock because test packages run as parallel processes.
func ensureTemplate(t testing.TB, admin *sqlx.DB, server, tmpl string) {
	t.Helper()
	ctx := context.Background()
	conn, err := admin.Connx(ctx)
	if err != nil {
		t.Fatalf("test PostgreSQL: %v", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(7405001)"); err != nil {
		t.Fatalf("template lock: %v", err)
	}
	defer conn.ExecContext(ctx, "SELECT pg_advisory_unlock(7405001)") //nolint:errcheck // released with the session anyway
	var exists bool
	if err := conn.GetContext(ctx, &exists, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", tmpl); err != nil {
		t.Fatalf("look up template: %v", err)
	}
	if exists {
		return
	}
	building := tmpl + "_building"
	_, _ = conn.ExecContext(ctx, "DROP DATABASE IF EXISTS "+building)
	if _, err := conn.ExecContext(ctx, "CREATE DATABASE "+building); err != nil {
		t.Fatalf("create template: %v", err)
	}
	tdb, err := db.Open(ctx, withDatabase(t, server, building), 1)
	if err != nil {
		t.Fatalf("open template: %v", err)
	}
	err = db.Migrate(ctx, tdb, AppRole)
	tdb.Close()
	if err != nil {
		t.Fatalf("migrate template: %v", err)
	}
	// Renaming last means a crash half-way never leaves a half-migrated template.
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("ALTER DATABASE %s RENAME TO %s", building, tmpl)); err != nil {
		t.Fatalf("publish template: %v", err)
	}
}

// templateName changes whenever a migration file changes.
func templateName(t testing.TB) string {
	h := sha256.New()
	err := fs.WalkDir(migrations.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(migrations.FS, path)
		h.Write([]byte(path))
		h.Write(b)
		return err
	})
	if err != nil {
		t.Fatalf("read migrations: %v", err)
	}
	return "xbs_tmpl_" + hex.EncodeToString(h.Sum(nil))[:16]
}

// OwnerURL is the URL of the same database as u, as its owner.
func OwnerURL(t testing.TB, u string) string {
	t.Helper()
	server, err := url.Parse(ServerURL(t))
	if err != nil {
		t.Fatalf("XBS_TEST_DATABASE_URL: %v", err)
	}
	return asRole(t, u, server.User)
}

// AppURL is the URL of the same database as u, as AppRole.
func AppURL(t testing.TB, u string) string {
	t.Helper()
	return asRole(t, u, url.User(AppRole))
}

// Owner opens a connection as the owner to the database d is connected to,
// closed when the test ends.
func Owner(t testing.TB, d *sqlx.DB) *sqlx.DB {
	t.Helper()
	var name string
	if err := d.Get(&name, `SELECT current_database()`); err != nil {
		t.Fatalf("name the test database: %v", err)
	}
	o, err := db.Open(context.Background(), withDatabase(t, ServerURL(t), name), 2)
	if err != nil {
		t.Fatalf("open the test database as its owner: %v", err)
	}
	t.Cleanup(func() { o.Close() })
	return o
}

// asRole is u with its user (and password) replaced.
func asRole(t testing.TB, u string, user *url.Userinfo) string {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil {
		t.Fatalf("database URL: %v", err)
	}
	p.User = user
	return p.String()
}

func withDatabase(t testing.TB, server, name string) string {
	u, err := url.Parse(server)
	if err != nil {
		t.Fatalf("XBS_TEST_DATABASE_URL: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

// Redis returns connection options for an empty Redis database of its own.
// Test processes share one server, so each takes a logical database number
// from a counter kept in database 0 and empties it first.
func Redis(t testing.TB) asynq.RedisClientOpt {
	t.Helper()
	addr := os.Getenv("XBS_TEST_REDIS_ADDR")
	if addr == "" {
		t.Fatalf("XBS_TEST_REDIS_ADDR is not set: %s", hint)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	n, err := c.Incr(ctx, "xbs:test:next-db").Result()
	if err != nil {
		t.Fatalf("test Redis at %s: %v (%s)", addr, err, hint)
	}
	// scripts/with-stack.sh starts Redis with 1024 databases, so a number
	// comes back round only long after the test that had it has ended.
	dbn := int(1 + n%1023)
	r := redis.NewClient(&redis.Options{Addr: addr, DB: dbn})
	defer r.Close()
	if err := r.FlushDB(ctx).Err(); err != nil {
		t.Fatalf("flush test Redis db %d: %v", dbn, err)
	}
	return asynq.RedisClientOpt{Addr: addr, DB: dbn}
}
