package settlement

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"

	"github.com/xbsettle/xbsettle/ledger"
)

// Asynq task types of settlement. Every handler is idempotent: Asynq
// delivers at least once, and the outbox sweeper may enqueue an instruction
// whose task is only slow.
const (
	TaskProcess     = "settlement:instruction"  // verify, post and batch one instruction's items
	TaskSweepOutbox = "settlement:outbox:sweep" // enqueue again the instructions whose task was lost
	TaskCutoff      = "settlement:cutoff"       // close due batches and pay them out
)

// QueueName is the Asynq queue settlement's tasks run on.
const QueueName = "settlement"

// Bounds of the tasks.
const (
	processRetries  = 10              // then the sweeper's next generation takes over
	processTimeout  = 5 * time.Minute // one instruction of MaxItems items, with room
	maxPayloadBytes = 512             // a payload is a tenant and an id
	periodicUnique  = 2 * time.Minute // a slow periodic run does not pile up copies of itself
	periodicRetries = 3               // the next period runs it again anyway
	sweepTimeout    = time.Minute
	cutoffTimeout   = 10 * time.Minute
)

type processPayload struct {
	Tenant string    `json:"tenant"`
	ID     uuid.UUID `json:"id"`
}

// TaskEnqueuer enqueues instructions on Asynq.
type TaskEnqueuer struct{ client *asynq.Client }

// NewTaskEnqueuer returns an Enqueuer over client.
func NewTaskEnqueuer(client *asynq.Client) *TaskEnqueuer { return &TaskEnqueuer{client: client} }

// EnqueueInstruction enqueues the processing of an instruction. The task id
// names the generation, so enqueuing one generation twice runs it once,
// while the sweeper's next generation replaces a task Redis lost.
func (e *TaskEnqueuer) EnqueueInstruction(ctx context.Context, tenant string, id uuid.UUID, gen int) error {
	payload, _ := json.Marshal(processPayload{Tenant: tenant, ID: id})
	_, err := e.client.EnqueueContext(ctx, asynq.NewTask(TaskProcess, payload),
		asynq.TaskID(fmt.Sprintf("%s:%s:%s:%d", TaskProcess, tenant, id, gen)), asynq.Queue(QueueName),
		asynq.MaxRetry(processRetries), asynq.Timeout(processTimeout))
	if errors.Is(err, asynq.ErrTaskIDConflict) {
		return nil
	}
	return err
}

// RegisterTasks routes settlement's task types to svc.
func RegisterTasks(mux *asynq.ServeMux, svc *Service) {
	mux.HandleFunc(TaskProcess, func(ctx context.Context, t *asynq.Task) error {
		var p processPayload
		if len(t.Payload()) > maxPayloadBytes {
			return fmt.Errorf("%w: payload of %d bytes", asynq.SkipRetry, len(t.Payload()))
		}
		if err := json.Unmarshal(t.Payload(), &p); err != nil || p.Tenant == "" {
			return fmt.Errorf("%w: bad payload: %v", asynq.SkipRetry, err)
		}
		err := svc.ProcessInstruction(ctx, p.Tenant, p.ID)
		if errors.Is(err, ErrInstructionNotFound) {
			return fmt.Errorf("%w: %v", asynq.SkipRetry, err)
		}
		return err
	})
	mux.HandleFunc(TaskSweepOutbox, func(ctx context.Context, _ *asynq.Task) error {
		_, err := svc.SweepOutbox(ctx)
		return err
	})
	mux.HandleFunc(TaskCutoff, func(ctx context.Context, _ *asynq.Task) error {
		return svc.RunDueCutoffs(ctx)
	})
}

// PeriodicTasks are settlement's recurring tasks: the outbox sweep and the
// cut-off check.
func PeriodicTasks() []ledger.PeriodicTask {
	opts := func(timeout time.Duration) []asynq.Option {
		return []asynq.Option{asynq.Queue(QueueName), asynq.Unique(periodicUnique), asynq.MaxRetry(periodicRetries), asynq.Timeout(timeout)}
	}
	return []ledger.PeriodicTask{
		{Cronspec: ledger.SweepEvery, Task: asynq.NewTask(TaskSweepOutbox, nil), Opts: opts(sweepTimeout), AtStart: true},
		{Cronspec: "@every 1m", Task: asynq.NewTask(TaskCutoff, nil), Opts: opts(cutoffTimeout)},
	}
}
