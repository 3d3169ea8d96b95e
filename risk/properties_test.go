package risk

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"pgregory.net/rapid"
)

var (
	allStatuses = []ChainStatus{ChainVerified, ChainVerified, ChainVerified, ChainRejected, ChainIncomplete, ChainCancelled, ChainReturned}
	platforms   = []string{"P1", "P2", "P3", "P4"}
	countries   = []string{"US", "DE", "GB", "FR", "JP"}
	chapters    = []string{"33", "61", "64", "85", "95"}
)

// genAt draws an instant from the as-of date back to 14 window months, so
// that some facts fall outside the windows.
func genAt(t *rapid.T, label string) time.Time {
	secs := rapid.Int64Range(-3600, 14*30*24*3600).Draw(t, label)
	return asOf.Add(-time.Duration(secs) * time.Second)
}

// genFeatureInput draws an enterprise: its age, categories, up to 80 chains
// of every status and up to 10 fund flows.
func genFeatureInput(t *rapid.T) FeatureInput {
	reg := asOf.Add(-time.Duration(rapid.IntRange(0, 3000).Draw(t, "age_days")) * 24 * time.Hour)
	in := FeatureInput{Subject: Subject{
		AsOf: asOf, RegisteredAt: reg,
		FXCategory: rapid.SampledFrom([]Category{CategoryA, CategoryB, CategoryC}).Draw(t, "fx"),
		TaxClass:   rapid.IntRange(0, 4).Draw(t, "tax_class"),
	}}
	for range rapid.IntRange(0, 80).Draw(t, "chains") {
		in.Chains = append(in.Chains, ChainFact{
			At:         genAt(t, "chain_at"),
			Status:     rapid.SampledFrom(allStatuses).Draw(t, "status"),
			Platform:   rapid.SampledFrom(platforms).Draw(t, "platform"),
			Countries:  rapid.SliceOfN(rapid.SampledFrom(countries), 0, 3).Draw(t, "countries"),
			HSChapters: rapid.SliceOfN(rapid.SampledFrom(chapters), 0, 3).Draw(t, "chapters"),
			AmountCNY:  decimal.New(rapid.Int64Range(0, 300_000_000).Draw(t, "fen"), -2),
		})
	}
	for range rapid.IntRange(0, 10).Draw(t, "funds") {
		in.Funds = append(in.Funds, FundFact{At: genAt(t, "fund_at"),
			Direction: rapid.SampledFrom([]FlowDirection{Receipt, Payment}).Draw(t, "direction"),
			AmountCNY: decimal.New(rapid.Int64Range(0, 300_000_000).Draw(t, "fund_fen"), -2)})
	}
	return in
}

func assess(t *rapid.T, m *Scorecard, in FeatureInput) (Features, Assessment) {
	f, err := ComputeFeatures(in)
	if err != nil {
		t.Fatal(err)
	}
	return f, m.Score(f)
}

// mapVerified returns in with every verified chain replaced by what fn
// makes of it (other chains kept).
func mapVerified(in FeatureInput, fn func(ChainFact) []ChainFact) FeatureInput {
	out := in
	out.Chains = nil
	for _, c := range in.Chains {
		if c.Status == ChainVerified {
			out.Chains = append(out.Chains, fn(c)...)
		} else {
			out.Chains = append(out.Chains, c)
		}
	}
	return out
}

// "More verified volume" is the same business, bigger: every verified
// chain's amount times k, or every verified chain k times over. Either way
// the shape features (growth, volatility, concentration) are unchanged —
// they are ratios of volumes — and the rest move the right way, so the
// score, the grade and the limit never fall (docs/risk.md, "Monotonicity").
func TestMoreVerifiedVolumeNeverLowersTheScore(t *testing.T) {
	t.Parallel()
	m := mustScorecard(t)
	rapid.Check(t, func(t *rapid.T) {
		in := genFeatureInput(t)
		k := rapid.IntRange(2, 10).Draw(t, "k")
		var more FeatureInput
		if rapid.Bool().Draw(t, "scale") {
			more = mapVerified(in, func(c ChainFact) []ChainFact {
				c.AmountCNY = c.AmountCNY.Mul(decimal.NewFromInt(int64(k)))
				return []ChainFact{c}
			})
		} else {
			more = mapVerified(in, func(c ChainFact) []ChainFact { return slices.Repeat([]ChainFact{c}, k) })
		}
		f0, a0 := assess(t, m, in)
		f1, a1 := assess(t, m, more)
		for _, pair := range [][2]Figure{
			{f0.Growth3m, f1.Growth3m}, {f0.Volatility12m, f1.Volatility12m}, {f0.PlatformHHI12m, f1.PlatformHHI12m},
			{f0.CountryHHI12m, f1.CountryHHI12m}, {f0.HSChapterHHI12m, f1.HSChapterHHI12m},
		} {
			if pair[0].String() != pair[1].String() {
				t.Fatalf("a shape feature moved: %s → %s", pair[0], pair[1])
			}
		}
		if a1.Points.LessThan(a0.Points) || a1.Score < a0.Score || a1.RecommendedLimitCNY.LessThan(a0.RecommendedLimitCNY) {
			t.Fatalf("more volume lowered the assessment: %s/%d/%s → %s/%d/%s\n%v\n%v",
				a0.Points, a0.Score, a0.RecommendedLimitCNY, a1.Points, a1.Score, a1.RecommendedLimitCNY, a0.Breakdown, a1.Breakdown)
		}
	})
}

