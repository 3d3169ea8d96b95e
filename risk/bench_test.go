package risk

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

// syntheticChains makes n chains over 13 window months: 90% verified, the
// rest rejected, incomplete, cancelled or returned; 20 platforms, 1-2 of
// 30 countries and 1-3 of 50 HS chapters each; amounts CNY 10.00 to
// 5,000.00. The same n gives the same chains.
func syntheticChains(n int) []ChainFact {
	rng := rand.New(rand.NewPCG(1, 2))
	names := func(prefix string, k int) []string {
		out := make([]string, k)
		for i := range out {
			out[i] = prefix + string(rune('A'+i/26)) + string(rune('A'+i%26))
		}
		return out
	}
	plats, ctrys, chaps := names("P", 20), names("C", 30), names("H", 50)
	statuses := []ChainStatus{ChainRejected, ChainIncomplete, ChainCancelled, ChainReturned}
	chains := make([]ChainFact, n)
	for i := range chains {
		c := &chains[i]
		c.At = asOf.Add(-time.Duration(rng.Int64N(int64(13 * 30 * 24 * time.Hour))))
		c.Status = ChainVerified
		if rng.IntN(10) == 0 {
			c.Status = statuses[rng.IntN(len(statuses))]
		}
		c.Platform = plats[rng.IntN(len(plats))]
		c.Countries = ctrys[rng.IntN(len(ctrys)-1):][:1+rng.IntN(2)]
		c.HSChapters = chaps[rng.IntN(len(chaps)-2):][:1+rng.IntN(3)]
		c.AmountCNY = decimal.New(1000+rng.Int64N(499_000), -2)
	}
	return chains
}

// BenchmarkFeatures1M computes the features of one enterprise with a
// million chains (the O(n) pass, the maps, the exact sums, the HHIs and
// the CV), then scores them.
func BenchmarkFeatures1M(b *testing.B) {
	in := FeatureInput{Subject: Subject{AsOf: asOf, RegisteredAt: day(2019, 1, 1), FXCategory: CategoryA, TaxClass: 2},
		Chains: syntheticChains(1_000_000)}
	m := mustScorecard(b)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		f, err := ComputeFeatures(in)
		if err != nil {
			b.Fatal(err)
		}
		m.Score(f)
	}
	b.ReportMetric(float64(len(in.Chains))*float64(b.N)/b.Elapsed().Seconds(), "chains/s")
}
