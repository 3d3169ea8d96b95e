package risk_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/xbsettle/xbsettle/risk"
)

// taxProfileOf returns a profile giving the wanted export-rebate class (1,
// or 3 through a C rating), or nil for none.
func taxProfileOf(class int) *risk.TaxProfile {
	first := date(2020, 1, 1)
	switch class {
	case 1:
		return &risk.TaxProfile{ExporterKind: risk.Trader, Rating: risk.RatingA, FirstRebateClaimOn: &first,
			NetAssetsCNY: decimal.RequireFromString("1000000"), RebatesCNY: decimal.RequireFromString("100000"), TaxFindings: risk.TaxFindings{RiskControlSystem: true}}
	case 3:
		return &risk.TaxProfile{ExporterKind: risk.Manufacturer, Rating: risk.RatingC, FirstRebateClaimOn: &first,
			NetAssetsCNY: decimal.RequireFromString("1000000"), RebatesCNY: decimal.RequireFromString("100000")}
	}
	return nil
}

// TestAssessHandComputedFromStore: the three enterprises scorecard_test.go
// scores by hand, written to PostgreSQL as trade chains and unverified
// chains with their FX category and tax profile, are streamed back by the
// assessment into the same features — the same input hash as the pure
// computation — and the same score, grade, limit and points.
func TestAssessHandComputedFromStore(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for i, hc := range risk.HandCases() {
		code := fmt.Sprintf("44031000%02d", i)
		b.register(code, risk.KindSeller, hc.In.RegisteredAt, taxProfileOf(hc.In.TaxClass))
		if hc.In.FXCategory != risk.CategoryA {
			b.decideAt(code, hc.In.FXCategory, date(2025, 1, 1), date(2026, 1, 1))
		}
		b.chains(code, "export", hc.In.Chains)
		b.consent(code, "4403000BNK")
		want, err := risk.ComputeFeatures(hc.In)
		if err != nil {
			t.Fatal(err)
		}
		a := b.assess("4403000BNK", code, risk.AsOf)
		if a.Status != risk.AssessmentDone || a.Result == nil {
			t.Fatalf("%s: %s %s", hc.Name, a.Status, a.Error)
		}
		r := a.Result
		if r.InputHash != want.Hash() || a.Canonical != string(want.Canonical()) {
			t.Errorf("%s: features from the store differ from the facts':\n%s\nwant\n%s", hc.Name, a.Canonical, want.Canonical())
		}
		if r.Score != hc.Score || r.Grade != hc.Grade || !r.RecommendedLimitCNY.Equal(decimal.RequireFromString(hc.Limit)) ||
			!r.Points.Equal(decimal.RequireFromString(hc.Points)) || r.ModelVersion != risk.CurrentScorecardVersion {
			t.Errorf("%s: score %d %s limit %s points %s, want %d %s %s %s", hc.Name, r.Score, r.Grade, r.RecommendedLimitCNY,
				r.Points, hc.Score, hc.Grade, hc.Limit, hc.Points)
		}
		if a.Chains != int64(len(hc.In.Chains)) {
			t.Errorf("%s: read %d chains, wrote %d", hc.Name, a.Chains, len(hc.In.Chains))
		}
		// The same inputs again: the same score and hash.
		again := b.assess("4403000BNK", code, risk.AsOf)
		if again.ID == a.ID || again.Result.InputHash != r.InputHash || again.Result.Score != r.Score {
			t.Errorf("%s: second assessment %+v differs", hc.Name, again.Result)
		}
	}
}

