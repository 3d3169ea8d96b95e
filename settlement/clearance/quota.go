package clearance

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/shopspring/decimal"
)

// The annual limit (ANNUAL_LIMIT) needs the buyer's other matched purchases
// in the calendar year. They are kept in clearance_quota_uses, one row per
// (buyer, year, chain): a chain uses its taxable price while it is verified
// and open; when it stops being so (a rule fails, a document is deleted, it
// is cancelled or returned) its row is released. Re-evaluating a chain
// rewrites its own row, so nothing is counted twice. A chain that failed
// ANNUAL_LIMIT is not re-evaluated when quota is given back: customs
// returned it, and only a new version of one of its documents brings it up
// again. The year is the order's (appTime in China time).

// buyerYear names one buyer's calendar year; Hash is the keyed hash of the
// buyer's ID number.
type buyerYear struct {
	Hash string `db:"buyer_hash"`
	Year int    `db:"year"`
}

// buyerYearOf is the quota an import order draws on; nil for export orders
// and orders without a buyer ID.
func buyerYearOf(o *Order) *buyerYear {
	if o == nil || o.Direction() != Import || o.BuyerIDNumber.Hash() == "" {
		return nil
	}
	return &buyerYear{o.BuyerIDNumber.Hash(), o.AppTime.In(chinaTime).Year()}
}

// lockBuyerYearsSQL serializes evaluations of one buyer's year: the rows
// are created if need be and locked in key order.
const (
	ensureBuyerYearsSQL = `
INSERT INTO clearance_buyer_years (buyer_hash, year)
SELECT * FROM unnest($1::text[], $2::int[]) ORDER BY 1, 2
ON CONFLICT DO NOTHING`
	lockBuyerYearsSQL = `
SELECT b.buyer_hash, b.year FROM clearance_buyer_years b
JOIN unnest($1::text[], $2::int[]) AS u(h, y) ON b.buyer_hash = u.h AND b.year = u.y
ORDER BY 1, 2 FOR UPDATE OF b`
	// Each buyer year is looked up by its key (OFFSET 0 keeps the planner
	// from turning the lookups into a join): with statistics that say
	// few rows are 'used', it read and hashed the whole table for every
	// call, 80 ms at 500,000 chains.
	quotaUsesSQL = `
SELECT q.* FROM unnest($1::text[], $2::int[]) AS u(h, y) CROSS JOIN LATERAL (
	SELECT q.buyer_hash, q.year, q.tenant_id, q.order_no, q.amount FROM clearance_quota_uses q
	WHERE q.buyer_hash = u.h AND q.year = u.y AND q.state = 'used' OFFSET 0) q`
)

// evaluate matches every claimed chain. Chains of one buyer's year are
// evaluated under that year's lock, in order of their orders' time, each
// seeing the quota the others use, those of this round included.
func evaluate(ctx context.Context, tx *sqlx.Tx, evs []*evaluation, facts Facts) error {
	groups := map[buyerYear][]*evaluation{}
	for _, e := range evs {
		if e.by == nil {
			if err := e.match(facts); err != nil {
				return err
			}
			continue
		}
		groups[*e.by] = append(groups[*e.by], e)
	}
	if len(groups) == 0 {
		return nil
	}
	used, err := lockQuota(ctx, tx, groups)
	if err != nil {
		return err
	}
	for by, group := range groups {
		slices.SortFunc(group, func(a, b *evaluation) int {
			return cmp.Or(a.chain.Order.AppTime.Compare(b.chain.Order.AppTime), compareKeys(a.key, b.key))
		})
		uses := used[by]
		for _, e := range group {
			f := facts
			for k, amount := range uses {
				if k != e.key {
					f.BuyerYearTotal = f.BuyerYearTotal.Add(amount)
				}
			}
			if err := e.match(f); err != nil {
				return err
			}
			if e.verified() && e.verdict.Tax != nil {
				uses[e.key] = e.verdict.Tax.TaxablePrice
			} else {
				delete(uses, e.key)
			}
		}
	}
	return nil
}

