package ledger

import (
	"fmt"
	"testing"

	"github.com/google/uuid"
)

// BenchmarkPostBatch measures the database path of bulk posting: batches of
// 1,000 two-posting entries over 10,000 accounts, no HTTP.
func BenchmarkPostBatch(b *testing.B) {
	bd := setup(b)
	var assets, liabs []uuid.UUID
	for i := range 5000 {
		assets = append(assets, bd.account(fmt.Sprint("a", i), "CNY", Asset).ID)
		liabs = append(liabs, bd.account(fmt.Sprint("l", i), "CNY", Liability).ID)
	}
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		reqs := make([]EntryRequest, 1000)
		for j := range reqs {
			i := (n*1000 + j) * 7919
			reqs[j] = transfer(fmt.Sprint("k", n, "-", j), assets[i%5000], liabs[(i/7)%5000], "1.00")
		}
		for _, r := range bd.svc.PostBatch(bd.ctx, bd.actor, reqs) {
			if r.Err != nil {
				b.Fatal(r.Err)
			}
		}
	}
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "entries/s")
}
