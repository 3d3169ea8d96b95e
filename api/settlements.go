package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	"github.com/shopspring/decimal"

	"github.com/xbsettle/xbsettle/ledger"
	"github.com/xbsettle/xbsettle/settlement"
)

// settlementRoutes registers the FX and settlement routes (DESIGN §8).
func (s *Server) settlementRoutes() {
	e := s.echo
	anyone := []echo.MiddlewareFunc{s.authenticate}
	institution := []echo.MiddlewareFunc{s.authenticate, allow(RoleAdmin, RolePaymentInstitution), tenantScoped}
	operator := []echo.MiddlewareFunc{s.authenticate, allow(RoleAdmin), tenantScoped}
	// The FX bureau reads the 逐笔 reports of the institution it names.
	report := []echo.MiddlewareFunc{s.authenticate, allow(RoleAdmin, RolePaymentInstitution, RoleFXBureau), bureauScoped}

	e.POST("/v1/fx/rates", s.loadRates, s.authenticate, allow(RoleAdmin))
	e.GET("/v1/fx/rates", s.getRates, anyone...)
	e.POST("/v1/fx/quotes", s.createQuote, institution...)
	e.GET("/v1/fx/quotes/:id", s.getQuote, institution...)

	e.POST("/v1/settlements", s.submitSettlement, institution...)
	e.GET("/v1/settlements/:id", s.getSettlement, institution...)
	e.GET("/v1/settlement-batches", s.listBatches, institution...)
	e.POST("/v1/settlement-batches/cutoff", s.runCutoff, operator...)

	e.GET("/v1/reports/transactions", s.transactionReport, report...)
	e.GET("/v1/reports/statement", s.dailyStatement, report...)
	e.POST("/v1/reconciliations", s.reconcile, institution...)
}

// settlementItemInput is one item of POST /v1/settlements. The payment keeps
// the customs standard's names; amounts are decimal strings.
type settlementItemInput struct {
	EbpCode          string          `json:"ebpCode"`
	OrderNo          string          `json:"orderNo"`
	PayTransactionID string          `json:"payTransactionId"`
	Enterprise       string          `json:"enterprise"`
	Currency         string          `json:"currency"`
	Amount           json.RawMessage `json:"amount"`
	PayoutCurrency   string          `json:"payout_currency"`
	QuoteID          string          `json:"quote_id"`
	Fee              json.RawMessage `json:"fee"`
}

type settlementInput struct {
	Items []settlementItemInput `json:"items"`
}

// parse reads the shapes of the items; the settlement rules (currencies,
// flows, quotes, duplicates, limits) are the domain's.
func (in *settlementInput) parse(f *fields) []settlement.NewItem {
	items := make([]settlement.NewItem, len(in.Items))
	for i, it := range in.Items {
		at := indexed("items", i)
		items[i] = settlement.NewItem{EbpCode: it.EbpCode, OrderNo: it.OrderNo, PayTransactionID: it.PayTransactionID,
			Enterprise: it.Enterprise, Currency: ledger.Currency(it.Currency), PayoutCurrency: ledger.Currency(it.PayoutCurrency),
			Amount: parseAmount(it.Amount, nested(at, "amount"), f)}
		if it.QuoteID != "" {
			items[i].QuoteID = parseUUID(it.QuoteID, nested(at, "quote_id"), f)
		}
		items[i].Fee = parseFee(it.Fee, nested(at, "fee"), f)
	}
	return items
}

// parseFee parses an optional fee: absent, null or a zero amount ("0.00")
// is no fee; anything else is an amount.
func parseFee(raw json.RawMessage, field string, f *fields) decimal.Decimal {
	if len(raw) == 0 || string(raw) == "null" {
		return decimal.Zero
	}
	var s string
	if json.Unmarshal(raw, &s) == nil && strings.Trim(s, "0.") == "" && strings.Count(s, ".") <= 1 && s != "" && s != "." {
		return decimal.Zero
	}
	return parseAmount(raw, field, f)
}

// submitSettlement: POST /v1/settlements. Stored first, processed by the
// workers: 202 with every item accepted.
func (s *Server) submitSettlement(c echo.Context) error {
	key, err := idempotencyKey(c, true)
	if err != nil {
		return err
	}
	var in settlementInput
	if err := decodeBody(c, &in, maxBody, false); err != nil {
		if tooManyElements(err, "items") {
			return settlement.ErrTooManyItems.With("an instruction has at most %d items; reading stopped after %d", settlement.MaxItems, maxJSONElements)
		}
		return err
	}
	if len(in.Items) > settlement.MaxItems {
		return settlement.ErrTooManyItems.With("an instruction has at most %d items, got %d", settlement.MaxItems, len(in.Items))
	}
	var f fields
	items := in.parse(&f)
	if err := f.err(); err != nil {
		return err
	}
	ins, replayed, err := s.settle.Submit(c.Request().Context(), actor(c), settlement.NewInstruction{IdempotencyKey: key, Items: items})
	if err != nil {
		return err
	}
	return replayable(c, http.StatusAccepted, replayed, viewInstruction(ins))
}

