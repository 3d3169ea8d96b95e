package clearance

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/shopspring/decimal"
)

// rateRow is one row of hs_tax_rates.
type rateRow struct {
	Heading     string          `db:"heading"`
	VAT         decimal.Decimal `db:"vat_rate"`
	Consumption decimal.Decimal `db:"consumption_rate"`
}

// tableRates is the rate table as loaded: listed headings, and the '*' row
// for every other one, so that the default too lives in the table.
type tableRates struct {
	byHeading RateMap
	fallback  Rates
}

// Rates returns the heading's rates, or the table's default.
func (t tableRates) Rates(heading string) (Rates, bool) {
	if r, ok := t.byHeading[heading]; ok {
		return r, true
	}
	return t.fallback, true
}

// LoadRates reads hs_tax_rates. It refuses a table whose rates are not
// Valid, or without the default row '*'.
func LoadRates(ctx context.Context, q querier) (RateTable, error) {
	var rows []rateRow
	if err := q.SelectContext(ctx, &rows, `SELECT heading, vat_rate, consumption_rate FROM hs_tax_rates`); err != nil {
		return nil, fmt.Errorf("load tax rates: %w", err)
	}
	t := tableRates{byHeading: RateMap{}}
	seenDefault := false
	for _, r := range rows {
		rates := Rates{VAT: r.VAT, Consumption: r.Consumption}
		if !rates.Valid() {
			return nil, fmt.Errorf("load tax rates: heading %s: invalid rates c=%s v=%s", r.Heading, r.Consumption, r.VAT)
		}
		if r.Heading == "*" {
			t.fallback, seenDefault = rates, true
			continue
		}
		t.byHeading[r.Heading] = rates
	}
	if !seenDefault {
		return nil, fmt.Errorf("load tax rates: the default row '*' is missing")
	}
	return t, nil
}

// rateCache keeps the rate table for a while: it is read by every
// evaluation and changes only by migration or an operator.
type rateCache struct {
	mu      sync.Mutex
	table   RateTable
	expires time.Time
}

// rateCacheTTL is how long a change of hs_tax_rates may take to be used.
const rateCacheTTL = time.Minute

func (c *rateCache) get(ctx context.Context, q querier) (RateTable, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.table != nil && time.Now().Before(c.expires) {
		return c.table, nil
	}
	t, err := LoadRates(ctx, q)
	if err != nil {
		return nil, err
	}
	c.table, c.expires = t, time.Now().Add(rateCacheTTL)
	return t, nil
}
