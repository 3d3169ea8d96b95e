package ledger

import (
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/lib/pq"
)

func TestUUIDArrayIsWhatPostgreSQLReads(t *testing.T) {
	t.Parallel()
	ids := []uuid.UUID{uuid.MustParse("01a21c2d-7bf5-7bb6-a5b1-fdf8077e9e65"), uuid.Nil, uuid.MustParse("ffffffff-0000-4abc-8def-0123456789ab")}
	want := "{01a21c2d-7bf5-7bb6-a5b1-fdf8077e9e65,00000000-0000-0000-0000-000000000000,ffffffff-0000-4abc-8def-0123456789ab}"
	if got := uuidArray(ids); got != want {
		t.Fatalf("uuidArray = %s, want %s", got, want)
	}
	if got := uuidArray(nil); got != "{}" {
		t.Fatalf("uuidArray(nil) = %s, want {}", got)
	}
}

// The statements that find accounts by id must not take the way in through
// the (tenant_id, code) index, which reads every account of the tenant: the
// planner did so, in the generic plan of a prepared statement, for each
// batch on a table it had no statistics for yet.
func TestAccountsAreFoundByID(t *testing.T) {
	t.Parallel()
	b := setup(t)
	if _, err := b.db.Exec(`INSERT INTO accounts (id, tenant_id, code, currency, kind)
		SELECT gen_random_uuid(), $1, 'a' || g, 'CNY', 'asset' FROM generate_series(1, 1000) g`, b.actor.Tenant); err != nil {
		t.Fatal(err)
	}
	ids := uuidArray([]uuid.UUID{uuid.New(), uuid.New()})
	for name, q := range map[string]string{"lock": lockAccountsSQL, "read": readAccountsSQL} {
		tx := b.db.MustBegin()
		tx.MustExec(`SET LOCAL plan_cache_mode = force_generic_plan`)
		tx.MustExec(`PREPARE probe_` + name + ` AS ` + q)
		var plan string
		err := tx.Get(&plan, `EXPLAIN (FORMAT JSON) EXECUTE probe_`+name+`(`+pq.QuoteLiteral(b.actor.Tenant)+`, `+pq.QuoteLiteral(ids)+`)`)
		tx.Rollback() //nolint:errcheck
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(plan, "accounts_tenant_id_code_key") {
			t.Errorf("%s does not find accounts by id:\n%s", name, plan)
		}
	}
}
