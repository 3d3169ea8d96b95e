package db_test

import (
	"context"
	"sync"
	"testing"

	"github.com/xbsettle/xbsettle/internal/db"
	"github.com/xbsettle/xbsettle/internal/testenv"
)

// TestMigrateFromTwoProcessesAtOnce starts two pools on an empty database
// and migrates from both at the same time: both succeed and every migration
// is applied exactly once.
func TestMigrateFromTwoProcessesAtOnce(t *testing.T) {
	t.Parallel()
	url := testenv.NewEmptyDatabase(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		d, err := db.Open(ctx, url, 2)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = db.Migrate(ctx, d, testenv.AppRole)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("migrator %d: %v", i, err)
		}
	}
	d, err := db.Open(ctx, url, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var applied, distinct int
	if err := d.QueryRow(`SELECT count(*), count(DISTINCT version_id) FROM goose_db_version WHERE version_id > 0`).Scan(&applied, &distinct); err != nil {
		t.Fatal(err)
	}
	if applied == 0 || applied != distinct {
		t.Fatalf("%d migrations recorded, %d distinct: want each once", applied, distinct)
	}
	var tables int
	if err := d.QueryRow(`SELECT count(*) FROM information_schema.tables WHERE table_name IN ('accounts', 'entries', 'postings')`).Scan(&tables); err != nil || tables != 3 {
		t.Fatalf("ledger tables: %d (%v)", tables, err)
	}
}
