package ledger

import (
	"fmt"
	"sync/atomic"
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

// BenchmarkPostHotAccount measures the batcher on one hot account: 32
// goroutines post single entries that all debit the same account, no HTTP.
func BenchmarkPostHotAccount(b *testing.B) {
	bd := setup(b)
	svc := NewService(bd.db, nil, WithBatching(4, 500))
	defer svc.Close()
	hot := bd.account("hot", "CNY", Asset).ID
	var liabs []uuid.UUID
	for i := range 1000 {
		liabs = append(liabs, bd.account(fmt.Sprint("l", i), "CNY", Liability).ID)
	}
	b.SetParallelism(16) // 16 × GOMAXPROCS (2) = 32 clients
	var seq atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n := seq.Add(1)
			if _, _, err := svc.Post(bd.ctx, bd.actor, transfer(fmt.Sprint("h", n), hot, liabs[n%1000], "0.01")); err != nil {
				b.Error(err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "entries/s")
}
