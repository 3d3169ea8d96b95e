package settlement

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/lib/pq"
)

// QuoteByID returns one of a tenant's quotes, live or expired, so that a
// client can read what it locked. Another tenant's quote is not found.
// Errors: ErrQuoteNotFound.
func (f *FX) QuoteByID(ctx context.Context, tenant string, id uuid.UUID) (Quote, error) {
	var row quoteRow
	err := f.db.GetContext(ctx, &row, `SELECT `+quoteColumns+` FROM fx_quotes WHERE tenant_id = $1 AND id = $2`, tenant, id)
	if errors.Is(err, sql.ErrNoRows) {
		return Quote{}, ErrQuoteNotFound.With("quote %s does not exist", id)
	}
	if err != nil {
		return Quote{}, fmt.Errorf("read quote %s: %w", id, err)
	}
	return row.quote(), nil
}

// quotesByID reads many of a tenant's quotes in one statement, live or not:
// the caller judges each against the instant that matters to it. Unknown
// ids, and other tenants' quotes, are absent from the map.
func (f *FX) quotesByID(ctx context.Context, tenant string, ids []uuid.UUID) (map[uuid.UUID]Quote, error) {
	out := make(map[uuid.UUID]Quote, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var rows []quoteRow
	if err := f.db.SelectContext(ctx, &rows, `SELECT `+quoteColumns+` FROM fx_quotes WHERE tenant_id = $1 AND id = ANY($2)`,
		tenant, pq.Array(ids)); err != nil {
		return nil, fmt.Errorf("read %d quotes: %w", len(ids), err)
	}
	for _, r := range rows {
		out[r.ID] = r.quote()
	}
	return out, nil
}
