package settlement

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/xbsettle/xbsettle/ledger"
)

// ReportColumns are the columns of the transaction-by-transaction (逐笔)
// report, in order: one line per cross-border payment with the value date,
// as the FX bureau asks for them. The CSV has them as its header; the JSON
// lines use them as keys.
var ReportColumns = []string{"value_date", "item_id", "instruction_id", "pay_code", "pay_transaction_id", "ebp_code",
	"order_no", "enterprise", "direction", "trade_mode", "route", "flow", "currency", "amount", "payout_currency",
	"payout_gross", "fee", "payout_net", "side", "rate", "unit", "rate_date", "cny_amount", "spread_cny", "entry_id",
	"batch_id", "status"}

// Record is the item's report line, one string per ReportColumns, amounts
// with their currency's minor units, "" where a figure does not apply.
func (it *Item) Record(payCode string) []string {
	str := func(id *uuid.UUID) string {
		if id == nil {
			return ""
		}
		return id.String()
	}
	amt := func(cur ledger.Currency, d decimal.NullDecimal) string {
		if !d.Valid {
			return ""
		}
		return cur.Format(d.Decimal)
	}
	route, side, rate, unit, rateDate := "FX", "", "", "", ""
	if it.Flow == FlowCIPS {
		route = "CIPS"
	}
	if q := it.Quotation; q != nil {
		side, rate, unit, rateDate = string(q.Side), q.Rate.String(), strconv.Itoa(int(q.Unit)), q.Date.Format(dateLayout)
	}
	vd := ""
	if it.ValueDate != nil {
		vd = it.ValueDate.Format(dateLayout)
	}
	return []string{vd, it.ID.String(), it.InstructionID.String(), payCode, it.PayTransactionID, it.EbpCode,
		it.OrderNo, it.Enterprise, it.Direction, it.TradeMode, route, string(it.Flow), string(it.Currency),
		it.Currency.Format(it.Amount), string(it.PayoutCurrency), amt(it.PayoutCurrency, it.PayoutGross),
		it.PayoutCurrency.Format(it.Fee), amt(it.PayoutCurrency, it.PayoutAmount), side, rate, unit, rateDate,
		amt(CNY, it.CNYAmount), amt(CNY, it.SpreadCNY), str(it.EntryID), str(it.BatchID), string(it.Status)}
}

// TransactionReport pages through the items of a tenant with the given
// value date (batched or settled: the payments posted for that day), by
// id after the cursor id (uuid.Nil for the first page).
func (s *Service) TransactionReport(ctx context.Context, tenant string, valueDate time.Time, after uuid.UUID, limit int) ([]Item, error) {
	var rows []itemRow
	if err := s.db.SelectContext(ctx, &rows, `SELECT `+itemColumns+` FROM settlement_items
		WHERE tenant_id = $1 AND value_date = $2 AND id > $3 ORDER BY id LIMIT $4`,
		tenant, dayOf(valueDate).Format(dateLayout), after, limit); err != nil {
		return nil, fmt.Errorf("transaction report of %s: %w", dayOf(valueDate).Format(dateLayout), err)
	}
	items := make([]Item, len(rows))
	for i := range rows {
		items[i] = rows[i].item()
	}
	return items, nil
}

// Statement is an institution's daily settlement statement: the batches of
// a value date, the day's totals per currency and the end-of-day balances
// of its settlement accounts (merchant payables are in the batches).
type Statement struct {
	TenantID  string
	Date      time.Time
	AsOf      time.Time // the balances' instant: the end of the day, Beijing time
	Batches   []Batch
	Totals    []StatementTotal
	SpreadCNY decimal.Decimal // FX spread income of the day's items
	Balances  []StatementBalance
}

// StatementTotal sums a value date's items in one currency: collected are
// the payments in it, the rest the payouts in it.
type StatementTotal struct {
	Currency  ledger.Currency `db:"currency"`
	Collected decimal.Decimal `db:"collected"`
	Items     int             `db:"items"`
	Gross     decimal.Decimal `db:"gross"`
	Fees      decimal.Decimal `db:"fees"`
	Net       decimal.Decimal `db:"net"`
}

// StatementBalance is one settlement account's posted balance at AsOf.
type StatementBalance struct {
	Code     string
	Currency ledger.Currency
	Posted   decimal.Decimal
}

// maxStatementBatches bounds the batches a statement lists; a tenant with
// more pages through GET /v1/settlement-batches instead.
const maxStatementBatches = 10_000

// statementTotalsSQL sums a value date's items per currency, as paid in and
// as paid out.
const statementTotalsSQL = `
WITH i AS (SELECT currency, amount, payout_currency, payout_gross, fee, payout_amount FROM settlement_items
	WHERE tenant_id = $1 AND value_date = $2),
c AS (SELECT currency FROM i UNION SELECT payout_currency FROM i),
col AS (SELECT currency, sum(amount) AS collected FROM i GROUP BY currency),
pay AS (SELECT payout_currency AS currency, count(*) AS items, sum(payout_gross) AS gross, sum(fee) AS fees,
	sum(payout_amount) AS net FROM i GROUP BY payout_currency)
SELECT c.currency, coalesce(col.collected, 0) AS collected, coalesce(pay.items, 0) AS items,
	coalesce(pay.gross, 0) AS gross, coalesce(pay.fees, 0) AS fees, coalesce(pay.net, 0) AS net
FROM c LEFT JOIN col USING (currency) LEFT JOIN pay USING (currency) ORDER BY c.currency`

