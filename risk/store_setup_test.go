package risk_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/xbsettle/xbsettle/internal/testenv"
	"github.com/xbsettle/xbsettle/risk"
	"github.com/xbsettle/xbsettle/risk/risktest"
)

// bundle is one test's risk service on a fresh database.
type bundle struct {
	t     testing.TB
	ctx   context.Context
	db    *sqlx.DB
	svc   *risk.Service
	admin risk.Actor
	staff risk.Actor // an FX bureau key
}

func setup(t testing.TB) *bundle {
	t.Helper()
	db := testenv.NewDB(t, 10)
	svc, err := risk.NewService(db)
	if err != nil {
		t.Fatal(err)
	}
	return &bundle{t: t, ctx: context.Background(), db: db, svc: svc,
		admin: risk.Actor{By: uuid.NewString(), Role: "admin"}, staff: risk.Actor{By: uuid.NewString(), Role: "fx_bureau"}}
}

// day is midnight of a date in Beijing.
func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, risk.Beijing) }

// date is a Beijing date as the service takes dates: midnight UTC.
func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// register registers an enterprise of kind registered on the given date.
func (b *bundle) register(code, kind string, registered time.Time, profile *risk.TaxProfile) risk.Enterprise {
	b.t.Helper()
	e, _, err := b.svc.Register(b.ctx, b.admin, risk.NewEnterprise{CustomsCode: code, Name: "Enterprise " + code, Kind: kind,
		USCC: risktest.USCC(code), RegisteredAt: risk.DateOf(registered), TaxProfile: profile})
	if err != nil {
		b.t.Fatalf("register %s: %v", code, err)
	}
	return e
}

// chains writes facts as the chains of seller.
func (b *bundle) chains(seller, direction string, facts []risk.ChainFact) {
	b.t.Helper()
	if err := risktest.InsertChains(b.ctx, b.db, seller, seller+direction[:1], direction, facts); err != nil {
		b.t.Fatal(err)
	}
}

// funds writes facts as settled fund flows of enterprise.
func (b *bundle) funds(enterprise string, facts []risk.FundFact) {
	b.t.Helper()
	if err := risktest.InsertFunds(b.ctx, b.db, enterprise, facts); err != nil {
		b.t.Fatal(err)
	}
}

// decide stores a decision in effect over [from, to), as the bureau's
// decisions are stored; for tests that need a category in effect in the past.
func (b *bundle) decideAt(enterprise string, cat risk.Category, from, to time.Time) {
	b.t.Helper()
	if _, err := b.db.ExecContext(b.ctx, `INSERT INTO fx_category_decisions (tenant_id, id, classification_id, action, category,
		proposed_category, reason, effective_from, effective_to, decided_by, decided_role, decided_at)
		VALUES ($1, $2, $3, 'override', $4, 'A', 'test', $5, $6, 'test', 'fx_bureau', now())`,
		enterprise, uuid.New(), uuid.New(), string(cat), from.Format(time.DateOnly), to.Format(time.DateOnly)); err != nil {
		b.t.Fatal(err)
	}
}

// bank registers a bank and the enterprise's consent to it.
func (b *bundle) consent(enterprise, bank string) {
	b.t.Helper()
	if _, err := b.svc.Enterprise(b.ctx, bank); err != nil {
		b.register(bank, risk.KindBank, day(2000, 1, 1), nil)
	}
	if _, err := b.svc.GrantConsent(b.ctx, risk.Actor{By: "ent"}, enterprise, bank, time.Now().Add(24*time.Hour)); err != nil {
		b.t.Fatal(err)
	}
}

// assess requests and processes an assessment of enterprise for bank as of asOf.
func (b *bundle) assess(bank, enterprise string, asOf time.Time) risk.CreditAssessment {
	b.t.Helper()
	a, _, err := b.svc.RequestAssessment(b.ctx, risk.Actor{By: "bank-key", Tenant: bank}, risk.AssessmentRequest{Enterprise: enterprise, AsOf: asOf})
	if err != nil {
		b.t.Fatalf("request assessment of %s: %v", enterprise, err)
	}
	if err := b.svc.ProcessAssessment(b.ctx, bank, a.ID); err != nil {
		b.t.Fatalf("process assessment of %s: %v", enterprise, err)
	}
	if a, err = b.svc.Assessment(b.ctx, bank, a.ID); err != nil {
		b.t.Fatal(err)
	}
	return a
}

// runOver classifies the enterprises over [start, end) and waits for nothing:
// the run is carried out here, as a worker would.
func (b *bundle) runOver(start, end time.Time, codes ...string) risk.Run {
	b.t.Helper()
	run, err := b.svc.StartRun(b.ctx, b.staff, risk.RunRequest{PeriodStart: start, PeriodEnd: end, Enterprises: codes})
	if err != nil {
		b.t.Fatal(err)
	}
	if err := b.svc.ProcessRun(b.ctx, run.ID); err != nil {
		b.t.Fatal(err)
	}
	if run, err = b.svc.ClassificationRun(b.ctx, run.ID); err != nil {
		b.t.Fatal(err)
	}
	return run
}

// pending is the enterprise's pending proposal.
func (b *bundle) pending(code string) risk.Classification {
	b.t.Helper()
	cs, err := b.svc.Queue(b.ctx, risk.QueueFilter{Enterprise: code}, uuid.Nil, 10)
	if err != nil {
		b.t.Fatal(err)
	}
	if len(cs) != 1 {
		b.t.Fatalf("%s: %d pending proposals", code, len(cs))
	}
	return cs[0]
}
