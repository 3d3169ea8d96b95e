package db_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/xbsettle/xbsettle/internal/db"
	"github.com/xbsettle/xbsettle/internal/testenv"
)

// appendOnly lists the append-only tables of a migrated database, checking
// that the catalog query finds at least the ones known to be append-only.
func appendOnly(t *testing.T, d *sqlx.DB) []db.AppendOnlyTable {
	t.Helper()
	tables, err := db.AppendOnlyTables(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tb := range tables {
		names = append(names, tb.Name)
	}
	for _, want := range []string{"entries", "postings", "entry_seals", "holds", "clearance_documents", "clearance_verdicts",
		"fx_rates", "fx_quotes", "settlement_item_events", "enterprise_consents", "fx_violations", "fx_reporting_gaps",
		"fx_category_decisions", "tax_classifications", "settlement_registrations", "clearance_tariff_changes"} {
		if !slices.Contains(names, want) {
			t.Errorf("append-only tables %v lack %s", names, want)
		}
	}
	return tables
}

// TestAppRoleCannotAlterAppendOnlyTables: as the role xbsettle runs as,
// UPDATE, DELETE (where the table's trigger refuses them) and TRUNCATE of
// every append-only table are refused for lack of privilege, before any
// trigger, and so is disabling the triggers: only a table's owner may.
func TestAppRoleCannotAlterAppendOnlyTables(t *testing.T) {
	t.Parallel()
	app := testenv.NewDB(t, 2)
	ctx := context.Background()
	if err := db.Unprivileged(ctx, app); err != nil {
		t.Fatalf("the app role: %v", err)
	}
	refused := func(stmt string) {
		t.Helper()
		_, err := app.ExecContext(ctx, stmt)
		if !db.HasCode(err, "42501") { // insufficient_privilege
			t.Errorf("%s as the app role: %v, want insufficient_privilege", stmt, err)
		}
	}
	for _, tb := range appendOnly(t, app) {
		if tb.RefusesUpdate {
			var col string
			if err := app.Get(&col, `SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass AND attnum = 1`, tb.Name); err != nil {
				t.Fatal(err)
			}
			refused("UPDATE " + tb.Name + " SET " + col + " = " + col)
		}
		if tb.RefusesDelete {
			refused("DELETE FROM " + tb.Name)
		}
		refused("TRUNCATE " + tb.Name)
		refused("ALTER TABLE " + tb.Name + " DISABLE TRIGGER ALL")
		refused("ALTER TABLE " + tb.Name + " DISABLE TRIGGER USER")
		refused("DROP TABLE " + tb.Name)
	}
	refused("UPDATE goose_db_version SET is_applied = false")
	refused("CREATE TABLE mine (id int)")
	refused("CREATE FUNCTION refuse_nothing() RETURNS int LANGUAGE sql AS 'SELECT 1'")
}

// TestAppendOnlyTablesRefuseTruncateForEveryone: every table whose DELETE a
// trigger refuses also refuses TRUNCATE, even for its owner (a superuser
// here), who is not stopped by privileges.
func TestAppendOnlyTablesRefuseTruncateForEveryone(t *testing.T) {
	t.Parallel()
	owner := testenv.Owner(t, testenv.NewDB(t, 1))
	for _, tb := range appendOnly(t, owner) {
		if !tb.RefusesDelete {
			continue
		}
		_, err := owner.Exec("TRUNCATE " + tb.Name + " CASCADE")
		if !db.HasCode(err, "23001") || !strings.Contains(err.Error(), "append-only") { // restrict_violation
			t.Errorf("TRUNCATE %s as the owner: %v, want refused as append-only", tb.Name, err)
		}
	}
}

// TestUnprivilegedRefusesTheOwner: the check serve runs at start tells the
// owner (here a superuser) from the app role.
func TestUnprivilegedRefusesTheOwner(t *testing.T) {
	t.Parallel()
	owner := testenv.Owner(t, testenv.NewDB(t, 1))
	if err := db.Unprivileged(context.Background(), owner); err == nil || !strings.Contains(err.Error(), "superuser") {
		t.Fatalf("Unprivileged as the owner: %v, want refused as a superuser", err)
	}
}

// TestGrantAppRefusesTheOwnerAsAppRole: migrating with the app role named
// as the owner's own role is a misconfiguration, not a silent no-op.
func TestGrantAppRefusesTheOwnerAsAppRole(t *testing.T) {
	t.Parallel()
	owner := testenv.Owner(t, testenv.NewDB(t, 1))
	var self string
	if err := owner.Get(&self, `SELECT current_user`); err != nil {
		t.Fatal(err)
	}
	if err := db.GrantApp(context.Background(), owner, self); err == nil || !strings.Contains(err.Error(), "role of its own") {
		t.Fatalf("GrantApp to the owner itself: %v", err)
	}
}

func TestRoleOf(t *testing.T) {
	t.Parallel()
	for conn, want := range map[string]string{
		"postgres://xbsettle_app@127.0.0.1:5432/xbsettle?sslmode=disable":  "xbsettle_app",
		"postgresql://app:secret@db.internal/xbsettle":                     "app",
		"host=127.0.0.1 user=xbsettle_app dbname=xbsettle sslmode=disable": "xbsettle_app",
		"postgres://127.0.0.1/xbsettle":                                    "",
	} {
		got, err := db.RoleOf(conn)
		if got != want || (want == "") != (err != nil) {
			t.Errorf("RoleOf(%q) = %q, %v; want %q", conn, got, err, want)
		}
	}
}
