package clearance

import (
	"context"
	"fmt"
	"time"
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
// returns how many chains it matched.
func (s *Service) Sweep(ctx context.Context, age time.Duration, limit int) (int, error) {
	interval := fmt.Sprintf("%d microseconds", age.Microseconds())
	var orderNos []string
	if err := s.db.SelectContext(ctx, &orderNos, staleParkedSQL, interval, limit); err != nil {
		return 0, fmt.Errorf("find parked waybills: %w", err)
	}
	if len(orderNos) > 0 {
		if err := s.AttachWaybills(ctx, orderNos); err != nil {
			return 0, err
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
		return 0, err
	}
	return len(keys), nil
}