// lockQuota locks the buyer years and returns the quota each chain uses.
func lockQuota(ctx context.Context, tx *sqlx.Tx, groups map[buyerYear][]*evaluation) (map[buyerYear]map[ChainKey]decimal.Decimal, error) {
	hashes, years := make([]string, 0, len(groups)), make([]int64, 0, len(groups))
	for by := range groups {
		hashes, years = append(hashes, by.Hash), append(years, int64(by.Year))
	}
	if _, err := tx.ExecContext(ctx, ensureBuyerYearsSQL, pq.Array(hashes), pq.Array(years)); err != nil {
		return nil, fmt.Errorf("create buyer years: %w", err)
	}
	var locked []buyerYear
	if err := tx.SelectContext(ctx, &locked, lockBuyerYearsSQL, pq.Array(hashes), pq.Array(years)); err != nil {
		return nil, fmt.Errorf("lock buyer years: %w", err)
	}
	var rows []struct {
		buyerYear
		Tenant  string          `db:"tenant_id"`
		OrderNo string          `db:"order_no"`
		Amount  decimal.Decimal `db:"amount"`
	}
	if err := tx.SelectContext(ctx, &rows, quotaUsesSQL, pq.Array(hashes), pq.Array(years)); err != nil {
		return nil, fmt.Errorf("read quota uses: %w", err)
	}
	used := make(map[buyerYear]map[ChainKey]decimal.Decimal, len(groups))
	for by := range groups {
		used[by] = map[ChainKey]decimal.Decimal{}
	}
	for _, r := range rows {
		used[r.buyerYear][ChainKey{r.Tenant, r.OrderNo}] = r.Amount
	}
	return used, nil
}

// releaseQuotaSQL gives back the quota of evaluated chains, except the use
// each keeps (its buyer year, when it is verified and open).
const releaseQuotaSQL = `
UPDATE clearance_quota_uses q SET state = 'released', reason = u.reason, updated_at = now()
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[]) AS u(t, o, reason, h, y)
WHERE q.tenant_id = u.t AND q.order_no = u.o AND q.state = 'used' AND NOT (q.buyer_hash = u.h AND q.year = u.y)`

// useQuotaSQL records the quota verified chains use.
const useQuotaSQL = `
INSERT INTO clearance_quota_uses (buyer_hash, year, tenant_id, order_no, amount, state)
SELECT h, y, t, o, a, 'used' FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::numeric[]) AS u(h, y, t, o, a)
ON CONFLICT (buyer_hash, year, tenant_id, order_no) DO UPDATE
	SET amount = excluded.amount, state = 'used', reason = '', updated_at = now()
	WHERE clearance_quota_uses.state <> 'used' OR clearance_quota_uses.amount <> excluded.amount`

// writeQuotaUses records what the evaluated chains use and give back.
func writeQuotaUses(ctx context.Context, tx *sqlx.Tx, evs []*evaluation) error {
	var rt, ro, reason, rh []string
	var ry []int64
	var uh, ut, uo, ua []string
	var uy []int64
	for _, e := range evs {
		keepHash, keepYear := "", int64(0)
		if e.by != nil && e.verified() && e.verdict.Tax != nil {
			keepHash, keepYear = e.by.Hash, int64(e.by.Year)
			uh, uy, ut, uo = append(uh, e.by.Hash), append(uy, keepYear), append(ut, e.key.EbpCode), append(uo, e.key.OrderNo)
			ua = append(ua, e.verdict.Tax.TaxablePrice.String())
		}
		// A chain uses quota only while verified and open, as its last
		// evaluation recorded: one that was not has nothing to give back.
		if !e.wasVerified {
			continue
		}
		why := "unverified"
		if e.state != ChainOpen {
			why = string(e.state)
		}
		rt, ro, reason, rh, ry = append(rt, e.key.EbpCode), append(ro, e.key.OrderNo), append(reason, why), append(rh, keepHash), append(ry, keepYear)
	}
	if len(rt) > 0 {
		if _, err := tx.ExecContext(ctx, releaseQuotaSQL, pq.Array(rt), pq.Array(ro), pq.Array(reason), pq.Array(rh), pq.Array(ry)); err != nil {
			return fmt.Errorf("release quota of %d chains: %w", len(rt), err)
		}
	}
	if len(uh) == 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, useQuotaSQL, pq.Array(uh), pq.Array(uy), pq.Array(ut), pq.Array(uo), pq.Array(ua)); err != nil {
		return fmt.Errorf("use quota of %d chains: %w", len(uh), err)
	}
	return nil
}
