package settlement

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/lib/pq"
)

// postedBefore finds, among refused posts, those whose entry an earlier run
// already wrote: an entry of the same key whose metadata names the same
// owner (field = "item_id" or "batch_id", the item or batch it was built
// for). The ledger answers such a post as a replay; this check only runs
// when it refused one, and keeps exactly-once from depending on the ledger
// telling a replay from a refusal when the replay would no longer pass the
// balance checks (a payout retried after the payable was paid out).
func (s *Service) postedBefore(ctx context.Context, tenant, field string, owners map[string]uuid.UUID) (map[string]uuid.UUID, error) {
	found := map[string]uuid.UUID{}
	if len(owners) == 0 {
		return found, nil
	}
	keys := make([]string, 0, len(owners))
	for k := range owners {
		keys = append(keys, k)
	}
	var rows []struct {
		Key   string    `db:"idempotency_key"`
		ID    uuid.UUID `db:"id"`
		Owner string    `db:"owner"`
	}
	// Read-only, by the ledger's unique (tenant_id, idempotency_key).
	if err := s.db.SelectContext(ctx, &rows, `SELECT idempotency_key, id, coalesce(metadata->>$3, '') AS owner FROM entries
		WHERE tenant_id = $1 AND idempotency_key = ANY($2)`, tenant, pq.Array(keys), field); err != nil {
		return nil, fmt.Errorf("look up %d refused keys: %w", len(keys), err)
	}
	for _, r := range rows {
		if r.Owner == owners[r.Key].String() {
			found[r.Key] = r.ID
		}
	}
	return found, nil
}
