package db

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// The service runs as a role that owns nothing (docs/operations.md,
// "Database roles"): the schema's owner migrates, the app role reads and
// writes rows. A role that owns a table can disable its triggers or drop
// it; one that owns nothing cannot, so the append-only guarantees hold
// against the service's own credentials too.

// grantLock serializes GrantApp within a database: two GRANTs on the same
// table at once fail with "tuple concurrently updated".
const grantLock = 7405002

// AppendOnlyTable is a table whose rows refuse_change() guards: what it
// refuses for UPDATE and DELETE, the app role is not granted either.
type AppendOnlyTable struct {
	Name          string `db:"name"`
	RefusesUpdate bool   `db:"refuses_update"`
	RefusesDelete bool   `db:"refuses_delete"`
}

// pg_trigger.tgtype bits (PostgreSQL's trigger.h).
const appendOnlySQL = `SELECT c.relname AS name,
		bool_or(t.tgtype & 16 <> 0) AS refuses_update,
		bool_or(t.tgtype & 8 <> 0) AS refuses_delete
	FROM pg_trigger t
	JOIN pg_class c ON c.oid = t.tgrelid
	JOIN pg_proc p ON p.oid = t.tgfoid
	WHERE NOT t.tgisinternal AND p.proname = 'refuse_change'
	  AND c.relnamespace = current_schema()::regnamespace
	GROUP BY c.relname
	HAVING bool_or(t.tgtype & 24 <> 0)
	ORDER BY c.relname`

// AppendOnlyTables lists the tables of the current schema whose UPDATE or
// DELETE a refuse_change() trigger refuses. The triggers in migrations/
// are the one declaration of what is append-only; the grants follow them.
func AppendOnlyTables(ctx context.Context, q sqlx.QueryerContext) ([]AppendOnlyTable, error) {
	var ts []AppendOnlyTable
	if err := sqlx.SelectContext(ctx, q, &ts, appendOnlySQL); err != nil {
		return nil, fmt.Errorf("list append-only tables: %w", err)
	}
	return ts, nil
}

// GrantApp makes role (created, without a password, if it does not exist)
// able to do what the service does and nothing else, over owner, a
// connection as the schema's owner:
//
//   - SELECT, INSERT, UPDATE and DELETE on every table, USAGE on every
//     sequence and EXECUTE on every function of the schema — never
//     TRUNCATE, REFERENCES or TRIGGER, and nothing it could own;
//   - then UPDATE and DELETE revoked where a refuse_change() trigger refuses
//     them (AppendOnlyTables), and all but SELECT on goose's version table.
//
// It runs after every migration and converges: a table that becomes
// append-only loses its UPDATE and DELETE the next time.
func GrantApp(ctx context.Context, owner *sqlx.DB, role string) error {
	tx, err := owner.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("grant the app role: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, grantLock); err != nil {
		return fmt.Errorf("grant lock: %w", err)
	}
	var self, schema string
	if err := tx.QueryRowxContext(ctx, `SELECT current_user, current_schema()`).Scan(&self, &schema); err != nil {
		return err
	}
	if role == self {
		return fmt.Errorf("the app role %s is the role that migrates: give the app a role of its own (XBS_DATABASE_URL) and migrate as the owner (XBS_MIGRATE_DATABASE_URL)", role)
	}
	if err := ensureRole(ctx, tx, role); err != nil {
		return err
	}
	r, s := pq.QuoteIdentifier(role), pq.QuoteIdentifier(schema)
	stmts := []string{
		"GRANT USAGE ON SCHEMA " + s + " TO " + r,
		"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA " + s + " TO " + r,
		"GRANT USAGE ON ALL SEQUENCES IN SCHEMA " + s + " TO " + r,
		"GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA " + s + " TO " + r,
		"REVOKE INSERT, UPDATE, DELETE ON goose_db_version FROM " + r,
	}
	tables, err := AppendOnlyTables(ctx, tx)
	if err != nil {
		return err
	}
	for _, t := range tables {
		var refused []string
		if t.RefusesUpdate {
			refused = append(refused, "UPDATE")
		}
		if t.RefusesDelete {
			refused = append(refused, "DELETE")
		}
		stmts = append(stmts, "REVOKE "+strings.Join(refused, ", ")+" ON "+pq.QuoteIdentifier(t.Name)+" FROM "+r)
	}
	for _, stmt := range stmts {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("%s: %w", stmt, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("grant the app role: %w", err)
	}
	return nil
}

// ensureRole creates role as a login role without a password when it does
// not exist; how it authenticates (a password, pg_hba.conf) is the
// operator's to set. Roles are the cluster's, not the database's: a
// migration of another database may create it meanwhile, which is fine.
func ensureRole(ctx context.Context, tx *sqlx.Tx, role string) error {
	var exists bool
	if err := tx.GetContext(ctx, &exists, `SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)`, role); err != nil {
		return err
	}
	if exists {
		return nil
	}
	// A savepoint, so that losing the race leaves the transaction usable.
	if _, err := tx.ExecContext(ctx, `SAVEPOINT create_role`); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, "CREATE ROLE "+pq.QuoteIdentifier(role)+" LOGIN")
	switch {
	case err == nil:
		_, err = tx.ExecContext(ctx, `RELEASE SAVEPOINT create_role`)
		return err
	case HasCode(err, "42710", "23505"): // created meanwhile
		_, err = tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT create_role`)
		return err
	}
	return fmt.Errorf("create the app role %s (the owner needs CREATEROLE, or create it yourself): %w", role, err)
}

// Unprivileged reports an error, saying why, when the role d connects
// as is a superuser, owns the database or owns anything in its schema: what
// such a role's credentials can do, no trigger stops.
func Unprivileged(ctx context.Context, d *sqlx.DB) error {
	var v struct {
		Role      string `db:"rolname"`
		Superuser bool   `db:"rolsuper"`
		OwnsDB    bool   `db:"owns_db"`
		Owned     int    `db:"owned"`
	}
	err := d.GetContext(ctx, &v, `SELECT r.rolname, r.rolsuper,
			EXISTS (SELECT 1 FROM pg_database WHERE datname = current_database() AND datdba = r.oid) AS owns_db,
			(SELECT count(*) FROM pg_class c WHERE c.relowner = r.oid AND c.relnamespace = current_schema()::regnamespace) AS owned
		FROM pg_roles r WHERE r.rolname = current_user`)
	switch {
	case err != nil:
		return fmt.Errorf("look up the database role: %w", err)
	case v.Superuser:
		return fmt.Errorf("the database role %s is a superuser", v.Role)
	case v.OwnsDB:
		return fmt.Errorf("the database role %s owns the database", v.Role)
	case v.Owned > 0:
		return fmt.Errorf("the database role %s owns %d tables, sequences or indexes", v.Role, v.Owned)
	}
	return nil
}

// RoleOf is the user a connection string names: of a postgres:// URL, or
// the user= of a key=value string.
func RoleOf(conn string) (string, error) {
	var user string
	if strings.HasPrefix(conn, "postgres://") || strings.HasPrefix(conn, "postgresql://") {
		u, err := url.Parse(conn)
		if err != nil {
			return "", fmt.Errorf("database URL: %w", err)
		}
		user = u.User.Username()
	} else {
		for _, f := range strings.Fields(conn) {
			if v, ok := strings.CutPrefix(f, "user="); ok {
				user = strings.Trim(v, "'")
			}
		}
	}
	if user == "" {
		return "", errors.New("the database URL names no user: name the app role, such as postgres://xbsettle_app@host/xbsettle")
	}
	return user, nil
}