// DailyStatement builds a tenant's statement for a value date. Errors:
// ErrStatementTooLarge (more batches than a statement lists).
func (s *Service) DailyStatement(ctx context.Context, tenant string, date time.Time) (Statement, error) {
	date = dayOf(date)
	d := date.Format(dateLayout)
	st := Statement{TenantID: tenant, Date: date, AsOf: time.Date(date.Year(), date.Month(), date.Day()+1, 0, 0, 0, 0, beijing).UTC()}
	if err := s.db.SelectContext(ctx, &st.Batches, `SELECT `+batchColumns+` FROM settlement_batches
		WHERE tenant_id = $1 AND value_date = $2 ORDER BY currency, enterprise LIMIT $3`, tenant, d, maxStatementBatches+1); err != nil {
		return st, fmt.Errorf("statement batches of %s: %w", d, err)
	}
	if len(st.Batches) > maxStatementBatches {
		return st, ErrStatementTooLarge.With("%s has more than %d batches; page through GET /v1/settlement-batches", d, maxStatementBatches)
	}
	for i := range st.Batches {
		st.Batches[i].ValueDate = dayOf(st.Batches[i].ValueDate)
	}
	if err := s.db.SelectContext(ctx, &st.Totals, statementTotalsSQL, tenant, d); err != nil {
		return st, fmt.Errorf("statement totals of %s: %w", d, err)
	}
	if err := s.db.GetContext(ctx, &st.SpreadCNY, `SELECT coalesce(sum(spread_cny), 0) FROM settlement_items
		WHERE tenant_id = $1 AND value_date = $2`, tenant, d); err != nil {
		return st, fmt.Errorf("statement spread of %s: %w", d, err)
	}
	var err error
	st.Balances, err = s.chartBalances(ctx, tenant, st.AsOf)
	return st, err
}

// chartBalances reads the posted balance, as of an instant, of each of the
// tenant's settlement accounts but the merchant payables. The account list
// is read from the ledger's table (read-only): the ledger lists accounts by
// id only, and a tenant has far more merchant accounts than others.
func (s *Service) chartBalances(ctx context.Context, tenant string, asOf time.Time) ([]StatementBalance, error) {
	var accts []struct {
		ID   uuid.UUID `db:"id"`
		Code string    `db:"code"`
	}
	if err := s.db.SelectContext(ctx, &accts, `SELECT id, code FROM accounts
		WHERE tenant_id = $1 AND code NOT LIKE 'merchant:%' ORDER BY code LIMIT 1000`, tenant); err != nil {
		return nil, fmt.Errorf("settlement accounts: %w", err)
	}
	var out []StatementBalance
	for _, a := range accts {
		if _, err := ParseAccountRef(a.Code); err != nil {
			continue // an account of the tenant's own, not of the chart
		}
		r, err := s.ledger.Balance(ctx, tenant, a.ID, asOf)
		if err != nil {
			return nil, err
		}
		out = append(out, StatementBalance{Code: a.Code, Currency: r.Account.Currency, Posted: r.Balance.Posted(r.Account.Kind)})
	}
	return out, nil
}

// StatementColumns are the columns of the statement's CSV: one line per
// batch, one per currency total, one for the spread and one per balance;
// a column that does not apply to a line is empty.
var StatementColumns = []string{"line", "name", "currency", "items", "collected", "gross", "fees", "net", "amount",
	"status", "reference"}

// Records is the statement as CSV lines (without the header).
func (st *Statement) Records() [][]string {
	var out [][]string
	for _, b := range st.Batches {
		ref := ""
		if b.PayoutEntryID != nil {
			ref = b.PayoutEntryID.String()
		}
		out = append(out, []string{"batch", b.Enterprise, string(b.Currency), strconv.Itoa(b.ItemCount), "",
			b.Currency.Format(b.Gross), b.Currency.Format(b.Fees), b.Currency.Format(b.Net), "", string(b.Status), ref})
	}
	for _, t := range st.Totals {
		out = append(out, []string{"total", "", string(t.Currency), strconv.Itoa(t.Items), t.Currency.Format(t.Collected),
			t.Currency.Format(t.Gross), t.Currency.Format(t.Fees), t.Currency.Format(t.Net), "", "", ""})
	}
	out = append(out, []string{"spread", string(FXSpreadIncome), string(CNY), "", "", "", "", "", CNY.Format(st.SpreadCNY), "", ""})
	for _, b := range st.Balances {
		out = append(out, []string{"balance", b.Code, string(b.Currency), "", "", "", "", "", b.Currency.Format(b.Posted), "",
			st.AsOf.Format(time.RFC3339)})
	}
	return out
}
