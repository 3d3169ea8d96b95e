package ledger

import (
	"context"
	"hash/fnv"
	"sync"
	"time"
)

// batcher groups single-entry posts that arrive at the same time into one
// transaction (group commit). Under load a transaction then pays its round
// trips, row locks and commit flush once for many entries, and a hot account
// takes one row update per batch instead of one per entry. Without load a
// post goes out alone at once: nothing waits for a timer.
//
// Work is partitioned by tenant: every tenant's posts go through one lane,
// whose single worker owns that tenant's balance updates. Its batches never
// wait for each other's row locks, and while one batch is in the database
// the next one gathers. (Two batches of a lane in the database at once were
// measured slower: the second waits on the first's hot rows through its
// commit's flush, and each commits half as many entries per flush.)
type batcher struct {
	svc     *Service
	max     int
	lanes   []chan *call
	stop    chan struct{}
	stopped sync.WaitGroup
}

type call struct {
	ctx   context.Context
	actor Actor
	req   EntryRequest
	done  chan Result
}

// newBatcher starts one worker per lane; each takes what is waiting in its
// lane, up to max entries, and posts it.
func newBatcher(svc *Service, lanes, max int) *batcher {
	b := &batcher{svc: svc, max: max, lanes: make([]chan *call, max1(lanes)), stop: make(chan struct{})}
	for i := range b.lanes {
		b.lanes[i] = make(chan *call, max)
		b.stopped.Add(1)
		go b.work(b.lanes[i])
	}
	return b
}

func max1(n int) int {
	if n < 1 {
		return 1
	}
	return n
}

func (b *batcher) post(ctx context.Context, actor Actor, req EntryRequest) Result {
	c := &call{ctx: ctx, actor: actor, req: req, done: make(chan Result, 1)}
	h := fnv.New32a()
	h.Write([]byte(actor.Tenant))
	select {
	case b.lanes[h.Sum32()%uint32(len(b.lanes))] <- c:
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

func (b *batcher) work(lane chan *call) {
	defer b.stopped.Done()
	last := 0   // size of the last batch: its callers are about to post again
	queued := 0 // posts that came while the last batch was in the database
	for {
		var first *call
		select {
		case first = <-lane:
		case <-b.stop:
			return
		}
		batch := []*call{first}
		// Under load, the callers of the last batch are sending their next
		// posts right now, and others came while it was in the database;
		// waiting a moment for the former (until the batch holds both, at
		// most lingerFor) makes the batch, and the throughput, several times
		// larger for a fraction of a commit's latency. Waiting only for as
		// many as last time would let the callers settle into two groups
		// that take turns, each batch half as large (measured: hot account,
		// 17 entries a batch instead of 26). Without load nothing waits.
		if last > 1 {
			linger := time.NewTimer(lingerFor)
		wait:
			for len(batch) < min(last+queued, b.max) {
				select {
				case c := <-lane:
					batch = append(batch, c)
				case <-linger.C:
					break wait
				}
			}
			linger.Stop()
		}
	drain: // and whatever else is already waiting
		for len(batch) < b.max {
			select {
			case c := <-lane:
				batch = append(batch, c)
			default:
				break drain
			}
		}
		last = len(batch)
		b.flush(batch)
		queued = len(lane)
	}
}

// lingerFor is how long a loaded lane waits to fill a batch.
const lingerFor = time.Millisecond

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
		by := make([]string, len(calls)) // each entry keeps the principal that asked for it
		for i, c := range calls {
			reqs[i], by[i] = c.req, c.actor.By
		}
		results := b.svc.postBatch(context.WithoutCancel(calls[0].ctx), tenant, reqs, by)
		for i, c := range calls {
			c.done <- results[i]
		}
	}
}

func (b *batcher) close() {
	close(b.stop)
	b.stopped.Wait()
}