// getSettlement: GET /v1/settlements/{id}, every item with its history.
func (s *Server) getSettlement(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	ins, err := s.settle.Instruction(c.Request().Context(), actor(c).Tenant, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, viewInstruction(ins))
}

// listBatches: GET /v1/settlement-batches?date=&currency=, by id.
func (s *Server) listBatches(c echo.Context) error {
	limit, cursor, err := page(c)
	if err != nil {
		return err
	}
	var f fields
	var filter settlement.BatchFilter
	if d := c.QueryParam("date"); d != "" {
		filter.ValueDate = parseDate(d, "date", &f)
	}
	filter.Currency = parseCurrency(c.QueryParam("currency"), "currency", &f)
	if err := f.err(); err != nil {
		return err
	}
	after, err := parseCursor(cursor)
	if err != nil {
		return err
	}
	batches, err := s.settle.Batches(c.Request().Context(), actor(c).Tenant, filter, after, limit+1)
	if err != nil {
		return err
	}
	next := ""
	if len(batches) > limit {
		batches = batches[:limit]
		next = batches[limit-1].ID.String()
	}
	return c.JSON(http.StatusOK, newList(viewAll(batches, viewBatch), next))
}

// parseCursor reads a cursor that is the last id of the previous page.
// Errors: BAD_CURSOR.
func parseCursor(cursor string) (uuid.UUID, error) {
	if cursor == "" {
		return uuid.Nil, nil
	}
	id, err := uuid.Parse(cursor)
	if err != nil {
		return uuid.Nil, ledger.ErrBadCursor.With("the cursor %q is not one this list returned", cursor)
	}
	return id, nil
}

// runCutoff: POST /v1/settlement-batches/cutoff?date= (admin). Closes the
// tenant's batches up to the date (default today, Beijing), pays them out
// and settles their items, as the scheduled cut-off does.
func (s *Server) runCutoff(c echo.Context) error {
	var f fields
	today := settlement.Today(time.Now())
	date := today
	if d := c.QueryParam("date"); d != "" {
		date = parseDate(d, "date", &f)
	}
	if date.After(today) {
		f.add("date", "DATE_IN_FUTURE", "a cut-off closes value dates up to today (%s, Beijing)", today.Format(time.DateOnly))
	}
	if err := f.err(); err != nil {
		return err
	}
	res, err := s.settle.RunCutoff(c.Request().Context(), actor(c), date)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"through": res.Through.Format(time.DateOnly), "closed": res.Closed,
		"settled": viewAll(res.Settled, viewBatch), "refused": viewAll(res.Refused, viewBatch)})
}

type instructionView struct {
	ID             uuid.UUID      `json:"id"`
	IdempotencyKey string         `json:"idempotency_key"`
	AcceptedAt     time.Time      `json:"accepted_at"`
	CreatedBy      string         `json:"created_by"`
	Summary        map[string]int `json:"summary"`
	Items          []itemView     `json:"items"`
}

type conversionView struct {
	Side          settlement.Side `json:"side"`
	Rate          string          `json:"rate"`
	Parity        string          `json:"parity"`
	Unit          int32           `json:"unit"`
	RateDate      string          `json:"rate_date"`
	RateID        uuid.UUID       `json:"rate_id"`
	ForeignAmount *string         `json:"foreign_amount"`
	SpreadCNY     *string         `json:"spread_cny"`
}

type eventView struct {
	From  *string   `json:"from"`
	To    string    `json:"status"`
	Codes []string  `json:"codes"`
	At    time.Time `json:"at"`
}

type itemView struct {
	ID               uuid.UUID       `json:"id"`
	Seq              int             `json:"seq"`
	EbpCode          string          `json:"ebpCode"`
	OrderNo          string          `json:"orderNo"`
	PayTransactionID string          `json:"payTransactionId"`
	Enterprise       string          `json:"enterprise"`
	Currency         ledger.Currency `json:"currency"`
	Amount           string          `json:"amount"`
	PayoutCurrency   ledger.Currency `json:"payout_currency"`
	QuoteID          *uuid.UUID      `json:"quote_id"`
	Fee              string          `json:"fee"`
	Status           string          `json:"status"`
	Codes            []string        `json:"codes"`
	Direction        *string         `json:"direction"`
	TradeMode        *string         `json:"trade_mode"`
	Flow             *string         `json:"flow"`
	Route            *string         `json:"route"`
	Conversion       *conversionView `json:"conversion"`
	CNYAmount        *string         `json:"cny_amount"`
	PayoutGross      *string         `json:"payout_gross"`
	PayoutAmount     *string         `json:"payout_amount"`
	EntryID          *uuid.UUID      `json:"entry_id"`
	BatchID          *uuid.UUID      `json:"batch_id"`
	ValueDate        *string         `json:"value_date"`
	History          []eventView     `json:"history"`
}

