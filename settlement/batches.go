package settlement

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"github.com/xbsettle/xbsettle/internal/db"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/shopspring/decimal"

	"github.com/xbsettle/xbsettle/ledger"
)

// BatchStatus is where a net batch stands: open takes items, closed waits
// for its payout, settled is paid out.
type BatchStatus string

// Batch statuses.
const (
	BatchOpen    BatchStatus = "open"
	BatchClosed  BatchStatus = "closed"
	BatchSettled BatchStatus = "settled"
)

// maxDaysAhead bounds the value dates an item tries when the batches of
// the current one were closed early (an on-demand cut-off).
const maxDaysAhead = 7

// Batch is the net settlement of one enterprise in one currency for one
// value date: its items' payouts summed, paid out by one entry at the
// cut-off.
type Batch struct {
	ID            uuid.UUID       `db:"id"`
	TenantID      string          `db:"tenant_id"`
	Enterprise    string          `db:"enterprise"`
	Currency      ledger.Currency `db:"currency"`
	ValueDate     time.Time       `db:"value_date"`
	Status        BatchStatus     `db:"status"`
	ItemCount     int             `db:"item_count"`
	Gross         decimal.Decimal `db:"gross"` // Σ of the items' payouts before fees
	Fees          decimal.Decimal `db:"fees"`
	Net           decimal.Decimal `db:"net"` // what the payout pays: gross − fees
	PayoutEntryID *uuid.UUID      `db:"payout_entry_id"`
	LastError     string          `db:"last_error"` // why the payout was last refused, if it was
	CreatedAt     time.Time       `db:"created_at"`
	ClosedAt      *time.Time      `db:"closed_at"`
	SettledAt     *time.Time      `db:"settled_at"`
}

const batchColumns = `id, tenant_id, enterprise, currency, value_date, status, item_count, gross, fees, net,
	payout_entry_id, last_error, created_at, closed_at, settled_at`

// batchGroup is what a batch nets: one enterprise in one currency.
type batchGroup struct {
	enterprise string
	currency   ledger.Currency
}

// batch puts posted items into the open batch of their enterprise, payout
// currency and value date, in one transaction that also adds them to the
// batch totals. The value date is the current one by the cut-off; if its
// batch was already closed (an early cut-off), the next day's.
func (s *Service) batch(ctx context.Context, ins *instructionRow, items []Item) error {
	now := s.clock()
	first := s.cutoff.ValueDate(now)
	return db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		pending := map[batchGroup][]*Item{}
		for i := range items {
			g := batchGroup{items[i].Enterprise, items[i].PayoutCurrency}
			pending[g] = append(pending[g], &items[i])
		}
		var moves []move
		for day := 0; len(pending) > 0 && day < maxDaysAhead; day++ {
			vd := first.AddDate(0, 0, day)
			open, err := openBatches(ctx, tx, ins.TenantID, vd, pending, now)
			if err != nil {
				return err
			}
			for g, id := range open {
				for _, it := range pending[g] {
					moves = append(moves, move{id: it.ID, from: Posted, to: Batched, batchID: &id, valueDate: &vd})
				}
				delete(pending, g)
			}
		}
		if len(pending) > 0 {
			return fmt.Errorf("no open batch in the %d value dates from %s", maxDaysAhead, first.Format(dateLayout))
		}
		moved, err := applyMoves(ctx, tx, ins.TenantID, now, moves)
		if err != nil {
			return err
		}
		return addToTotals(ctx, tx, ins.TenantID, moved)
	})
}

