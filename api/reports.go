package api

import (
	"encoding/csv"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/xbsettle/xbsettle/ledger"
	"github.com/xbsettle/xbsettle/settlement"
)

// Limits of the report and reconciliation routes.
const (
	maxStatementBody = 2 << 20 // a bank statement of settlement.MaxStatementLines lines fits
	reportCSVPage    = 1000    // items read per round trip while a CSV report streams
)

// bureauScoped is tenantScoped for routes the FX bureau reads too: an
// fx_bureau key has no tenant of its own and names the institution whose
// reports it reads with X-Tenant-ID, as an admin does. Everyone else goes
// through tenantScoped unchanged.
func bureauScoped(next echo.HandlerFunc) echo.HandlerFunc {
	scoped := tenantScoped(next)
	return func(c echo.Context) error {
		p := principal(c)
		named := c.Request().Header.Get(headerTenant)
		if p.Role != RoleFXBureau || !validTenant(named) {
			return scoped(c) // for the bureau: TENANT_REQUIRED or TENANT_INVALID
		}
		c.Set(ctxActor, ledger.Actor{Tenant: named, By: p.KeyID.String()})
		return next(c)
	}
}

// reportParams reads a report's required ?date= and its format:
// ?format=csv|json, else the Accept header (text/csv), else JSON.
func reportParams(c echo.Context) (date time.Time, asCSV bool, err error) {
	var f fields
	date = parseDate(c.QueryParam("date"), "date", &f)
	switch c.QueryParam("format") {
	case "csv":
		asCSV = true
	case "json":
	case "":
		asCSV = strings.Contains(c.Request().Header.Get(echo.HeaderAccept), "text/csv")
	default:
		f.add("format", "FORMAT_INVALID", "want csv or json")
	}
	return date, asCSV, f.err()
}

