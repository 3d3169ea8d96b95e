package clearance

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/shopspring/decimal"
)

// A verified chain is a real trade (DESIGN §5): trade_chains keeps what
// settlement and risk need of it, one row per chain that is or was
// verified. The row is written when the chain becomes verified, updated
// (version + 1) when a verified chain's figures change, and marked
// unverified with a reason (MISMATCHED, INCOMPLETE, CANCELLED, RETURNED) and
// the failed rule codes when it stops being verified.
//
// Amounts are in the payment's currency; amount_cny is the same figure for
// CNY chains (every import chain) and NULL otherwise: settlement converts an
// export chain's amount at the rate of its settlement, which clearance does
// not know.

// tradeRow is a trade_chains row for a verified chain.
type tradeRow struct {
	key                                     ChainKey
	ebc, payCode, payRef, lc, ln, buyerHash string
	direction, tradeMode, currency          string
	amount, amountCNY, goodsValue, tax      string
	orderTime, payTime, declDate            string
	hsChapters, countries                   string // comma-separated
}

// tradeRowOf builds the row of a verified chain (all four documents present).
func tradeRowOf(e *evaluation) tradeRow {
	c := e.chain
	o, p, w, inv := c.Order, c.Payment, c.Waybill, c.Inventory
	r := tradeRow{key: e.key, ebc: o.EbcCode, payCode: p.PayCode, payRef: p.Ref(), lc: w.LogisticsCode, ln: w.LogisticsNo,
		direction: string(c.Direction()), tradeMode: inv.TradeMode, currency: string(p.Currency),
		amount: p.Amount().String(), goodsValue: o.GoodsValue.String(), tax: decimal.Zero.String(),
		orderTime: o.AppTime.Format(time.RFC3339Nano)}
	if c.Direction() == Import {
		r.buyerHash = o.BuyerIDNumber.Hash()
	}
	if p.Currency == cny {
		r.amountCNY = r.amount
	}
	if e.verdict.Tax != nil {
		r.tax = e.verdict.Tax.Total.String()
	}
	payTime := p.PayTime
	if c.Direction() == Export {
		payTime = p.AccountingDate
	}
	if !payTime.IsZero() {
		r.payTime = payTime.Format(time.RFC3339Nano)
	}
	r.declDate = string(declarationDay(inv))
	var chapters, countries []string
	for _, l := range inv.Lines {
		chapters = append(chapters, l.Gcode[:2])
		countries = append(countries, l.Country)
	}
	for _, l := range o.Lines {
		countries = append(countries, l.Country)
	}
	countries = append(countries, inv.Country)
	r.hsChapters, r.countries = distinctList(chapters), distinctList(countries)
	return r
}

// distinctList is the sorted, distinct, non-empty members, comma-separated.
func distinctList(xs []string) string {
	xs = slices.DeleteFunc(slices.Clone(xs), func(s string) bool { return s == "" })
	slices.Sort(xs)
	return strings.Join(slices.Compact(xs), ",")
}