// TestAssessStreamsLikeComputeFeatures: random chains of every status and
// random fund flows, around the window's edges, give the same features
// through PostgreSQL as in memory.
func TestAssessStreamsLikeComputeFeatures(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rng := rand.New(rand.NewPCG(7, 11))
	asOf := day(2026, 2, 10).Add(13 * time.Hour)
	statuses := []risk.ChainStatus{risk.ChainVerified, risk.ChainVerified, risk.ChainVerified, risk.ChainRejected,
		risk.ChainIncomplete, risk.ChainCancelled, risk.ChainReturned}
	var chains []risk.ChainFact
	for i := range 700 {
		// Chains up to 400 days back, and a few after as-of (skipped); none
		// within the two hours before as-of, where the seeded timeline
		// (verified an hour after the order, cancelled two) would still be
		// under way at as-of, so the facts would not be what the rows say.
		at := asOf.Add(-2*time.Hour - time.Duration(rng.Int64N(int64(400*24*time.Hour)))).Truncate(time.Microsecond)
		if i%50 == 0 {
			at = asOf.Add(time.Duration(rng.Int64N(int64(5 * 24 * time.Hour))))
		}
		c := risk.ChainFact{At: at, Status: statuses[rng.IntN(len(statuses))], Platform: fmt.Sprintf("P%d", rng.IntN(4)),
			Countries: []string{"US", "DE", "JP"}[:1+rng.IntN(3)], HSChapters: []string{"61", "85"}[:1+rng.IntN(2)],
			AmountCNY: decimal.New(rng.Int64N(10_000_000_00), -2)}
		chains = append(chains, c)
	}
	var funds []risk.FundFact
	for range 200 {
		f := risk.FundFact{At: asOf.Add(-time.Duration(rng.Int64N(int64(380 * 24 * time.Hour)))).Truncate(time.Microsecond),
			Direction: risk.Receipt, AmountCNY: decimal.New(rng.Int64N(1_000_000_00), -2)}
		if rng.IntN(3) == 0 {
			f.Direction = risk.Payment
		}
		funds = append(funds, f)
	}
	const code = "4403200001"
	b.register(code, risk.KindSeller, day(2023, 5, 17), taxProfileOf(3))
	b.chains(code, "export", chains)
	b.funds(code, funds)
	b.consent(code, "4403000BNK")
	want, err := risk.ComputeFeatures(risk.FeatureInput{Subject: risk.Subject{AsOf: asOf, RegisteredAt: day(2023, 5, 17),
		FXCategory: risk.CategoryA, TaxClass: 3}, Chains: chains, Funds: funds})
	if err != nil {
		t.Fatal(err)
	}
	a := b.assess("4403000BNK", code, asOf)
	if a.Status != risk.AssessmentDone || a.Result.InputHash != want.Hash() {
		t.Fatalf("store features differ (%s %s):\n%s\nwant\n%s", a.Status, a.Error, a.Canonical, want.Canonical())
	}
	if want.Windows[2].FundsCNY.IsZero() || want.Windows[2].Counts.Rejected == 0 || want.Windows[2].Counts.Incomplete == 0 {
		t.Fatalf("the random record misses a kind of fact: %+v", want.Windows[2])
	}
}

// TestAssessmentConsentAndAccess: no consent, no assessment (for an
// unknown enterprise too); a lapsed consent is no consent; another bank
// does not find the result; a verified chain that cannot be put in CNY
// fails the assessment with its reason.
func TestAssessmentConsentAndAccess(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const code, bank, other = "4403200002", "4403000BNK", "4403000BN2"
	b.register(code, risk.KindSeller, day(2020, 1, 1), nil)
	b.register(other, risk.KindBank, day(2000, 1, 1), nil)
	ask := func(bank, ent string) error {
		_, _, err := b.svc.RequestAssessment(b.ctx, risk.Actor{By: "k", Tenant: bank}, risk.AssessmentRequest{Enterprise: ent})
		return err
	}
	for _, ent := range []string{code, "4403999999"} {
		if err := ask(bank, ent); !errors.Is(err, risk.ErrConsentRequired) {
			t.Fatalf("no consent for %s: %v", ent, err)
		}
	}
	b.consent(code, bank)
	if _, err := b.svc.GrantConsent(b.ctx, risk.Actor{By: "k"}, code, other, time.Now().Add(-time.Hour)); err == nil {
		t.Fatal("a consent that ended already was granted")
	}
	if _, err := b.svc.GrantConsent(b.ctx, risk.Actor{By: "k"}, code, code, time.Now().Add(time.Hour)); err == nil {
		t.Fatal("a consent to a seller as a bank was granted")
	}
	// A consent granted for a second, then lapsed.
	if _, err := b.svc.GrantConsent(b.ctx, risk.Actor{By: "k"}, code, other, time.Now().Add(300*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(400 * time.Millisecond)
	if err := ask(other, code); !errors.Is(err, risk.ErrConsentRequired) {
		t.Fatalf("lapsed consent: %v", err)
	}
	// A USD chain without any USD rate: the assessment fails, saying why.
	if _, err := b.db.Exec(`INSERT INTO trade_chains (tenant_id, order_no, ebc_code, pay_code, pay_transaction_id, logistics_code,
		logistics_no, direction, trade_mode, currency, amount, goods_value, tax, order_time, hs_chapters, countries, status,
		verified_at, version) VALUES ('4403960001', 'USD1', $1, '4403950001', 'P', 'L', 'N', 'export', '9610', 'USD', 100, 100, 0,
		now() - interval '10 days', '{61}', '{US}', 'verified', now() - interval '9 days', 1)`, code); err != nil {
		t.Fatal(err)
	}
	a := b.assess(bank, code, time.Time{})
	if a.Status != risk.AssessmentFailed || a.Error == "" || a.Result != nil {
		t.Fatalf("unconvertible chain: %+v", a)
	}
	if _, err := b.svc.Assessment(b.ctx, other, a.ID); !errors.Is(err, risk.ErrAssessmentNotFound) {
		t.Fatalf("another bank reads it: %v", err)
	}
	if _, err := b.svc.Assessment(b.ctx, "", a.ID); err != nil {
		t.Fatalf("admin reads it: %v", err)
	}
	// A processed assessment is left alone when its task comes again.
	if err := b.svc.ProcessAssessment(b.ctx, bank, a.ID); err != nil {
		t.Fatal(err)
	}
}