// startCSV sends the headers of a CSV download and its header row.
func startCSV(c echo.Context, name string, header []string) safeCSV {
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	h.Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename=%q`, name))
	c.Response().WriteHeader(http.StatusOK)
	w := safeCSV{csv.NewWriter(c.Response())}
	_ = w.Write(header)
	return w
}

// safeCSV writes CSV with every cell through safeCell: every CSV the API
// writes goes through it.
type safeCSV struct{ *csv.Writer }

func (w safeCSV) Write(record []string) error {
	out := make([]string, len(record))
	for i, cell := range record {
		out[i] = safeCell(cell)
	}
	return w.Writer.Write(out)
}

func (w safeCSV) WriteAll(records [][]string) error {
	for _, r := range records {
		if err := w.Write(r); err != nil {
			return err
		}
	}
	w.Flush()
	return w.Error()
}

// safeCell neutralises a cell a spreadsheet would run as a formula: one
// that starts with = + - @, a tab or a carriage return gets a leading
// single quote (OWASP, "CSV Injection"). A plain number such as -12.50 is
// left as it is: a spreadsheet reads it as a number, never a formula, and
// amounts must stay numbers.
func safeCell(s string) string {
	if s == "" || !strings.ContainsRune("=+-@\t\r", rune(s[0])) || plainNumber(s) {
		return s
	}
	return "'" + s
}

// plainNumber reports whether s is -?digits[.digits].
func plainNumber(s string) bool {
	whole, frac, dot := strings.Cut(strings.TrimPrefix(s, "-"), ".")
	return allDigits(whole) && (!dot || allDigits(frac))
}

// allDigits reports whether s is one or more ASCII digits.
func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// transactionReport: GET /v1/reports/transactions?date=. The 逐笔 report: one
// line per payment with that value date. JSON pages (?limit=&cursor=); CSV
// streams the whole day.
func (s *Server) transactionReport(c echo.Context) error {
	date, asCSV, err := reportParams(c)
	if err != nil {
		return err
	}
	limit, cursor, err := page(c)
	if err != nil {
		return err
	}
	after, err := parseCursor(cursor)
	if err != nil {
		return err
	}
	ctx, a := c.Request().Context(), actor(c)
	if asCSV {
		return s.streamTransactionCSV(c, a.Tenant, date)
	}
	items, err := s.settle.TransactionReport(ctx, a.Tenant, date, after, limit+1)
	if err != nil {
		return err
	}
	next := ""
	if len(items) > limit {
		items = items[:limit]
		next = items[limit-1].ID.String()
	}
	lines := make([]map[string]*string, len(items))
	for i := range items {
		lines[i] = reportLine(items[i].Record(a.Tenant))
	}
	out := newList(lines, next)
	return c.JSON(http.StatusOK, map[string]any{"date": date.Format(time.DateOnly), "columns": settlement.ReportColumns,
		"data": out.Data, "next_cursor": out.NextCursor})
}

// reportLine is a record as a JSON object keyed by the report's columns,
// null where the figure does not apply.
func reportLine(rec []string) map[string]*string {
	m := make(map[string]*string, len(rec))
	for i, col := range settlement.ReportColumns {
		m[col] = optional(rec[i])
	}
	return m
}

// streamTransactionCSV writes the day's report page by page, so a day of
// any size streams in bounded memory. Once the first byte is out an error
// can only cut the file short; it is logged.
func (s *Server) streamTransactionCSV(c echo.Context, tenant string, date time.Time) error {
	ctx := c.Request().Context()
	first, err := s.settle.TransactionReport(ctx, tenant, date, uuid.Nil, reportCSVPage)
	if err != nil {
		return err
	}
	w := startCSV(c, fmt.Sprintf("transactions-%s-%s.csv", tenant, date.Format(time.DateOnly)), settlement.ReportColumns)
	for items := first; len(items) > 0; {
		for i := range items {
			_ = w.Write(items[i].Record(tenant))
		}
		if len(items) < reportCSVPage {
			break
		}
		if items, err = s.settle.TransactionReport(ctx, tenant, date, items[len(items)-1].ID, reportCSVPage); err != nil {
			s.log.ErrorContext(ctx, "transaction report cut short", "err", err)
			break
		}
	}
	w.Flush()
	return w.Error()
}

// dailyStatement: GET /v1/reports/statement?date=. The institution's
// statement of a value date: batches, totals, end-of-day balances.
func (s *Server) dailyStatement(c echo.Context) error {
	date, asCSV, err := reportParams(c)
	if err != nil {
		return err
	}
	st, err := s.settle.DailyStatement(c.Request().Context(), actor(c).Tenant, date)
	if err != nil {
		return err
	}
	if asCSV {
		w := startCSV(c, fmt.Sprintf("statement-%s-%s.csv", st.TenantID, date.Format(time.DateOnly)), settlement.StatementColumns)
		_ = w.WriteAll(st.Records())
		return w.Error()
	}
	totals := make([]map[string]any, len(st.Totals))
	for i, t := range st.Totals {
		totals[i] = map[string]any{"currency": t.Currency, "collected": t.Currency.Format(t.Collected), "items": t.Items,
			"gross": t.Currency.Format(t.Gross), "fees": t.Currency.Format(t.Fees), "net": t.Currency.Format(t.Net)}
	}
	balances := make([]map[string]any, len(st.Balances))
	for i, b := range st.Balances {
		balances[i] = map[string]any{"code": b.Code, "currency": b.Currency, "posted": b.Currency.Format(b.Posted)}
	}
	return c.JSON(http.StatusOK, map[string]any{"tenant_id": st.TenantID, "date": st.Date.Format(time.DateOnly),
		"as_of": st.AsOf, "batches": viewAll(st.Batches, viewBatch), "totals": totals,
		"spread_cny": settlement.CNY.Format(st.SpreadCNY), "balances": balances})
}

// reconcile: POST /v1/reconciliations?currency=, with a bank statement of
// the tenant's reserve account in that currency as text/csv.
func (s *Server) reconcile(c echo.Context) error {
	var f fields
	cur := parseCurrency(c.QueryParam("currency"), "currency", &f)
	if c.QueryParam("currency") == "" {
		f.add("currency", "REQUIRED", "name the reserve account's currency, such as CNY")
	}
	if err := f.err(); err != nil {
		return err
	}
	if mt, _, err := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType)); err != nil || mt != "text/csv" {
		return errUnsupportedMedia.With("send the bank statement as Content-Type: text/csv")
	}
	body := http.MaxBytesReader(c.Response(), c.Request().Body, maxStatementBody)
	lines, err := settlement.ParseBankStatement(body, cur)
	if err != nil {
		return err
	}
	// Read what the CSV reader left, so an oversized body is refused
	// rather than cut short.
	if _, err := io.Copy(io.Discard, body); err != nil {
		return errBodyTooLarge.With("the statement exceeds %d bytes", maxStatementBody)
	}
	rec, err := s.settle.Reconcile(c.Request().Context(), actor(c).Tenant, cur, lines)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, viewReconciliation(rec))
}

type bankLineView struct {
	Line      int    `json:"line"`
	Date      string `json:"date"`
	Reference string `json:"reference"`
	Amount    string `json:"amount"`
	Direction string `json:"direction"`
}

type ledgerLineView struct {
	EntryID        uuid.UUID `json:"entry_id"`
	IdempotencyKey string    `json:"idempotency_key"`
	Direction      string    `json:"direction"`
	Amount         string    `json:"amount"`
	EffectiveAt    time.Time `json:"effective_at"`
}

func viewReconciliation(r settlement.Reconciliation) map[string]any {
	bank := func(l settlement.BankLine) bankLineView {
		return bankLineView{Line: l.Line, Date: l.Date.Format(time.DateOnly), Reference: l.Reference,
			Amount: r.Currency.Format(l.Amount), Direction: l.Direction}
	}
	led := func(p settlement.LedgerLine) ledgerLineView {
		return ledgerLineView{EntryID: p.EntryID, IdempotencyKey: p.IdempotencyKey, Direction: string(p.Direction),
			Amount: r.Currency.Format(p.Amount), EffectiveAt: p.EffectiveAt.UTC()}
	}
	matched := make([]map[string]any, len(r.Matched))
	for i, m := range r.Matched {
		matched[i] = map[string]any{"statement": bank(m.Line), "ledger": led(m.Ledger)}
	}
	unmatched := make([]map[string]any, len(r.UnmatchedStatement))
	for i, u := range r.UnmatchedStatement {
		v := map[string]any{"statement": bank(u.Line), "reason": u.Reason, "ledger": nil}
		if u.Ledger != nil {
			v["ledger"] = led(*u.Ledger)
		}
		unmatched[i] = v
	}
	var account *uuid.UUID
	if r.AccountID != uuid.Nil {
		account = &r.AccountID
	}
	return map[string]any{"account_id": account, "account_code": r.AccountCode, "currency": r.Currency,
		"from": dateOrNil(r.From), "to": dateOrNil(r.To),
		"summary": map[string]int{"matched": len(r.Matched), "unmatched_statement": len(r.UnmatchedStatement),
			"unmatched_ledger": len(r.UnmatchedLedger)},
		"matched": matched, "unmatched_statement": unmatched, "unmatched_ledger": viewAll(r.UnmatchedLedger, led)}
}

func dateOrNil(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.Format(time.DateOnly)
	return &s
}