// openBatches creates the missing batches of a value date for the groups,
// locks them all in id order (the order the cut-off locks in too) and
// returns those that are still open.
func openBatches(ctx context.Context, tx *sqlx.Tx, tenant string, vd time.Time, groups map[batchGroup][]*Item, now time.Time) (map[batchGroup]uuid.UUID, error) {
	keys := make([]batchGroup, 0, len(groups))
	for g := range groups {
		keys = append(keys, g)
	}
	// Inserts take their unique-key locks in this order; sorting keeps two
	// workers from taking them crosswise.
	slices.SortFunc(keys, func(a, b batchGroup) int {
		return cmp.Or(cmp.Compare(a.enterprise, b.enterprise), cmp.Compare(a.currency, b.currency))
	})
	ids, ents, curs := make([]uuid.UUID, len(keys)), make([]string, len(keys)), make([]string, len(keys))
	for i, k := range keys {
		ids[i], ents[i], curs[i] = uuid.Must(uuid.NewV7()), k.enterprise, string(k.currency)
	}
	date := vd.Format(dateLayout)
	if _, err := tx.ExecContext(ctx, `INSERT INTO settlement_batches (tenant_id, id, enterprise, currency, value_date, status, created_at)
		SELECT $1, u.id, u.ent, u.cur, $2, 'open', $3 FROM unnest($4::uuid[], $5::text[], $6::text[]) WITH ORDINALITY AS u(id, ent, cur, n)
		ORDER BY u.n
		ON CONFLICT (tenant_id, enterprise, currency, value_date) DO NOTHING`,
		tenant, date, now, pq.Array(ids), pq.Array(ents), pq.Array(curs)); err != nil {
		return nil, fmt.Errorf("create batches of %s: %w", date, err)
	}
	var rows []struct {
		ID         uuid.UUID `db:"id"`
		Enterprise string    `db:"enterprise"`
		Currency   string    `db:"currency"`
		Status     string    `db:"status"`
	}
	if err := tx.SelectContext(ctx, &rows, `SELECT b.id, b.enterprise, b.currency, b.status FROM settlement_batches b
		JOIN unnest($3::text[], $4::text[]) AS u(ent, cur) ON b.enterprise = u.ent AND b.currency = u.cur
		WHERE b.tenant_id = $1 AND b.value_date = $2 ORDER BY b.id FOR UPDATE OF b`,
		tenant, date, pq.Array(ents), pq.Array(curs)); err != nil {
		return nil, fmt.Errorf("lock batches of %s: %w", date, err)
	}
	open := make(map[batchGroup]uuid.UUID, len(rows))
	for _, r := range rows {
		if BatchStatus(r.Status) == BatchOpen {
			open[batchGroup{r.Enterprise, ledger.Currency(r.Currency)}] = r.ID
		}
	}
	return open, nil
}

// addToTotals adds the items that just joined their batches to the batch
// totals, in the transaction that moved them: a batch's totals are always
// the sums of its items.
func addToTotals(ctx context.Context, tx *sqlx.Tx, tenant string, items []uuid.UUID) error {
	if len(items) == 0 {
		return nil
	}
	_, err := tx.ExecContext(ctx, `UPDATE settlement_batches b SET item_count = b.item_count + m.n,
			gross = b.gross + m.gross, fees = b.fees + m.fees, net = b.net + m.net
		FROM (SELECT batch_id, count(*) AS n, sum(payout_gross) AS gross, sum(fee) AS fees, sum(payout_amount) AS net
			FROM settlement_items WHERE tenant_id = $1 AND id = ANY($2) GROUP BY batch_id) m
		WHERE b.tenant_id = $1 AND b.id = m.batch_id`, tenant, pq.Array(items))
	if err != nil {
		return fmt.Errorf("add %d items to batch totals: %w", len(items), err)
	}
	return nil
}

// BatchFilter narrows Batches; zero fields do not filter.
type BatchFilter struct {
	ValueDate time.Time // zero: any
	Currency  ledger.Currency
}

// Batches pages through a tenant's batches by id, after the cursor id
// (uuid.Nil for the first page).
func (s *Service) Batches(ctx context.Context, tenant string, f BatchFilter, after uuid.UUID, limit int) ([]Batch, error) {
	var date sql.NullString
	if !f.ValueDate.IsZero() {
		date = sql.NullString{String: dayOf(f.ValueDate).Format(dateLayout), Valid: true}
	}
	var out []Batch
	if err := s.db.SelectContext(ctx, &out, `SELECT `+batchColumns+` FROM settlement_batches
		WHERE tenant_id = $1 AND ($2::date IS NULL OR value_date = $2) AND ($3 = '' OR currency = $3) AND id > $4
		ORDER BY id LIMIT $5`, tenant, date, string(f.Currency), after, limit); err != nil {
		return nil, fmt.Errorf("list batches: %w", err)
	}
	for i := range out {
		out[i].ValueDate = dayOf(out[i].ValueDate)
	}
	return out, nil
}
