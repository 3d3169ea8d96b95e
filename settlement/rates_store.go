package settlement

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/lib/pq"
	"github.com/shopspring/decimal"

	"github.com/xbsettle/xbsettle/ledger"
)

// rateLoadLock serializes rate loads, so that two loads of the same pair and
// date number their versions one after the other. Loads are rare operator
// actions; a global lock costs nothing and keeps "latest wins" exact.
const rateLoadLock = 7405003

const rateColumns = `id, base_currency, quote_currency, rate_date, unit, parity, buy_rate, sell_rate,
	source, version, loaded_at, loaded_by`

// loadRatesSQL inserts a whole load in one statement. Each row's version is
// one more than the latest of its pair and date: history is appended, never
// overwritten (the table refuses UPDATE and DELETE).
const loadRatesSQL = `
INSERT INTO fx_rates (id, base_currency, quote_currency, rate_date, unit, parity, buy_rate, sell_rate,
	source, version, load_id, loaded_at, loaded_by)
SELECT u.id, u.base, u.quote, u.d, u.unit, u.parity, u.buy, u.sell, u.source,
	coalesce((SELECT max(f.version) FROM fx_rates f
		WHERE f.base_currency = u.base AND f.quote_currency = u.quote AND f.rate_date = u.d), 0) + 1,
	$10, $11, $12
FROM unnest($1::uuid[], $2::text[], $3::text[], $4::date[], $5::int[], $6::numeric[], $7::numeric[],
	$8::numeric[], $9::text[]) AS u(id, base, quote, d, unit, parity, buy, sell, source)
RETURNING ` + rateColumns

// rateRow is a row of fx_rates.
type rateRow struct {
	ID       uuid.UUID       `db:"id"`
	Base     ledger.Currency `db:"base_currency"`
	Quote    ledger.Currency `db:"quote_currency"`
	Date     time.Time       `db:"rate_date"`
	Unit     int32           `db:"unit"`
	Parity   decimal.Decimal `db:"parity"`
	Buy      decimal.Decimal `db:"buy_rate"`
	Sell     decimal.Decimal `db:"sell_rate"`
	Source   string          `db:"source"`
	Version  int             `db:"version"`
	LoadedAt time.Time       `db:"loaded_at"`
	LoadedBy string          `db:"loaded_by"`
}

func (r rateRow) rate() Rate {
	return Rate{ID: r.ID, Pair: Pair{Base: r.Base, Quote: r.Quote}, Date: dayOf(r.Date), Unit: r.Unit,
		Parity: r.Parity, Buy: r.Buy, Sell: r.Sell, Source: r.Source, Version: r.Version,
		LoadedAt: r.LoadedAt.UTC(), LoadedBy: r.LoadedBy}
}

// LoadRates stores a load of rates, all or nothing, recording who loaded
// them. A rate for a pair and date that already has one becomes the new
// version in force; the old one stays readable in Rates. It returns the
// stored rates in the order given. Errors: VALIDATION_FAILED (apperr.Invalid,
// one field error per bad field: rates[i].buy …), ErrTooManyRates.
//
//	rates, err := fx.LoadRates(ctx, keyID, []settlement.RateInput{{Pair: settlement.PairOf("USD"), …}})
func (f *FX) LoadRates(ctx context.Context, by string, in []RateInput) ([]Rate, error) {
	if by == "" {
		return nil, fmt.Errorf("load rates: the loading principal is required")
	}
	if err := validateRates(in, f.today()); err != nil {
		return nil, err
	}
	n := len(in)
	ids := make([]uuid.UUID, n)
	base, quote, dates, parity, buy, sell, source := make([]string, n), make([]string, n), make([]string, n),
		make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	units := make([]int64, n)
	for i, r := range in {
		ids[i] = uuid.Must(uuid.NewV7())
		base[i], quote[i], dates[i] = string(r.Pair.Base), string(r.Pair.Quote), dayOf(r.Date).Format(dateLayout)
		units[i], parity[i], buy[i], sell[i], source[i] = int64(r.Unit), r.Parity.String(), r.Buy.String(), r.Sell.String(), r.Source
	}
	tx, err := f.db.BeginTxx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("load rates: begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, rateLoadLock); err != nil {
		return nil, fmt.Errorf("load rates: lock: %w", err)
	}
	var rows []rateRow
	if err := tx.SelectContext(ctx, &rows, loadRatesSQL, pq.Array(ids), pq.Array(base), pq.Array(quote),
		pq.Array(dates), pq.Array(units), pq.Array(parity), pq.Array(buy), pq.Array(sell), pq.Array(source),
		uuid.Must(uuid.NewV7()), f.clock(), by); err != nil {
		return nil, fmt.Errorf("load %d rates: %w", n, err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("load rates: commit: %w", err)
	}
	byID := make(map[uuid.UUID]Rate, len(rows))
	for _, r := range rows {
		byID[r.ID] = r.rate()
	}
	out := make([]Rate, n)
	for i, id := range ids {
		out[i] = byID[id]
	}
	return out, nil
}

// Rates returns the loads of a pair for one date, newest (in force) first,
// at most the latest 100. Errors: ErrPairInvalid, ErrRateNotFound.
func (f *FX) Rates(ctx context.Context, pair Pair, date time.Time) (RateHistory, error) {
	if err := pair.Validate(); err != nil {
		return RateHistory{}, err
	}
	var rows []rateRow
	err := f.db.SelectContext(ctx, &rows, `SELECT `+rateColumns+` FROM fx_rates
		WHERE base_currency = $1 AND quote_currency = $2 AND rate_date = $3
		ORDER BY version DESC LIMIT $4`, pair.Base, pair.Quote, dayOf(date).Format(dateLayout), maxRateVersions)
	if err != nil {
		return RateHistory{}, fmt.Errorf("rates of %s on %s: %w", pair, dayOf(date).Format(dateLayout), err)
	}
	if len(rows) == 0 {
		return RateHistory{}, ErrRateNotFound.With("no %s rate is loaded for %s", pair, dayOf(date).Format(dateLayout))
	}
	h := RateHistory{Versions: make([]Rate, len(rows))}
	for i, r := range rows {
		h.Versions[i] = r.rate()
	}
	h.InForce = h.Versions[0]
	return h, nil
}

// RateOn returns the rate in force on a day: the latest load of the latest
// date on or before it, since no board is published on weekends and
// holidays. Errors: ErrPairInvalid, ErrRateNotFound.
func (f *FX) RateOn(ctx context.Context, pair Pair, day time.Time) (Rate, error) {
	if err := pair.Validate(); err != nil {
		return Rate{}, err
	}
	var row rateRow
	err := f.db.GetContext(ctx, &row, `SELECT `+rateColumns+` FROM fx_rates
		WHERE base_currency = $1 AND quote_currency = $2 AND rate_date <= $3
		ORDER BY rate_date DESC, version DESC LIMIT 1`, pair.Base, pair.Quote, dayOf(day).Format(dateLayout))
	if errors.Is(err, sql.ErrNoRows) {
		return Rate{}, ErrRateNotFound.With("no %s rate is loaded on or before %s", pair, dayOf(day).Format(dateLayout))
	}
	if err != nil {
		return Rate{}, fmt.Errorf("rate of %s on %s: %w", pair, dayOf(day).Format(dateLayout), err)
	}
	return row.rate(), nil
}
