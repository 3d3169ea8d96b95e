package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
)

// Asynq task types of the ledger. Every handler is idempotent: Asynq
// delivers at least once.
const (
	TaskSeal       = "ledger:seal"        // seal unsealed entries into each tenant's chain
	TaskExpireHold = "ledger:hold:expire" // expire one hold at its deadline
	TaskExpireDue  = "ledger:hold:sweep"  // expire overdue holds whose task was lost
)

// QueueName is the Asynq queue the ledger's tasks run on.
const QueueName = "ledger"

type expirePayload struct {
	Tenant string    `json:"tenant"`
	HoldID uuid.UUID `json:"hold_id"`
}

// TaskScheduler schedules hold expiries on Asynq.
type TaskScheduler struct{ client *asynq.Client }

// NewTaskScheduler returns a HoldScheduler that enqueues through client.
func NewTaskScheduler(client *asynq.Client) *TaskScheduler { return &TaskScheduler{client: client} }

// ScheduleHoldExpiry enqueues the expiry of a hold for its deadline. The task
// id is the hold's, so enqueuing twice schedules it once. Asynq keeps
// whole seconds, so the time is rounded up: a task that still runs early
// fails with ErrHoldNotDue and is retried.
func (t *TaskScheduler) ScheduleHoldExpiry(ctx context.Context, tenant string, hold uuid.UUID, at time.Time) error {
	payload, _ := json.Marshal(expirePayload{Tenant: tenant, HoldID: hold})
	_, err := t.client.EnqueueContext(ctx, asynq.NewTask(TaskExpireHold, payload),
		asynq.ProcessAt(at.Truncate(time.Second).Add(time.Second)), asynq.TaskID("hold-expire:"+hold.String()), asynq.Queue(QueueName), asynq.MaxRetry(10))
	if errors.Is(err, asynq.ErrTaskIDConflict) {
		return nil
	}
	return err
}

// RegisterTasks routes the ledger's task types to svc.
func RegisterTasks(mux *asynq.ServeMux, svc *Service) {
	mux.HandleFunc(TaskSeal, func(ctx context.Context, _ *asynq.Task) error {
		return svc.SealAll(ctx)
	})
	mux.HandleFunc(TaskExpireHold, func(ctx context.Context, t *asynq.Task) error {
		var p expirePayload
		if err := json.Unmarshal(t.Payload(), &p); err != nil {
			return fmt.Errorf("%w: bad payload: %v", asynq.SkipRetry, err)
		}
		return svc.ExpireHold(ctx, p.Tenant, p.HoldID)
	})
	mux.HandleFunc(TaskExpireDue, func(ctx context.Context, _ *asynq.Task) error {
		_, _, err := svc.ExpireDue(ctx, 1000) // failed holds are counted and logged, not retried as a task
		return err
	})
}

// PeriodicTask is a task the scheduler enqueues on a cron spec.
type PeriodicTask struct {
	Cronspec string
	Task     *asynq.Task
	Opts     []asynq.Option
	// AtStart runs the task once, in process, when a worker starts: a
	// sweeper, so that what a killed process or a flushed Redis lost is
	// found at once, not a period later.
	AtStart bool
}

// SweepEvery is how often the sweepers that find lost work run (and once
// when a worker starts): each is one query over a small partial index, so
// they are cheap, and a lost task is found within their patience plus this.
const SweepEvery = "@every 5s"

// PeriodicTasks are the ledger's recurring tasks. Unique keeps a slow run
// from piling up copies of itself.
func PeriodicTasks() []PeriodicTask {
	return []PeriodicTask{
		{Cronspec: "@every 2s", Task: asynq.NewTask(TaskSeal, nil),
			Opts: []asynq.Option{asynq.Queue(QueueName), asynq.Unique(30 * time.Second), asynq.MaxRetry(3)}},
		{Cronspec: SweepEvery, Task: asynq.NewTask(TaskExpireDue, nil),
			Opts: []asynq.Option{asynq.Queue(QueueName), asynq.Unique(2 * time.Minute), asynq.MaxRetry(3)}, AtStart: true},
	}
}
