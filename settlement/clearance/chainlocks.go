package clearance

import (
	"context"
	"sync"
)

// chainLocks keeps two evaluations in one process from working on the same
// chains at once. Every party's batch schedules a task for its chains, so
// the four batches of the same chains make four tasks; run side by side,
// all four would read and decode the same documents and all but one would
// find, at compare-and-clear, that another wrote first. Waiting instead,
// the later ones find the chains clean and skip them for the price of one
// query. Correctness does not depend on it: compare-and-clear still
// guards against every writer and against evaluations in other processes.
//
// A set is taken whole or not at all, so two evaluations never hold part of
// what the other waits for.
type chainLocks struct {
	mu   sync.Mutex
	held map[ChainKey]chan struct{} // closed when its holder lets go
}

// lock waits until none of keys is held and takes them all; release lets
// them go. It gives up when ctx is done.
func (l *chainLocks) lock(ctx context.Context, keys []ChainKey) (release func(), err error) {
	for {
		l.mu.Lock()
		if l.held == nil {
			l.held = map[ChainKey]chan struct{}{}
		}
		var busy chan struct{}
		for _, k := range keys {
			if ch, ok := l.held[k]; ok {
				busy = ch
				break
			}
		}
		if busy == nil {
			done := make(chan struct{})
			for _, k := range keys {
				l.held[k] = done
			}
			l.mu.Unlock()
			return func() {
				l.mu.Lock()
				for _, k := range keys {
					delete(l.held, k)
				}
				l.mu.Unlock()
				close(done)
			}, nil
		}
		l.mu.Unlock()
		select {
		case <-busy:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}
