package ledger

import (
	"context"
	"sync"
)

// batcher groups single-entry posts that arrive at the same time into one
// transaction per tenant (group commit). Under load a transaction then pays
// its round trips, row locks and commit flush once for many entries, and a
// hot account takes one row update per batch instead of one per entry.
// Without load a post goes out alone at once: nothing waits for a timer.
type batcher struct {
	svc     *Service
	max     int
	calls   chan *call
	stop    chan struct{}
	stopped sync.WaitGroup
}

type call struct {
	ctx   context.Context
	actor Actor
	req   EntryRequest
	done  chan Result
}

// newBatcher starts workers that each take what is waiting, up to max
// entries, and post it. Two workers' batches over the same accounts wait on
// each other's row locks, taken in id order, so they never deadlock.
func newBatcher(svc *Service, workers, max int) *batcher {
	b := &batcher{svc: svc, max: max, calls: make(chan *call, workers*max), stop: make(chan struct{})}
	for range workers {
		b.stopped.Add(1)
		go b.work()
	}
	return b
}

func (b *batcher) post(ctx context.Context, actor Actor, req EntryRequest) Result {
	c := &call{ctx: ctx, actor: actor, req: req, done: make(chan Result, 1)}
	select {
	case b.calls <- c:
	case <-ctx.Done():
		return Result{Err: ctx.Err()}
	}
	// Once queued the call is posted even if the caller gives up: its result
	// then waits in the idempotency key for a retry to find.
	select {
	case r := <-c.done:
		return r
	case <-ctx.Done():
		return Result{Err: ctx.Err()}
	}
}

func (b *batcher) work() {
	defer b.stopped.Done()
	for {
		var first *call
		select {
		case first = <-b.calls:
		case <-b.stop:
			return
		}
		batch := []*call{first}
	fill:
		for len(batch) < b.max {
			select {
			case c := <-b.calls:
				batch = append(batch, c)
			default:
				break fill
			}
		}
		b.flush(batch)
	}
}

// flush posts a batch, one PostBatch per tenant, in arrival order.
func (b *batcher) flush(batch []*call) {
	byTenant := map[string][]*call{}
	var order []string
	for _, c := range batch {
		if _, ok := byTenant[c.actor.Tenant]; !ok {
			order = append(order, c.actor.Tenant)
		}
		byTenant[c.actor.Tenant] = append(byTenant[c.actor.Tenant], c)
	}
	for _, tenant := range order {
		calls := byTenant[tenant]
		reqs := make([]EntryRequest, len(calls))
		for i, c := range calls {
			reqs[i] = c.req
		}
		// Each entry keeps the principal that asked for it.
		results := b.svc.postBatch(context.WithoutCancel(calls[0].ctx), tenant, reqs, actorsOf(calls))
		for i, c := range calls {
			c.done <- results[i]
		}
	}
}

func actorsOf(calls []*call) []string {
	by := make([]string, len(calls))
	for i, c := range calls {
		by[i] = c.actor.By
	}
	return by
}

func (b *batcher) close() {
	close(b.stop)
	b.stopped.Wait()
}