// Rejected chains only add to the submitted count and the rejections:
// completeness falls, the rejection rate rises, nothing else moves.
func TestMoreRejectedChainsNeverRaiseTheScore(t *testing.T) {
	t.Parallel()
	m := mustScorecard(t)
	rapid.Check(t, func(t *rapid.T) {
		in := genFeatureInput(t)
		more := in
		more.Chains = slices.Clone(in.Chains)
		for range rapid.IntRange(1, 30).Draw(t, "rejected") {
			more.Chains = append(more.Chains, ChainFact{At: genAt(t, "rejected_at"), Status: ChainRejected,
				Platform: rapid.SampledFrom(platforms).Draw(t, "platform"), AmountCNY: dec("100")})
		}
		_, a0 := assess(t, m, in)
		_, a1 := assess(t, m, more)
		if a1.Points.GreaterThan(a0.Points) || a1.Score > a0.Score || a1.RecommendedLimitCNY.GreaterThan(a0.RecommendedLimitCNY) {
			t.Fatalf("rejected chains raised the assessment: %s/%d → %s/%d\n%v\n%v",
				a0.Points, a0.Score, a1.Points, a1.Score, a0.Breakdown, a1.Breakdown)
		}
	})
}

// The same facts, in any order, give the same features, score and hash.
func TestSameInputsSameAssessment(t *testing.T) {
	t.Parallel()
	m := mustScorecard(t)
	rapid.Check(t, func(t *rapid.T) {
		in := genFeatureInput(t)
		shuffled := in
		shuffled.Chains = rapid.Permutation(in.Chains).Draw(t, "chain_order")
		shuffled.Funds = rapid.Permutation(in.Funds).Draw(t, "fund_order")
		f0, a0 := assess(t, m, in)
		_, again := assess(t, m, in)
		f1, a1 := assess(t, m, shuffled)
		j0, j1, j2 := mustJSON(t, a0), mustJSON(t, again), mustJSON(t, a1)
		if j0 != j1 || j0 != j2 || string(f0.Canonical()) != string(f1.Canonical()) {
			t.Fatalf("assessments differ:\n%s\n%s\n%s", j0, j1, j2)
		}
		if a0.InputHash != f0.Hash() || a1.InputHash != a0.InputHash {
			t.Fatalf("hashes differ: %s %s", a0.InputHash, a1.InputHash)
		}
	})
}

// Features stored as JSON and read back score the same, with the same
// hash: an assessment can be reproduced from its stored snapshot.
func TestFeaturesSurviveJSON(t *testing.T) {
	t.Parallel()
	m := mustScorecard(t)
	rapid.Check(t, func(t *rapid.T) {
		f, a := assess(t, m, genFeatureInput(t))
		var back Features
		if err := json.Unmarshal([]byte(mustJSON(t, f)), &back); err != nil {
			t.Fatal(err)
		}
		if string(back.Canonical()) != string(f.Canonical()) || mustJSON(t, m.Score(back)) != mustJSON(t, a) {
			t.Fatalf("round trip changed the features:\n%s\n%s", f.Canonical(), back.Canonical())
		}
	})
}

// A different fact gives a different hash: the hash names the features.
func TestHashChangesWithTheFeatures(t *testing.T) {
	t.Parallel()
	e := steadyExporter()
	f0, err := ComputeFeatures(e.in)
	if err != nil {
		t.Fatal(err)
	}
	more := e.in
	more.Chains = append(slices.Clone(e.in.Chains), chainsOf(0, 1, ChainIncomplete, "0")...)
	f1, err := ComputeFeatures(more)
	if err != nil {
		t.Fatal(err)
	}
	if f0.Hash() == f1.Hash() {
		t.Error("an extra incomplete chain kept the hash")
	}
}

func mustJSON(t *rapid.T, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestMergedBuildersEqualOne: the facts split at random over several
// builders (as the store streams slices of the window concurrently), the
// builders merged, give the features of one builder fed everything.
func TestMergedBuildersEqualOne(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		in := genFeatureInput(t)
		want, err := ComputeFeatures(in)
		if err != nil {
			t.Fatal(err)
		}
		parts := make([]*FeatureBuilder, rapid.IntRange(1, 4).Draw(t, "parts"))
		for i := range parts {
			if parts[i], err = NewFeatureBuilder(in.Subject); err != nil {
				t.Fatal(err)
			}
		}
		for _, c := range in.Chains {
			if err := parts[rapid.IntRange(0, len(parts)-1).Draw(t, "part")].AddChain(c); err != nil {
				t.Fatal(err)
			}
		}
		for _, f := range in.Funds {
			if err := parts[rapid.IntRange(0, len(parts)-1).Draw(t, "part")].AddFund(f); err != nil {
				t.Fatal(err)
			}
		}
		for _, p := range parts[1:] {
			if err := parts[0].Merge(p); err != nil {
				t.Fatal(err)
			}
		}
		if got := parts[0].Features(); got.Hash() != want.Hash() {
			t.Fatalf("merged:\n%s\nwant\n%s", got.Canonical(), want.Canonical())
		}
	})
	other := Subject{AsOf: asOf, RegisteredAt: asOf.AddDate(-1, 0, 0), FXCategory: CategoryB}
	a, _ := NewFeatureBuilder(Subject{AsOf: asOf, RegisteredAt: asOf.AddDate(-1, 0, 0), FXCategory: CategoryA})
	b, _ := NewFeatureBuilder(other)
	if err := a.Merge(b); err == nil {
		t.Fatal("builders of different subjects merged")
	}
}
