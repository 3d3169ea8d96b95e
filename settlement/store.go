package settlement

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/shopspring/decimal"

	"github.com/xbsettle/xbsettle/ledger"
)

// querier is what both *sqlx.DB and *sqlx.Tx offer.
type querier interface {
	sqlx.QueryerContext
	sqlx.ExecerContext
	GetContext(ctx context.Context, dest any, query string, args ...any) error
	SelectContext(ctx context.Context, dest any, query string, args ...any) error
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

const insertInstructionSQL = `
INSERT INTO settlement_instructions (tenant_id, id, idempotency_key, request_hash, item_count, accepted_at, created_by)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (tenant_id, idempotency_key) DO NOTHING`

const instructionColumns = `tenant_id, id, idempotency_key, accepted_at, created_by`

type instructionRow struct {
	TenantID   string    `db:"tenant_id"`
	ID         uuid.UUID `db:"id"`
	Key        string    `db:"idempotency_key"`
	AcceptedAt time.Time `db:"accepted_at"`
	CreatedBy  string    `db:"created_by"`
}

// insertItemsSQL stores an instruction's items, their accepted events and
// its outbox row in one statement.
const insertItemsSQL = `
WITH i AS (
	INSERT INTO settlement_items (tenant_id, id, instruction_id, seq, ebp_code, order_no, pay_transaction_id, enterprise,
		currency, amount, payout_currency, quote_id, fee, status, accepted_at, updated_at)
	SELECT $1, u.id, $2, u.seq, u.ebp, u.ord, u.ptx, u.ent, u.cur, u.amount, u.pcur, u.quote, u.fee, 'accepted', $3, $3
	FROM unnest($4::uuid[], $5::int[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::numeric[],
		$12::text[], $13::uuid[], $14::numeric[]) AS u(id, seq, ebp, ord, ptx, ent, cur, amount, pcur, quote, fee)
	RETURNING id
), ev AS (
	INSERT INTO settlement_item_events (tenant_id, item_id, from_status, to_status, at)
	SELECT $1, id, NULL, 'accepted', $3 FROM i
)
INSERT INTO settlement_outbox (tenant_id, instruction_id, created_at) VALUES ($1, $2, $3)`

func insertItems(ctx context.Context, tx *sqlx.Tx, tenant string, instruction uuid.UUID, at time.Time, items []NewItem) error {
	n := len(items)
	ids, seq := make([]uuid.UUID, n), make([]int64, n)
	ebp, ord, ptx, ent, cur, amt, pcur, fee := make([]string, n), make([]string, n), make([]string, n), make([]string, n),
		make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	quote := make([]sql.NullString, n)
	for i, it := range items {
		ids[i], seq[i] = uuid.Must(uuid.NewV7()), int64(i)
		ebp[i], ord[i], ptx[i], ent[i] = it.EbpCode, it.OrderNo, it.PayTransactionID, it.Enterprise
		cur[i], amt[i], pcur[i], fee[i] = string(it.Currency), it.Amount.String(), string(it.PayoutCurrency), it.Fee.String()
		if it.QuoteID != uuid.Nil {
			quote[i] = sql.NullString{String: it.QuoteID.String(), Valid: true}
		}
	}
	if _, err := tx.ExecContext(ctx, insertItemsSQL, tenant, instruction, at, pq.Array(ids), pq.Array(seq), pq.Array(ebp),
		pq.Array(ord), pq.Array(ptx), pq.Array(ent), pq.Array(cur), pq.Array(amt), pq.Array(pcur), pq.Array(quote), pq.Array(fee)); err != nil {
		return fmt.Errorf("insert %d items: %w", n, err)
	}
	return nil
}

const itemColumns = `tenant_id, id, instruction_id, seq, ebp_code, order_no, pay_transaction_id, enterprise, currency, amount,
	payout_currency, quote_id, fee, status, codes, direction, trade_mode, flow, side, rate, parity, unit, rate_date, rate_id,
	cny_amount, foreign_amount, spread_cny, payout_gross, payout_amount, entry_id, batch_id, value_date, accepted_at, updated_at`

// itemRow is a row of settlement_items.
type itemRow struct {
	TenantID         string              `db:"tenant_id"`
	ID               uuid.UUID           `db:"id"`
	InstructionID    uuid.UUID           `db:"instruction_id"`
	Seq              int                 `db:"seq"`
	EbpCode          string              `db:"ebp_code"`
	OrderNo          string              `db:"order_no"`
	PayTransactionID string              `db:"pay_transaction_id"`
	Enterprise       string              `db:"enterprise"`
	Currency         string              `db:"currency"`
	Amount           decimal.Decimal     `db:"amount"`
	PayoutCurrency   string              `db:"payout_currency"`
	QuoteID          *uuid.UUID          `db:"quote_id"`
	Fee              decimal.Decimal     `db:"fee"`
	Status           string              `db:"status"`
	Codes            pq.StringArray      `db:"codes"`
	Direction        sql.NullString      `db:"direction"`
	TradeMode        sql.NullString      `db:"trade_mode"`
	Flow             sql.NullString      `db:"flow"`
	Side             sql.NullString      `db:"side"`
	Rate             decimal.NullDecimal `db:"rate"`
	Parity           decimal.NullDecimal `db:"parity"`
	Unit             sql.NullInt32       `db:"unit"`
	RateDate         *time.Time          `db:"rate_date"`
	RateID           *uuid.UUID          `db:"rate_id"`
	CNYAmount        decimal.NullDecimal `db:"cny_amount"`
	ForeignAmount    decimal.NullDecimal `db:"foreign_amount"`
	SpreadCNY        decimal.NullDecimal `db:"spread_cny"`
	PayoutGross      decimal.NullDecimal `db:"payout_gross"`
	PayoutAmount     decimal.NullDecimal `db:"payout_amount"`
	EntryID          *uuid.UUID          `db:"entry_id"`
	BatchID          *uuid.UUID          `db:"batch_id"`
	ValueDate        *time.Time          `db:"value_date"`
	AcceptedAt       time.Time           `db:"accepted_at"`
	UpdatedAt        time.Time           `db:"updated_at"`
}

func (r *itemRow) item() Item {
	it := Item{NewItem: NewItem{EbpCode: r.EbpCode, OrderNo: r.OrderNo, PayTransactionID: r.PayTransactionID,
		Enterprise: r.Enterprise, Currency: ledger.Currency(r.Currency), Amount: r.Amount,
		PayoutCurrency: ledger.Currency(r.PayoutCurrency), Fee: r.Fee},
		ID: r.ID, InstructionID: r.InstructionID, Seq: r.Seq, Status: ItemStatus(r.Status), Codes: []string(r.Codes),
		Direction: r.Direction.String, TradeMode: r.TradeMode.String, Flow: Flow(r.Flow.String),
		CNYAmount: r.CNYAmount, ForeignAmount: r.ForeignAmount, SpreadCNY: r.SpreadCNY,
		PayoutGross: r.PayoutGross, PayoutAmount: r.PayoutAmount, EntryID: r.EntryID, BatchID: r.BatchID,
		AcceptedAt: r.AcceptedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
	if it.Codes == nil {
		it.Codes = []string{}
	}
	if r.QuoteID != nil {
		it.QuoteID = *r.QuoteID
	}
	if r.ValueDate != nil {
		d := dayOf(*r.ValueDate)
		it.ValueDate = &d
	}
	if r.Side.Valid && r.Rate.Valid && r.RateDate != nil && r.RateID != nil {
		foreign := it.PayoutCurrency
		if it.Flow == FlowExport {
			foreign = it.Currency
		}
		it.Quotation = &Quotation{Pair: PairOf(foreign), Side: Side(r.Side.String), Rate: r.Rate.Decimal, Parity: r.Parity.Decimal,
			Unit: r.Unit.Int32, Date: dayOf(*r.RateDate), RateID: *r.RateID, QuoteID: it.QuoteID}
	}
	return it
}

// readItems reads an instruction's items in order; with active, only those
// a worker still has to move.
func readItems(ctx context.Context, q querier, tenant string, instruction uuid.UUID, active bool) ([]Item, error) {
	where := ""
	if active {
		where = ` AND status IN ('accepted', 'verified', 'posted')`
	}
	var rows []itemRow
	if err := q.SelectContext(ctx, &rows, `SELECT `+itemColumns+` FROM settlement_items
		WHERE tenant_id = $1 AND instruction_id = $2`+where+` ORDER BY seq`, tenant, instruction); err != nil {
		return nil, fmt.Errorf("read items of %s: %w", instruction, err)
	}
	items := make([]Item, len(rows))
	for i := range rows {
		items[i] = rows[i].item()
	}
	return items, nil
}

// readHistory fills in every item's events, oldest first; events of the
// same instant come in the order of the statuses.
func readHistory(ctx context.Context, q querier, tenant string, items []Item) error {
	if len(items) == 0 {
		return nil
	}
	ids := make([]uuid.UUID, len(items))
	at := make(map[uuid.UUID]*Item, len(items))
	for i := range items {
		ids[i], at[items[i].ID] = items[i].ID, &items[i]
	}
	var rows []struct {
		ItemID uuid.UUID      `db:"item_id"`
		From   sql.NullString `db:"from_status"`
		To     string         `db:"to_status"`
		Codes  pq.StringArray `db:"codes"`
		At     time.Time      `db:"at"`
	}
	if err := q.SelectContext(ctx, &rows, `SELECT item_id, from_status, to_status, codes, at FROM settlement_item_events
		WHERE tenant_id = $1 AND item_id = ANY($2)
		ORDER BY item_id, at, array_position(ARRAY['accepted', 'verified', 'rejected', 'held', 'posted', 'batched', 'settled'], to_status)`,
		tenant, pq.Array(ids)); err != nil {
		return fmt.Errorf("read item history: %w", err)
	}
	for _, r := range rows {
		codes := []string(r.Codes)
		if codes == nil {
			codes = []string{}
		}
		it := at[r.ItemID]
		it.History = append(it.History, Event{From: ItemStatus(r.From.String), To: ItemStatus(r.To), Codes: codes, At: r.At.UTC()})
	}
	return nil
}

// move is one guarded status change of an item, with what the new status
// fixes: the verdict (verification), the entry (posting), the batch
// (batching).
type move struct {
	id        uuid.UUID
	from, to  ItemStatus
	codes     []string
	verdict   *verdict
	entryID   *uuid.UUID
	batchID   *uuid.UUID
	valueDate *time.Time
}

// moveSQL applies many status changes in one statement. Each row changes
// only if the item still has the status the change starts from, so two
// workers racing over an item move it once; the loser's row is simply not
// returned. Every change is recorded in settlement_item_events. A column
// the change does not set keeps its value.
const moveSQL = `
WITH u AS (
	SELECT * FROM unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
		$10::numeric[], $11::numeric[], $12::int[], $13::date[], $14::uuid[], $15::numeric[], $16::numeric[], $17::numeric[],
		$18::numeric[], $19::numeric[], $20::uuid[], $21::uuid[], $22::date[])
	AS u(id, from_status, to_status, codes, direction, trade_mode, flow, side, rate, parity, unit, rate_date, rate_id,
		cny, fcy, spread, gross, net, entry_id, batch_id, value_date)
), moved AS (
	UPDATE settlement_items i SET status = u.to_status,
		codes = CASE WHEN u.codes = '' THEN i.codes ELSE string_to_array(u.codes, ',') END,
		direction = coalesce(u.direction, i.direction), trade_mode = coalesce(u.trade_mode, i.trade_mode),
		flow = coalesce(u.flow, i.flow), side = coalesce(u.side, i.side), rate = coalesce(u.rate, i.rate),
		parity = coalesce(u.parity, i.parity), unit = coalesce(u.unit, i.unit), rate_date = coalesce(u.rate_date, i.rate_date),
		rate_id = coalesce(u.rate_id, i.rate_id), cny_amount = coalesce(u.cny, i.cny_amount),
		foreign_amount = coalesce(u.fcy, i.foreign_amount), spread_cny = coalesce(u.spread, i.spread_cny),
		payout_gross = coalesce(u.gross, i.payout_gross), payout_amount = coalesce(u.net, i.payout_amount),
		entry_id = coalesce(u.entry_id, i.entry_id), batch_id = coalesce(u.batch_id, i.batch_id),
		value_date = coalesce(u.value_date, i.value_date), updated_at = $23
	FROM u WHERE i.tenant_id = $1 AND i.id = u.id AND i.status = u.from_status
	RETURNING i.id, u.from_status, i.status, i.codes
), ev AS (
	INSERT INTO settlement_item_events (tenant_id, item_id, from_status, to_status, codes, at)
	SELECT $1, id, from_status, status, codes, $23 FROM moved
)
SELECT id FROM moved`

// moveColumns counts the nullable columns of moveSQL, $6 to $22.
const moveColumns = 17

// applyMoves makes the changes that still apply and returns the items that
// moved.
func applyMoves(ctx context.Context, tx *sqlx.Tx, tenant string, at time.Time, moves []move) ([]uuid.UUID, error) {
	if len(moves) == 0 {
		return nil, nil
	}
	n := len(moves)
	ids := make([]uuid.UUID, n)
	from, to, codes := make([]string, n), make([]string, n), make([]string, n)
	cols := make([][]sql.NullString, moveColumns) // direction … value_date, in the order of moveSQL
	for i := range cols {
		cols[i] = make([]sql.NullString, n)
	}
	for i, m := range moves {
		ids[i], from[i], to[i], codes[i] = m.id, string(m.from), string(m.to), strings.Join(m.codes, ",")
		vals := moveValues(m)
		for c := range cols {
			cols[c][i] = vals[c]
		}
	}
	args := []any{tenant, pq.Array(ids), pq.Array(from), pq.Array(to), pq.Array(codes)}
	for _, c := range cols {
		args = append(args, pq.Array(c))
	}
	args = append(args, at)
	var moved []uuid.UUID
	if err := tx.SelectContext(ctx, &moved, moveSQL, args...); err != nil {
		return nil, fmt.Errorf("move %d items: %w", n, err)
	}
	return moved, nil
}

// moveValues lists what a move sets, NULL for what it leaves alone, in
// the column order of moveSQL ($6 direction … $22 value_date).
func moveValues(m move) []sql.NullString {
	vals := make([]sql.NullString, moveColumns)
	set := func(i int, s string) { vals[i] = sql.NullString{String: s, Valid: true} }
	dec := func(i int, d decimal.NullDecimal) {
		if d.Valid {
			set(i, d.Decimal.String())
		}
	}
	if v := m.verdict; v != nil {
		if v.direction != "" {
			set(0, v.direction)
			set(1, v.tradeMode)
		}
		if v.status == Verified {
			t := v.transfer
			set(2, string(t.Flow))
			if c := t.Conversion; c != nil {
				q := c.Quotation
				set(3, string(q.Side))
				set(4, q.Rate.String())
				set(5, q.Parity.String())
				set(6, fmt.Sprint(q.Unit))
				set(7, q.Date.Format(dateLayout))
				set(8, q.RateID.String())
			}
			f := figuresOf(t)
			dec(9, f.cny)
			dec(10, f.foreign)
			dec(11, f.spread)
			dec(12, f.gross)
			dec(13, f.net)
		}
	}
	if m.entryID != nil {
		set(14, m.entryID.String())
	}
	if m.batchID != nil {
		set(15, m.batchID.String())
	}
	if m.valueDate != nil {
		set(16, m.valueDate.Format(dateLayout))
	}
	return vals
}
