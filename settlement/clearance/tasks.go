package clearance

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/hibiken/asynq"

	"github.com/xbsettle/xbsettle/ledger"
)

// Asynq task types of the clearance. Every handler is idempotent: Asynq
// delivers at least once, and matching a clean chain does nothing.
const (
	TaskMatch = "clearance:match" // match a set of chains
	TaskSweep = "clearance:sweep" // match chains and attach waybills whose task was lost
)

// QueueName is the Asynq queue the clearance's tasks run on.
const QueueName = "clearance"

// Sweeper settings: a chain dirty for longer than SweepAge has lost its
// task. Matching a chain whose task is only slow is harmless: a chain
// evaluated meanwhile is clean and skipped, and the compare-and-clear keeps
// a stale evaluation from being written.
const (
	SweepAge   = 10 * time.Second
	sweepLimit = 5000
)

// followUpDelay is how long the second task of a chain waits (see
// ScheduleMatch).
const followUpDelay = time.Second

type matchPayload struct {
	Chains []ChainKey `json:"chains"`
}

// TaskScheduler schedules matching on Asynq.
type TaskScheduler struct{ client *asynq.Client }

// NewTaskScheduler returns a Scheduler that enqueues through client.
func NewTaskScheduler(client *asynq.Client) *TaskScheduler { return &TaskScheduler{client: client} }

// ScheduleMatch enqueues the matching of chains. One chain gets a task whose
// id is derived from the chain, so that a burst of documents is evaluated
// once: a second enqueue while the task waits is a conflict and dropped.
// But the task may already be running and past its compare-and-clear when
// the new version committed; so a conflict enqueues a follow-up, itself
// keyed by the chain, a moment later. It finds the chain clean (and does
// nothing) or dirty (and evaluates it). Several chains — a batch — get one
// task per MaxMatchBatch chains, keyed the same way by the set of chains:
// the parties' batches of the same chains (an order, a payment, a waybill
// and an inventory batch for the same orders) then make one task and one
// follow-up, not one task each that would all read the same documents.
func (t *TaskScheduler) ScheduleMatch(ctx context.Context, chains []ChainKey) error {
	if len(chains) == 1 {
		return t.enqueueKeyed(ctx, chains, "clearance:match:"+chains[0].EbpCode+"/"+chains[0].OrderNo)
	}
	chains = slices.Clone(chains)
	slices.SortFunc(chains, compareKeys)
	chains = slices.Compact(chains)
	for len(chains) > 0 {
		n := min(len(chains), MaxMatchBatch)
		if err := t.enqueueKeyed(ctx, chains[:n], setTaskID(chains[:n])); err != nil {
			return err
		}
		chains = chains[n:]
	}
	return nil
}

// enqueueKeyed enqueues the task id, or its follow-up (see ScheduleMatch).
func (t *TaskScheduler) enqueueKeyed(ctx context.Context, chains []ChainKey, id string) error {
	err := t.enqueue(ctx, chains, asynq.TaskID(id))
	if errors.Is(err, asynq.ErrTaskIDConflict) {
		err = t.enqueue(ctx, chains, asynq.TaskID(id+":again"), asynq.ProcessIn(followUpDelay))
	}
	if errors.Is(err, asynq.ErrTaskIDConflict) {
		return nil // a follow-up that has not started yet will see this version
	}
	return err
}

// setTaskID names the task of a set of chains (sorted, distinct) by a hash
// of their keys.
func setTaskID(chains []ChainKey) string {
	h := sha256.New()
	for _, k := range chains {
		h.Write([]byte(k.EbpCode))
		h.Write([]byte{0})
		h.Write([]byte(k.OrderNo))
		h.Write([]byte{0})
	}
	return "clearance:match:set:" + hex.EncodeToString(h.Sum(nil))
}

func (t *TaskScheduler) enqueue(ctx context.Context, chains []ChainKey, opts ...asynq.Option) error {
	payload, err := json.Marshal(matchPayload{Chains: chains})
	if err != nil {
		return fmt.Errorf("encode match task: %w", err)
	}
	opts = append(opts, asynq.Queue(QueueName), asynq.MaxRetry(10), asynq.Timeout(5*time.Minute))
	_, err = t.client.EnqueueContext(ctx, asynq.NewTask(TaskMatch, payload), opts...)
	if err != nil {
		return fmt.Errorf("enqueue match of %d chains: %w", len(chains), err)
	}
	return nil
}

// RegisterTasks routes the clearance's task types to svc.
func RegisterTasks(mux *asynq.ServeMux, svc *Service) {
	mux.HandleFunc(TaskMatch, func(ctx context.Context, t *asynq.Task) error {
		var p matchPayload
		if err := json.Unmarshal(t.Payload(), &p); err != nil {
			return fmt.Errorf("%w: bad payload: %v", asynq.SkipRetry, err)
		}
		return svc.MatchChains(ctx, p.Chains)
	})
	mux.HandleFunc(TaskSweep, func(ctx context.Context, _ *asynq.Task) error {
		_, err := svc.Sweep(ctx, SweepAge, sweepLimit)
		return err
	})
}

// PeriodicTasks are the clearance's recurring tasks.
func PeriodicTasks() []ledger.PeriodicTask {
	return []ledger.PeriodicTask{
		{Cronspec: ledger.SweepEvery, Task: asynq.NewTask(TaskSweep, nil),
			Opts: []asynq.Option{asynq.Queue(QueueName), asynq.Unique(2 * time.Minute), asynq.MaxRetry(3)}, AtStart: true},
	}
}