func viewInstruction(ins settlement.Instruction) instructionView {
	v := instructionView{ID: ins.ID, IdempotencyKey: ins.IdempotencyKey, AcceptedAt: ins.AcceptedAt.UTC(), CreatedBy: ins.CreatedBy,
		Summary: map[string]int{}, Items: viewAll(ins.Items, viewItem)}
	for _, it := range ins.Items {
		v.Summary[string(it.Status)]++
	}
	return v
}

func viewItem(it settlement.Item) itemView {
	v := itemView{ID: it.ID, Seq: it.Seq, EbpCode: it.EbpCode, OrderNo: it.OrderNo, PayTransactionID: it.PayTransactionID,
		Enterprise: it.Enterprise, Currency: it.Currency, Amount: it.Currency.Format(it.Amount), PayoutCurrency: it.PayoutCurrency,
		Fee: it.PayoutCurrency.Format(it.Fee), Status: string(it.Status), Codes: it.Codes, Direction: optional(it.Direction),
		TradeMode: optional(it.TradeMode), Flow: optional(string(it.Flow)), CNYAmount: amountOf("CNY", it.CNYAmount),
		PayoutGross: amountOf(it.PayoutCurrency, it.PayoutGross), PayoutAmount: amountOf(it.PayoutCurrency, it.PayoutAmount),
		EntryID: it.EntryID, BatchID: it.BatchID, History: make([]eventView, len(it.History))}
	if it.QuoteID != uuid.Nil {
		v.QuoteID = &it.QuoteID
	}
	if it.Flow != "" {
		route := "FX"
		if it.Flow == settlement.FlowCIPS {
			route = "CIPS"
		}
		v.Route = &route
	}
	if q := it.Quotation; q != nil {
		v.Conversion = &conversionView{Side: q.Side, Rate: q.Rate.String(), Parity: q.Parity.String(), Unit: q.Unit,
			RateDate: q.Date.Format(time.DateOnly), RateID: q.RateID, ForeignAmount: amountOf(q.Pair.Base, it.ForeignAmount),
			SpreadCNY: amountOf("CNY", it.SpreadCNY)}
	}
	if it.ValueDate != nil {
		d := it.ValueDate.Format(time.DateOnly)
		v.ValueDate = &d
	}
	for i, e := range it.History {
		v.History[i] = eventView{From: optional(string(e.From)), To: string(e.To), Codes: e.Codes, At: e.At.UTC()}
	}
	return v
}

// optional is a string that is null in JSON when empty.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// amountOf formats an amount that may be absent.
func amountOf(cur ledger.Currency, d decimal.NullDecimal) *string {
	if !d.Valid {
		return nil
	}
	s := cur.Format(d.Decimal)
	return &s
}

type batchView struct {
	ID            uuid.UUID       `json:"id"`
	Enterprise    string          `json:"enterprise"`
	Currency      ledger.Currency `json:"currency"`
	ValueDate     string          `json:"value_date"`
	Status        string          `json:"status"`
	ItemCount     int             `json:"item_count"`
	Gross         string          `json:"gross"`
	Fees          string          `json:"fees"`
	Net           string          `json:"net"`
	PayoutEntryID *uuid.UUID      `json:"payout_entry_id"`
	LastError     *string         `json:"last_error"`
	CreatedAt     time.Time       `json:"created_at"`
	ClosedAt      *time.Time      `json:"closed_at"`
	SettledAt     *time.Time      `json:"settled_at"`
}

func viewBatch(b settlement.Batch) batchView {
	return batchView{ID: b.ID, Enterprise: b.Enterprise, Currency: b.Currency, ValueDate: b.ValueDate.Format(time.DateOnly),
		Status: string(b.Status), ItemCount: b.ItemCount, Gross: b.Currency.Format(b.Gross), Fees: b.Currency.Format(b.Fees),
		Net: b.Currency.Format(b.Net), PayoutEntryID: b.PayoutEntryID, LastError: optional(b.LastError),
		CreatedAt: b.CreatedAt.UTC(), ClosedAt: utc(b.ClosedAt), SettledAt: utc(b.SettledAt)}
}
