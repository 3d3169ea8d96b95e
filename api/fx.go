package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/xbsettle/xbsettle/ledger"
	"github.com/xbsettle/xbsettle/settlement"
)

// rateInput is one rate of POST /v1/fx/rates. The rate rules (pair, unit,
// order, precision, dates) are the domain's: it reports every bad field.
type rateInput struct {
	Pair   string          `json:"pair"`
	Date   string          `json:"date"`
	Unit   int32           `json:"unit"`
	Parity json.RawMessage `json:"parity"`
	Buy    json.RawMessage `json:"buy"`
	Sell   json.RawMessage `json:"sell"`
	Source string          `json:"source"`
}

type ratesInput struct {
	Rates []rateInput `json:"rates"`
}

// loadRates: POST /v1/fx/rates (admin). All or nothing.
func (s *Server) loadRates(c echo.Context) error {
	var in ratesInput
	if err := decodeBody(c, &in, maxBody, false); err != nil {
		if tooManyElements(err, "rates") {
			return settlement.ErrTooManyRates.With("a load has at most %d rates; reading stopped after %d", settlement.MaxRateLoad, maxJSONElements)
		}
		return err
	}
	var f fields
	out := make([]settlement.RateInput, len(in.Rates))
	for i, r := range in.Rates {
		at := indexed("rates", i)
		base, quote, _ := strings.Cut(ledger.UpperASCII(strings.TrimSpace(r.Pair)), "/")
		out[i] = settlement.RateInput{Pair: settlement.Pair{Base: ledger.Currency(base), Quote: ledger.Currency(quote)},
			Date: parseDate(r.Date, nested(at, "date"), &f), Unit: r.Unit, Source: r.Source,
			Parity: parseAmount(r.Parity, nested(at, "parity"), &f), Buy: parseAmount(r.Buy, nested(at, "buy"), &f),
			Sell: parseAmount(r.Sell, nested(at, "sell"), &f)}
	}
	if err := f.err(); err != nil {
		return err
	}
	rates, err := s.fx.LoadRates(c.Request().Context(), principal(c).KeyID.String(), out)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, map[string]any{"rates": viewAll(rates, viewRate)})
}

// getRates: GET /v1/fx/rates?pair=&date=. The loads of a pair for a date
// (default today, Beijing), the one in force first.
func (s *Server) getRates(c echo.Context) error {
	var f fields
	pair := c.QueryParam("pair")
	if pair == "" {
		f.add("pair", "REQUIRED", "name the pair, such as USD/CNY")
	}
	date := settlement.Today(time.Now())
	if d := c.QueryParam("date"); d != "" {
		date = parseDate(d, "date", &f)
	}
	if err := f.err(); err != nil {
		return err
	}
	p, err := settlement.ParsePair(pair)
	if err != nil {
		return err
	}
	h, err := s.fx.Rates(c.Request().Context(), p, date)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"pair": p.String(), "date": date.Format(time.DateOnly),
		"in_force": viewRate(h.InForce), "versions": viewAll(h.Versions, viewRate)})
}

type quoteInput struct {
	Pair string `json:"pair"`
	Side string `json:"side"`
}

// createQuote: POST /v1/fx/quotes. Locks today's rate of the pair, on the
// side asked, for the caller's tenant.
func (s *Server) createQuote(c echo.Context) error {
	var in quoteInput
	if err := decodeBody(c, &in, maxBody, false); err != nil {
		return err
	}
	var f fields
	pair, err := settlement.ParsePair(in.Pair)
	switch {
	case in.Pair == "":
		f.add("pair", "REQUIRED", "name the pair, such as USD/CNY")
	case err != nil:
		f.add("pair", settlement.FieldPair, "a foreign currency against CNY, such as USD/CNY")
	}
	side, err := settlement.ParseSide(in.Side)
	switch {
	case in.Side == "":
		f.add("side", "REQUIRED", "customer_buys_fx (购汇) or customer_sells_fx (结汇)")
	case err != nil:
		f.add("side", "SIDE_INVALID", "customer_buys_fx (购汇) or customer_sells_fx (结汇)")
	}
	if err := f.err(); err != nil {
		return err
	}
	q, err := s.fx.Quote(c.Request().Context(), actor(c), pair, side)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, viewQuote(q, time.Now()))
}

// getQuote: GET /v1/fx/quotes/{id}, live or expired; another tenant's is 404.
func (s *Server) getQuote(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	q, err := s.fx.QuoteByID(c.Request().Context(), actor(c).Tenant, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, viewQuote(q, time.Now()))
}

// parseDate parses a YYYY-MM-DD date as midnight UTC, the form dates take
// in settlement.
func parseDate(s, field string, f *fields) time.Time {
	if s == "" {
		f.add(field, "REQUIRED", "want a date such as 2026-03-16")
		return time.Time{}
	}
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		f.add(field, "DATE_INVALID", "want a date such as 2026-03-16")
	}
	return d
}

type rateView struct {
	ID       uuid.UUID `json:"id"`
	Pair     string    `json:"pair"`
	Date     string    `json:"date"`
	Unit     int32     `json:"unit"`
	Parity   string    `json:"parity"`
	Buy      string    `json:"buy"`
	Sell     string    `json:"sell"`
	Source   string    `json:"source"`
	Version  int       `json:"version"`
	LoadedAt time.Time `json:"loaded_at"`
	LoadedBy string    `json:"loaded_by"`
}

func viewRate(r settlement.Rate) rateView {
	return rateView{ID: r.ID, Pair: r.Pair.String(), Date: r.Date.Format(time.DateOnly), Unit: r.Unit, Parity: r.Parity.String(),
		Buy: r.Buy.String(), Sell: r.Sell.String(), Source: r.Source, Version: r.Version, LoadedAt: r.LoadedAt.UTC(), LoadedBy: r.LoadedBy}
}

type quoteView struct {
	ID        uuid.UUID       `json:"id"`
	Pair      string          `json:"pair"`
	Side      settlement.Side `json:"side"`
	Rate      string          `json:"rate"`
	Parity    string          `json:"parity"`
	Unit      int32           `json:"unit"`
	RateDate  string          `json:"rate_date"`
	RateID    uuid.UUID       `json:"rate_id"`
	CreatedAt time.Time       `json:"created_at"`
	ExpiresAt time.Time       `json:"expires_at"`
	Live      bool            `json:"live"`
}

func viewQuote(q settlement.Quote, now time.Time) quoteView {
	qt := q.Quotation
	return quoteView{ID: q.ID, Pair: qt.Pair.String(), Side: qt.Side, Rate: qt.Rate.String(), Parity: qt.Parity.String(),
		Unit: qt.Unit, RateDate: qt.Date.Format(time.DateOnly), RateID: qt.RateID, CreatedAt: q.CreatedAt.UTC(),
		ExpiresAt: q.ExpiresAt.UTC(), Live: q.Live(now)}
}
