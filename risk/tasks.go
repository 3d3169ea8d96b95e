package risk

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

// Asynq task types of risk. Every handler is idempotent: Asynq delivers at
// least once, and the sweeper may enqueue work whose task is only slow.
const (
	TaskAssess    = "risk:assess"           // score one credit assessment
	TaskRun       = "risk:classify:run"     // carry out one classification run
	TaskMonthly   = "risk:classify:monthly" // make sure this month's scheduled run exists
	TaskSweep     = "risk:sweep"            // enqueue again pending work whose task was lost
	QueueName     = "risk"                  // the queue risk's tasks run on
	assessRetries = 10                      // then the sweeper's next generation takes over
)

// Bounds of the tasks.
const (
	assessTimeout   = 2 * time.Minute  // a million chains take a few seconds
	runTimeout      = 30 * time.Minute // every enterprise, in chunks
	maxPayloadBytes = 512
	periodicUnique  = 2 * time.Minute
	periodicRetries = 3
	sweepTimeout    = time.Minute
)

type assessPayload struct {
	Bank string    `json:"bank"`
	ID   uuid.UUID `json:"id"`
}

type runPayload struct {
	ID uuid.UUID `json:"id"`
}

// TaskEnqueuer enqueues risk work on Asynq.
type TaskEnqueuer struct{ client *asynq.Client }

// NewTaskEnqueuer returns an Enqueuer over client.
func NewTaskEnqueuer(client *asynq.Client) *TaskEnqueuer { return &TaskEnqueuer{client: client} }

// EnqueueAssessment enqueues the scoring of an assessment. The task id
// names the generation: the same generation twice runs once, the sweeper's
// next generation replaces a lost task.
func (e *TaskEnqueuer) EnqueueAssessment(ctx context.Context, bank string, id uuid.UUID, gen int) error {
	payload, _ := json.Marshal(assessPayload{Bank: bank, ID: id})
	return e.enqueue(ctx, asynq.NewTask(TaskAssess, payload), fmt.Sprintf("%s:%s:%s:%d", TaskAssess, bank, id, gen),
		asynq.MaxRetry(assessRetries), asynq.Timeout(assessTimeout))
}

// EnqueueRun enqueues a classification run, likewise by generation.
func (e *TaskEnqueuer) EnqueueRun(ctx context.Context, id uuid.UUID, gen int) error {
	payload, _ := json.Marshal(runPayload{ID: id})
	return e.enqueue(ctx, asynq.NewTask(TaskRun, payload), fmt.Sprintf("%s:%s:%d", TaskRun, id, gen),
		asynq.MaxRetry(assessRetries), asynq.Timeout(runTimeout))
}

func (e *TaskEnqueuer) enqueue(ctx context.Context, t *asynq.Task, id string, opts ...asynq.Option) error {
	_, err := e.client.EnqueueContext(ctx, t, append(opts, asynq.TaskID(id), asynq.Queue(QueueName))...)
	if errors.Is(err, asynq.ErrTaskIDConflict) {
		return nil
	}
	return err
}

// RegisterTasks routes risk's task types to svc.
func RegisterTasks(mux *asynq.ServeMux, svc *Service) {
	mux.HandleFunc(TaskAssess, func(ctx context.Context, t *asynq.Task) error {
		var p assessPayload
		if err := decodePayload(t, &p); err != nil || p.Bank == "" {
			return fmt.Errorf("%w: bad payload: %v", asynq.SkipRetry, err)
		}
		err := svc.ProcessAssessment(ctx, p.Bank, p.ID)
		if errors.Is(err, ErrAssessmentNotFound) {
			return fmt.Errorf("%w: %v", asynq.SkipRetry, err)
		}
		return err
	})
	mux.HandleFunc(TaskRun, func(ctx context.Context, t *asynq.Task) error {
		var p runPayload
		if err := decodePayload(t, &p); err != nil {
			return fmt.Errorf("%w: bad payload: %v", asynq.SkipRetry, err)
		}
		err := svc.ProcessRun(ctx, p.ID)
		if errors.Is(err, ErrRunNotFound) {
			return fmt.Errorf("%w: %v", asynq.SkipRetry, err)
		}
		return err
	})
	mux.HandleFunc(TaskMonthly, func(ctx context.Context, _ *asynq.Task) error {
		_, _, err := svc.ScheduleMonthly(ctx)
		return err
	})
	mux.HandleFunc(TaskSweep, func(ctx context.Context, _ *asynq.Task) error {
		_, err := svc.Sweep(ctx)
		return err
	})
}

func decodePayload(t *asynq.Task, v any) error {
	if len(t.Payload()) > maxPayloadBytes {
		return fmt.Errorf("payload of %d bytes", len(t.Payload()))
	}
	return json.Unmarshal(t.Payload(), v)
}

// PeriodicTasks are risk's recurring tasks: the monthly classification
// (checked hourly: the first check of a month creates the month's run, so
// a scheduler that was down catches up) and the outbox sweep.
func PeriodicTasks() []ledger.PeriodicTask {
	opts := func(timeout time.Duration) []asynq.Option {
		return []asynq.Option{asynq.Queue(QueueName), asynq.Unique(periodicUnique), asynq.MaxRetry(periodicRetries), asynq.Timeout(timeout)}
	}
	return []ledger.PeriodicTask{
		{Cronspec: "@every 1h", Task: asynq.NewTask(TaskMonthly, nil), Opts: opts(sweepTimeout)},
		{Cronspec: "@every 30s", Task: asynq.NewTask(TaskSweep, nil), Opts: opts(sweepTimeout), AtStart: true},
	}
}
