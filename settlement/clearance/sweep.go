package clearance

import (
	"context"
	"fmt"
	"time"

	"github.com/xbsettle/xbsettle/internal/jobs"
)

// The sweeper finds in PostgreSQL the work Redis lost: chains still dirty
// some time after they were made so (their task was lost, or failed for
// good), and parked waybills that a crash kept from being attached. These
// two queries cross tenants on purpose: they are operational scans over
// small partial indexes, not reads of anyone's data.
const (
	staleDirtySQL = `
SELECT tenant_id, order_no FROM clearance_chains
WHERE dirty_since < now() - $1::interval
ORDER BY dirty_since LIMIT $2`
	staleParkedSQL = `
SELECT DISTINCT order_no FROM clearance_parked_waybills WHERE created_at < now() - $1::interval LIMIT $2`
)

// Sweep matches up to limit chains dirty for longer than age and attaches
// the waybills parked for longer than age that now find their chain. It
// returns how many chains it matched. When a batch fails, its chains (or
// orders) are taken one at a time, and one that still fails is skipped and
// counted (internal/jobs), so it cannot hold back the others.
func (s *Service) Sweep(ctx context.Context, age time.Duration, limit int) (int, error) {
	interval := fmt.Sprintf("%d microseconds", age.Microseconds())
	var orderNos []string
	if err := s.db.SelectContext(ctx, &orderNos, staleParkedSQL, interval, limit); err != nil {
		return 0, fmt.Errorf("find parked waybills: %w", err)
	}
	if len(orderNos) > 0 {
		if err := s.AttachWaybills(ctx, orderNos); err != nil {
			if err := eachAlone(ctx, orderNos, func(o string) string { return "waybills of order " + o },
				func(o string) error { return s.AttachWaybills(ctx, []string{o}) }); err != nil {
				return 0, err
			}
		}
	}
	var rows []struct {
		Tenant  string `db:"tenant_id"`
		OrderNo string `db:"order_no"`
	}
	if err := s.db.SelectContext(ctx, &rows, staleDirtySQL, interval, limit); err != nil {
		return 0, fmt.Errorf("find dirty chains: %w", err)
	}
	keys := make([]ChainKey, len(rows))
	for i, r := range rows {
		keys[i] = ChainKey{r.Tenant, r.OrderNo}
	}
	if err := s.MatchChains(ctx, keys); err != nil {
		if err := eachAlone(ctx, keys, func(k ChainKey) string { return "chain " + k.EbpCode + "/" + k.OrderNo },
			func(k ChainKey) error { return s.MatchChains(ctx, []ChainKey{k}) }); err != nil {
			return 0, err
		}
	}
	return len(keys), nil
}

// eachAlone runs do for every item on its own, counting and logging those
// that fail. Only the end of ctx stops it.
func eachAlone[T any](ctx context.Context, items []T, name func(T) string, do func(T) error) error {
	for _, it := range items {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err := do(it); err != nil {
			jobs.Skip(ctx, jobs.ClearanceSweep, name(it), err)
		}
	}
	return nil
}
