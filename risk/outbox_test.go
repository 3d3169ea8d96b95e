package risk_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/xbsettle/xbsettle/internal/testenv"
	"github.com/xbsettle/xbsettle/risk"
)

// TestLostWorkIsFoundAgain: an assessment and a classification run whose
// tasks Redis lost (flushed after they were stored) are enqueued again by
// the sweeper and carried out by a real Asynq worker; a second scheduler
// tick of the month makes no second run.
func TestLostWorkIsFoundAgain(t *testing.T) {
	t.Parallel()
	db := testenv.NewDB(t, 10)
	ropt := testenv.Redis(t)
	client := asynq.NewClient(ropt)
	t.Cleanup(func() { client.Close() })
	svc, err := risk.NewService(db, risk.WithEnqueuer(risk.NewTaskEnqueuer(client)), risk.WithStaleOutbox(0))
	if err != nil {
		t.Fatal(err)
	}
	b := &bundle{t: t, ctx: context.Background(), db: db, svc: svc, admin: risk.Actor{By: "admin", Role: "admin"},
		staff: risk.Actor{By: "fx", Role: "fx_bureau"}}
	const seller, bank = "4403700001", "4403000BNK"
	b.register(seller, risk.KindSeller, day(2019, 1, 1), nil)
	b.chains(seller, "import", verified(30, "1000.00"))
	b.consent(seller, bank)
	a, _, err := svc.RequestAssessment(b.ctx, risk.Actor{By: "k", Tenant: bank}, risk.AssessmentRequest{Enterprise: seller})
	if err != nil {
		t.Fatal(err)
	}
	run, err := svc.StartRun(b.ctx, b.staff, risk.RunRequest{Enterprises: []string{seller}})
	if err != nil {
		t.Fatal(err)
	}
	monthly, created, err := svc.ScheduleMonthly(b.ctx)
	if err != nil || !created {
		t.Fatalf("monthly run: %v %v", created, err)
	}
	if again, created, err := svc.ScheduleMonthly(b.ctx); err != nil || created || again.ID != monthly.ID {
		t.Fatalf("second tick: %v %v %v", again.ID, created, err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: ropt.Addr, DB: ropt.DB})
	defer rdb.Close()
	if err := rdb.FlushDB(b.ctx).Err(); err != nil {
		t.Fatal(err)
	}

	srv := asynq.NewServer(ropt, asynq.Config{Concurrency: 2, Queues: map[string]int{risk.QueueName: 1}, LogLevel: asynq.ErrorLevel})
	mux := asynq.NewServeMux()
	risk.RegisterTasks(mux, svc)
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	if n, err := svc.Sweep(b.ctx); err != nil || n != 3 {
		t.Fatalf("sweep enqueued %d, %v; want the assessment and two runs", n, err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := svc.Assessment(b.ctx, bank, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		r1, _ := svc.ClassificationRun(b.ctx, run.ID)
		r2, _ := svc.ClassificationRun(b.ctx, monthly.ID)
		if got.Status == risk.AssessmentDone && r1.Status == "done" && r2.Status == "done" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the sweep: assessment %s, runs %s %s", got.Status, r1.Status, r2.Status)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n, err := svc.Sweep(b.ctx); err != nil || n != 0 {
		t.Fatalf("a second sweep enqueued %d, %v", n, err)
	}
}

// TestConcurrentWorkersScoreOnce: the same assessment processed by several
// workers at once (at-least-once delivery) ends done once, with one result.
func TestConcurrentWorkersScoreOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const seller, bank = "4403700002", "4403000BNK"
	b.register(seller, risk.KindSeller, day(2019, 1, 1), nil)
	b.chains(seller, "import", verified(50, "1000.00"))
	b.consent(seller, bank)
	a, _, err := b.svc.RequestAssessment(b.ctx, risk.Actor{By: "k", Tenant: bank},
		risk.AssessmentRequest{Enterprise: seller, AsOf: mid.Add(30 * 24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() { errs[i] = b.svc.ProcessAssessment(b.ctx, bank, a.ID) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got, err := b.svc.Assessment(b.ctx, bank, a.ID)
	if err != nil || got.Status != risk.AssessmentDone || got.Chains != 50 {
		t.Fatalf("%+v %v", got, err)
	}
	first := *got.CompletedAt
	if err := b.svc.ProcessAssessment(b.ctx, bank, a.ID); err != nil {
		t.Fatal(err)
	}
	if again, _ := b.svc.Assessment(b.ctx, bank, a.ID); !again.CompletedAt.Equal(first) {
		t.Fatal("a done assessment was scored again")
	}
}