// upsertTradeSQL writes verified chains; an existing row changes (and its
// version grows) only when a figure differs or it was unverified.
const upsertTradeSQL = `
INSERT INTO trade_chains AS t (tenant_id, order_no, ebc_code, pay_code, pay_transaction_id, logistics_code, logistics_no,
	buyer_id_hash, direction, trade_mode, currency, amount, amount_cny, goods_value, tax, order_time, pay_time,
	declaration_date, hs_chapters, countries, status, verified_at, version)
SELECT u.t, u.o, u.ebc, u.pay, u.ref, u.lc, u.ln, NULLIF(u.buyer, ''), u.dir, u.mode, u.cur, u.amount::numeric,
	NULLIF(u.cny, '')::numeric, u.goods::numeric, u.tax::numeric, u.ot::timestamptz, NULLIF(u.pt, '')::timestamptz,
	NULLIF(u.dd, '')::date, string_to_array(u.hs, ','), string_to_array(u.cc, ','), 'verified', now(), 1
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
	$10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::text[], $18::text[],
	$19::text[], $20::text[])
	AS u(t, o, ebc, pay, ref, lc, ln, buyer, dir, mode, cur, amount, cny, goods, tax, ot, pt, dd, hs, cc)
ON CONFLICT (tenant_id, order_no) DO UPDATE SET
	ebc_code = excluded.ebc_code, pay_code = excluded.pay_code, pay_transaction_id = excluded.pay_transaction_id,
	logistics_code = excluded.logistics_code, logistics_no = excluded.logistics_no, buyer_id_hash = excluded.buyer_id_hash,
	direction = excluded.direction, trade_mode = excluded.trade_mode, currency = excluded.currency, amount = excluded.amount,
	amount_cny = excluded.amount_cny, goods_value = excluded.goods_value, tax = excluded.tax, order_time = excluded.order_time,
	pay_time = excluded.pay_time, declaration_date = excluded.declaration_date, hs_chapters = excluded.hs_chapters,
	countries = excluded.countries, status = 'verified', reason = '', rule_codes = '{}',
	verified_at = CASE WHEN t.status = 'verified' THEN t.verified_at ELSE now() END, unverified_at = NULL,
	version = t.version + 1, updated_at = now()
WHERE t.status <> 'verified' OR (t.ebc_code, t.pay_code, t.pay_transaction_id, t.logistics_code, t.logistics_no,
	t.buyer_id_hash, t.trade_mode, t.currency, t.amount, t.amount_cny, t.goods_value, t.tax, t.order_time, t.pay_time,
	t.declaration_date, t.hs_chapters, t.countries)
	IS DISTINCT FROM (excluded.ebc_code, excluded.pay_code, excluded.pay_transaction_id, excluded.logistics_code,
	excluded.logistics_no, excluded.buyer_id_hash, excluded.trade_mode, excluded.currency, excluded.amount,
	excluded.amount_cny, excluded.goods_value, excluded.tax, excluded.order_time, excluded.pay_time,
	excluded.declaration_date, excluded.hs_chapters, excluded.countries)`

// unverifySQL marks chains that stopped being verified.
const unverifySQL = `
UPDATE trade_chains t SET status = 'unverified', reason = u.reason, rule_codes = string_to_array(u.codes, ','),
	unverified_at = now(), version = t.version + 1, updated_at = now()
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS u(t, o, reason, codes)
WHERE t.tenant_id = u.t AND t.order_no = u.o AND t.status = 'verified'`

// writeTradeChains records the chains that are verified and those that
// stopped being so. A verified chain whose verdict is unchanged may still
// have new figures (a new payment time), so every verified chain is
// upserted, and the upsert skips rows that are equal.
func writeTradeChains(ctx context.Context, tx *sqlx.Tx, evs []*evaluation) error {
	var cols [20][]string
	var ut, uo, reasons, codes []string
	for _, e := range evs {
		switch {
		case e.verified():
			r := tradeRowOf(e)
			for i, v := range []string{r.key.EbpCode, r.key.OrderNo, r.ebc, r.payCode, r.payRef, r.lc, r.ln, r.buyerHash,
				r.direction, r.tradeMode, r.currency, r.amount, r.amountCNY, r.goodsValue, r.tax, r.orderTime, r.payTime,
				r.declDate, r.hsChapters, r.countries} {
				cols[i] = append(cols[i], v)
			}
		case e.wasVerified:
			ut, uo = append(ut, e.key.EbpCode), append(uo, e.key.OrderNo)
			reasons, codes = append(reasons, unverifiedReason(e)), append(codes, failedCodes(e.verdict))
		}
	}
	if len(cols[0]) > 0 {
		args := make([]any, len(cols))
		for i := range cols {
			args[i] = pq.Array(cols[i])
		}
		if _, err := tx.ExecContext(ctx, upsertTradeSQL, args...); err != nil {
			return fmt.Errorf("upsert %d trade chains: %w", len(cols[0]), err)
		}
	}
	if len(ut) > 0 {
		if _, err := tx.ExecContext(ctx, unverifySQL, pq.Array(ut), pq.Array(uo), pq.Array(reasons), pq.Array(codes)); err != nil {
			return fmt.Errorf("unverify %d trade chains: %w", len(ut), err)
		}
	}
	return nil
}

// unverifiedReason says why a chain stopped being verified.
func unverifiedReason(e *evaluation) string {
	switch {
	case e.state == ChainCancelled:
		return "CANCELLED"
	case e.state == ChainReturned:
		return "RETURNED"
	case e.verdict.Status == StatusMismatched:
		return "MISMATCHED"
	}
	return "INCOMPLETE"
}

// failedCodes lists the verdict's failed rules and missing documents.
func failedCodes(v Verdict) string {
	var codes []string
	for _, f := range v.Failed {
		codes = append(codes, string(f.Code))
	}
	for _, k := range v.Missing {
		codes = append(codes, string(k.MissingRule()))
	}
	return strings.Join(slices.Compact(codes), ",")
}
