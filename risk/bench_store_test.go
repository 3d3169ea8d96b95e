package risk_test

import (
	"testing"
	"time"

	"github.com/xbsettle/xbsettle/internal/cputime"
	"github.com/xbsettle/xbsettle/risk"
	"github.com/xbsettle/xbsettle/risk/risktest"
)

// BenchmarkAssess1M times one credit assessment of a seller with 1,000,000
// verified chains in PostgreSQL (built by risktest.BuildEnterprise): the
// cursor streams every chain of the 360 days into the FeatureBuilder and
// the result is scored and stored. Run it with
//
//	go test ./risk -run '^$' -bench Assess1M -benchtime 5x
//
// docs/risk.md reports the figure.
func BenchmarkAssess1M(b *testing.B) {
	bb := setup(b)
	const seller, bank = "4403600001", "4403000BNK"
	asOf := time.Now().UTC().Truncate(time.Second)
	bb.register(seller, risk.KindSeller, day(2018, 1, 1), nil)
	start := time.Now()
	if err := risktest.BuildEnterprise(bb.ctx, bb.db, seller, 1_000_000, asOf); err != nil {
		b.Fatal(err)
	}
	b.Logf("built 1,000,000 chains in %s", time.Since(start).Round(time.Millisecond))
	bb.consent(seller, bank)
	// The machine may be shared: besides the time, report the CPU the
	// assessment costs this process and its PostgreSQL backends, which does
	// not depend on what else runs.
	goCPU, pgCPU := cputime.Self(), backendCPU(bb)
	b.ResetTimer()
	for b.Loop() {
		a := bb.assess(bank, seller, asOf)
		if a.Status != risk.AssessmentDone || a.Chains != 1_000_000 {
			b.Fatalf("assessment %s %s: %d chains", a.Status, a.Error, a.Chains)
		}
	}
	b.StopTimer()
	b.ReportMetric((cputime.Self()-goCPU).Seconds()/float64(b.N), "go-cpu-s/op")
	if pg := backendCPU(bb); pg > 0 {
		b.ReportMetric((pg-pgCPU).Seconds()/float64(b.N), "pg-cpu-s/op")
	}
}

// backendCPU is the CPU time the PostgreSQL backends of the test database
// have used, from /proc (PostgreSQL runs on this machine in the test
// stack); 0 where /proc cannot tell.
func backendCPU(bb *bundle) time.Duration {
	var pids []int
	if err := bb.db.Select(&pids, `SELECT pid FROM pg_stat_activity WHERE datname = current_database()`); err != nil {
		return 0
	}
	var total time.Duration
	for _, pid := range pids {
		total += cputime.Of(pid)
	}
	return total
}
