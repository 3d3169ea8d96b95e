package bench

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/xbsettle/xbsettle/internal/cputime"
	"github.com/xbsettle/xbsettle/internal/db"
)

// Usage is what the machine did during a scenario's timed part: the CPU
// cores this process (API, workers and load generator) and the PostgreSQL
// server used, and what PostgreSQL's busy backends were doing, sampled
// every 100 ms. It is the first evidence for what bounds a scenario: a
// saturated CPU, waits for the WAL flush (IO:WALSync), for another
// transaction's rows (Lock:transactionid), and so on.
type Usage struct {
	BenchCores    float64 `json:"bench_cores"`
	PostgresCores float64 `json:"postgres_cores,omitempty"` // 0 when the server is not on this machine
	// Waits counts busy backends per sample by what they were doing: "CPU"
	// (running, or ready to run), a wait event as type:name, or
	// "autovacuum" for an autovacuum worker.
	Waits   map[string]int `json:"waits,omitempty"`
	Samples int            `json:"samples"`
}

// Busy is how many backends were busy in an average sample.
func (u Usage) Busy() float64 {
	total := 0
	for _, v := range u.Waits {
		total += v
	}
	return float64(total) / float64(max(u.Samples, 1))
}

// TopWaits names the most frequent of Waits, as shares of all busy samples.
func (u Usage) TopWaits(n int) string {
	total := 0
	keys := make([]string, 0, len(u.Waits))
	for k, v := range u.Waits {
		keys = append(keys, k)
		total += v
	}
	sort.Slice(keys, func(i, j int) bool {
		return u.Waits[keys[i]] > u.Waits[keys[j]] || u.Waits[keys[i]] == u.Waits[keys[j]] && keys[i] < keys[j]
	})
	var parts []string
	for _, k := range keys[:min(n, len(keys))] {
		parts = append(parts, fmt.Sprintf("%s %d%%", k, 100*u.Waits[k]/total))
	}
	return strings.Join(parts, ", ")
}

// sampler measures Usage from start until stop.
type sampler struct {
	db       *sqlx.DB // a connection of its own: the pool under load may make it wait
	server   int      // the postmaster's pid, 0 if not found on this machine
	began    time.Time
	self, pg time.Duration
	usage    Usage
	cancel   context.CancelFunc
	done     sync.WaitGroup
}

// measure starts a sampler on the harness's database server.
func (h *harness) measure(ctx context.Context) (*sampler, error) {
	conn, err := db.Open(ctx, h.dsn, 1)
	if err != nil {
		return nil, err
	}
	var backend int
	if err := conn.GetContext(ctx, &backend, `SELECT pg_backend_pid()`); err != nil {
		conn.Close()
		return nil, err
	}
	s := &sampler{db: conn, server: cputime.Parent(backend), began: time.Now(), self: cputime.Self(), usage: Usage{Waits: map[string]int{}}}
	s.pg = s.serverCPU()
	ctx, s.cancel = context.WithCancel(ctx)
	s.done.Add(1)
	go s.sample(ctx)
	return s, nil
}

// waitsSQL names what each busy backend does; autovacuum workers are
// counted apart, for they compete with the scenario for the same cores.
const waitsSQL = `SELECT CASE WHEN backend_type = 'autovacuum worker' THEN 'autovacuum'
		ELSE coalesce(wait_event_type || ':' || wait_event, 'CPU') END
	FROM pg_stat_activity
	WHERE datname = current_database() AND state = 'active' AND pid <> pg_backend_pid()
		AND backend_type IN ('client backend', 'autovacuum worker')`

func (s *sampler) sample(ctx context.Context) {
	defer s.done.Done()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		var waits []string
		if s.db.SelectContext(ctx, &waits, waitsSQL) != nil {
			continue
		}
		s.usage.Samples++
		for _, w := range waits {
			s.usage.Waits[w]++
		}
	}
}

// stop ends the sampling and returns what was measured.
func (s *sampler) stop() Usage {
	s.cancel()
	s.done.Wait()
	s.db.Close()
	wall := time.Since(s.began).Seconds()
	s.usage.BenchCores = round2((cputime.Self() - s.self).Seconds() / wall)
	if s.server != 0 {
		s.usage.PostgresCores = round2((s.serverCPU() - s.pg).Seconds() / wall)
	}
	return s.usage
}

func round2(f float64) float64 { return float64(int(f*100+0.5)) / 100 }

// serverCPU is the CPU time of the postmaster and every process it started
// that is still running (backends that ended meanwhile are not counted: the
// figure is a lower bound when connections come and go).
func (s *sampler) serverCPU() time.Duration {
	total := cputime.Of(s.server)
	paths, _ := filepath.Glob("/proc/[0-9]*")
	for _, p := range paths {
		pid, _ := strconv.Atoi(filepath.Base(p))
		if cputime.Parent(pid) == s.server {
			total += cputime.Of(pid)
		}
	}
	return total
}
