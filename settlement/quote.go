package settlement

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/xbsettle/xbsettle/ledger"
)

// Quote is a rate locked for one payment institution (its tenant) until
// ExpiresAt. Rate carries the figures as they were when the quote was made,
// so a later rate load does not move a quote already given.
type Quote struct {
	ID        uuid.UUID
	TenantID  string
	Quotation Quotation // Quotation.QuoteID is ID
	CreatedAt time.Time
	ExpiresAt time.Time
	CreatedBy string
}

// Live reports whether the quote may still be used at the instant given: up
// to, not including, ExpiresAt.
func (q Quote) Live(at time.Time) bool { return at.Before(q.ExpiresAt) }

const quoteColumns = `id, tenant_id, rate_id, base_currency, quote_currency, side, rate, parity, unit,
	rate_date, created_at, expires_at, created_by`

const insertQuoteSQL = `
INSERT INTO fx_quotes (` + quoteColumns + `)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`

// quoteRow is a row of fx_quotes.
type quoteRow struct {
	ID        uuid.UUID       `db:"id"`
	TenantID  string          `db:"tenant_id"`
	RateID    uuid.UUID       `db:"rate_id"`
	Base      ledger.Currency `db:"base_currency"`
	Quote     ledger.Currency `db:"quote_currency"`
	Side      Side            `db:"side"`
	Rate      decimal.Decimal `db:"rate"`
	Parity    decimal.Decimal `db:"parity"`
	Unit      int32           `db:"unit"`
	RateDate  time.Time       `db:"rate_date"`
	CreatedAt time.Time       `db:"created_at"`
	ExpiresAt time.Time       `db:"expires_at"`
	CreatedBy string          `db:"created_by"`
}

func (r quoteRow) quote() Quote {
	return Quote{ID: r.ID, TenantID: r.TenantID, CreatedAt: r.CreatedAt.UTC(), ExpiresAt: r.ExpiresAt.UTC(), CreatedBy: r.CreatedBy,
		Quotation: Quotation{Pair: Pair{Base: r.Base, Quote: r.Quote}, Side: r.Side, Rate: r.Rate, Parity: r.Parity,
			Unit: r.Unit, Date: dayOf(r.RateDate), RateID: r.RateID, QuoteID: r.ID}}
}

// Quote locks the rate in force today (Beijing) for the actor's tenant, on
// one side, for the desk's TTL. Errors: ErrPairInvalid, ErrSideInvalid,
// ErrRateNotFound, ErrRateStale.
//
//	q, err := fx.Quote(ctx, ledger.Actor{Tenant: payCode, By: keyID}, settlement.PairOf("USD"), settlement.CustomerBuysFX)
func (f *FX) Quote(ctx context.Context, actor ledger.Actor, pair Pair, side Side) (Quote, error) {
	if actor.Tenant == "" || actor.By == "" {
		return Quote{}, fmt.Errorf("quote %s: tenant and principal are required", pair)
	}
	if _, err := ParseSide(string(side)); err != nil {
		return Quote{}, err
	}
	today := f.today()
	r, err := f.RateOn(ctx, pair, today)
	if err != nil {
		return Quote{}, err
	}
	if oldest := today.AddDate(0, 0, -f.maxRateAge); r.Date.Before(oldest) {
		return Quote{}, ErrRateStale.With("the latest %s rate is of %s, more than %d days before %s",
			pair, r.Date.Format(dateLayout), f.maxRateAge, today.Format(dateLayout))
	}
	now := f.clock()
	q := Quote{ID: uuid.Must(uuid.NewV7()), TenantID: actor.Tenant, Quotation: r.Quotation(side),
		CreatedAt: now, ExpiresAt: now.Add(f.quoteTTL), CreatedBy: actor.By}
	q.Quotation.QuoteID = q.ID
	_, err = f.db.ExecContext(ctx, insertQuoteSQL, q.ID, q.TenantID, r.ID, pair.Base, pair.Quote, side,
		q.Quotation.Rate, q.Quotation.Parity, q.Quotation.Unit, r.Date.Format(dateLayout), q.CreatedAt, q.ExpiresAt, q.CreatedBy)
	if err != nil {
		return Quote{}, fmt.Errorf("quote %s %s: %w", pair, side, err)
	}
	return q, nil
}

// QuoteFor returns a tenant's quote if it is still live at the instant
// given (the moment the payment it prices is settled). Another tenant's
// quote is not found. Errors: ErrQuoteNotFound, ErrQuoteExpired.
func (f *FX) QuoteFor(ctx context.Context, tenant string, id uuid.UUID, at time.Time) (Quote, error) {
	var row quoteRow
	err := f.db.GetContext(ctx, &row, `SELECT `+quoteColumns+` FROM fx_quotes WHERE tenant_id = $1 AND id = $2`, tenant, id)
	if errors.Is(err, sql.ErrNoRows) {
		return Quote{}, ErrQuoteNotFound.With("quote %s does not exist", id)
	}
	if err != nil {
		return Quote{}, fmt.Errorf("read quote %s: %w", id, err)
	}
	q := row.quote()
	if !q.Live(at) {
		return Quote{}, ErrQuoteExpired.With("quote %s expired at %s", id, q.ExpiresAt.Format(time.RFC3339))
	}
	return q, nil
}
