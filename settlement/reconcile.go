package settlement

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/lib/pq"
	"github.com/shopspring/decimal"

	"github.com/xbsettle/xbsettle/internal/apperr"
	"github.com/xbsettle/xbsettle/ledger"
)

// Bounds of a reconciliation.
const (
	MaxStatementLines = 10_000 // lines of one bank statement
	maxLedgerLines    = 50_000 // reserve postings in the statement's dates
	maxReferenceLen   = 255    // an entry's idempotency key is at most this long
)

// The bank's directions, as the statement prints them: from the bank
// account's side, a credit is money in and a debit money out. The reserve
// is an asset in the ledger, so a bank credit is a ledger debit of it.
const (
	BankCredit = "credit"
	BankDebit  = "debit"
)

// Reasons a statement line is unmatched.
const (
	ReasonNoEntry          = "NO_ENTRY"          // no ledger entry of that reference posts to the reserve
	ReasonAmountDiffers    = "AMOUNT_DIFFERS"    // the entry's reserve posting has another amount
	ReasonDirectionDiffers = "DIRECTION_DIFFERS" // money in on one side, out on the other
	ReasonAlreadyMatched   = "ALREADY_MATCHED"   // an earlier line of the statement matched that posting
)

// BankLine is one line of a bank statement of a reserve account.
type BankLine struct {
	Line        int // in the file; the header is line 1
	Date        time.Time
	Reference   string // the entry's idempotency key or id, as the institution sent it to the bank
	Amount      decimal.Decimal
	Direction   string // BankCredit or BankDebit
	Description string
}

// bankColumns are the columns a statement must have; others are ignored.
var bankColumns = []string{"date", "reference", "amount", "direction"}

// ParseBankStatement reads a bank statement CSV of a reserve account in cur:
// a header naming at least the columns date (YYYY-MM-DD), reference, amount
// (a positive decimal with cur's minor units) and direction (credit or
// debit), in any order, then one line per movement. Every bad line is
// reported. Errors: VALIDATION_FAILED (fields lines[n].column, n the line
// in the file), ErrStatementTooLarge.
func ParseBankStatement(r io.Reader, cur ledger.Currency) ([]BankLine, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, apperr.Invalid([]apperr.FieldError{{Field: "statement", Code: FieldRequired, Message: "the statement is empty"}})
	}
	if err != nil {
		return nil, csvError(err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	var bad []apperr.FieldError
	for _, c := range bankColumns {
		if _, ok := col[c]; !ok {
			bad = append(bad, apperr.FieldError{Field: "header." + c, Code: FieldRequired, Message: "the header has no " + c + " column"})
		}
	}
	if len(bad) > 0 {
		return nil, apperr.Invalid(bad)
	}
	var lines []BankLine
	for n := 2; ; n++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, csvError(err)
		}
		if len(lines) == MaxStatementLines {
			return nil, ErrStatementTooLarge.With("a statement has at most %d lines", MaxStatementLines)
		}
		l, fe := parseBankLine(n, rec, col, cur)
		bad = append(bad, fe...)
		lines = append(lines, l)
	}
	if len(bad) > 0 {
		return nil, apperr.Invalid(bad)
	}
	return lines, nil
}

// parseBankLine reads one record, listing what is wrong with it.
func parseBankLine(n int, rec []string, col map[string]int, cur ledger.Currency) (BankLine, []apperr.FieldError) {
	var bad []apperr.FieldError
	at := func(field, code, msg string) {
		bad = append(bad, apperr.FieldError{Field: fmt.Sprintf("lines[%d].%s", n, field), Code: code, Message: msg})
	}
	get := func(c string) string {
		if i, ok := col[c]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	l := BankLine{Line: n, Reference: get("reference"), Direction: strings.ToLower(get("direction")), Description: get("description")}
	var err error
	if l.Date, err = time.Parse(dateLayout, get("date")); err != nil {
		at("date", "DATE_INVALID", "want YYYY-MM-DD")
	}
	switch {
	case l.Reference == "":
		at("reference", FieldRequired, "the reference names the entry: its idempotency key or id")
	case len(l.Reference) > maxReferenceLen:
		at("reference", FieldTooLong, fmt.Sprintf("at most %d bytes", maxReferenceLen))
	}
	if l.Amount, err = ledger.ParseAmount(get("amount")); err != nil {
		at("amount", "AMOUNT_INVALID", `want a positive plain decimal such as "10.50"`)
	} else if ledger.CheckMinorUnits(l.Amount, cur) != nil {
		at("amount", "AMOUNT_PRECISION", fmt.Sprintf("%s allows %d decimals", cur, cur.MinorUnits()))
	}
	if l.Direction != BankCredit && l.Direction != BankDebit {
		at("direction", "DIRECTION_INVALID", "want credit (money in) or debit (money out)")
	}
	return l, bad
}

func csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return apperr.Invalid([]apperr.FieldError{{Field: fmt.Sprintf("lines[%d]", pe.Line), Code: "CSV_INVALID", Message: pe.Err.Error()}})
	}
	return fmt.Errorf("read statement: %w", err)
}

// LedgerLine is one posting to the reserve account, with its entry.
type LedgerLine struct {
	EntryID        uuid.UUID        `db:"entry_id"`
	Index          int              `db:"idx"`
	IdempotencyKey string           `db:"idempotency_key"`
	Direction      ledger.Direction `db:"direction"`
	Amount         decimal.Decimal  `db:"amount"`
	EffectiveAt    time.Time        `db:"effective_at"`
}

// Match is a statement line and the ledger posting it matched.
type Match struct {
	Line   BankLine
	Ledger LedgerLine
}

// UnmatchedLine is a statement line that matched nothing, with why and,
// when a posting of its reference exists, that posting.
type UnmatchedLine struct {
	Line   BankLine
	Reason string
	Ledger *LedgerLine
}

// Reconciliation is the outcome of matching a statement against the
// reserve account.
type Reconciliation struct {
	AccountID          uuid.UUID // uuid.Nil when the tenant has no reserve in the currency
	AccountCode        string
	Currency           ledger.Currency
	From, To           time.Time // the statement's first and last dates
	Matched            []Match
	UnmatchedStatement []UnmatchedLine
	UnmatchedLedger    []LedgerLine // reserve postings in the statement's dates that no line matched
}

const ledgerLineColumns = `p.entry_id, p.idx, e.idempotency_key, p.direction, p.amount, p.effective_at`

// Reconcile matches a bank statement of the tenant's reserve account in
// cur against the ledger. A line matches a posting to the reserve whose
// entry's idempotency key or id is the line's reference, with the same
// amount and the corresponding direction; each posting matches one line at
// most. Postings are looked up by reference whatever their date, since a
// bank may book a day later; the ledger side of "unmatched" is the reserve
// postings effective on the statement's dates (Beijing time) that no line
// matched. Nothing is stored. Errors: ErrReconcileWindow.
//
// The ledger's tables are read directly, read-only: the ledger offers no
// lookup of entries by key nor of postings by time range yet.
func (s *Service) Reconcile(ctx context.Context, tenant string, cur ledger.Currency, lines []BankLine) (Reconciliation, error) {
	ref := AccountOf(Reserve, cur)
	rec := Reconciliation{AccountCode: ref.Code(), Currency: cur}
	if len(lines) == 0 {
		return rec, nil
	}
	rec.From, rec.To = lines[0].Date, lines[0].Date
	for _, l := range lines {
		if l.Date.Before(rec.From) {
			rec.From = l.Date
		}
		if l.Date.After(rec.To) {
			rec.To = l.Date
		}
	}
	accts, err := s.ledger.Accounts(ctx, tenant, ref.Code(), uuid.Nil, 1)
	if err != nil {
		return rec, err
	}
	if len(accts) == 0 {
		for _, l := range lines {
			rec.UnmatchedStatement = append(rec.UnmatchedStatement, UnmatchedLine{Line: l, Reason: ReasonNoEntry})
		}
		return rec, nil
	}
	rec.AccountID = accts[0].ID
	byRef, err := s.postingsByReference(ctx, tenant, rec.AccountID, lines)
	if err != nil {
		return rec, err
	}
	var window []LedgerLine
	from := time.Date(rec.From.Year(), rec.From.Month(), rec.From.Day(), 0, 0, 0, 0, beijing)
	to := time.Date(rec.To.Year(), rec.To.Month(), rec.To.Day()+1, 0, 0, 0, 0, beijing)
	if err := s.db.SelectContext(ctx, &window, `SELECT `+ledgerLineColumns+` FROM postings p
		JOIN entries e ON e.tenant_id = p.tenant_id AND e.id = p.entry_id
		WHERE p.tenant_id = $1 AND p.account_id = $2 AND p.phase = 'posted' AND p.effective_at >= $3 AND p.effective_at < $4
		ORDER BY p.effective_at, p.entry_id, p.idx LIMIT $5`, tenant, rec.AccountID, from, to, maxLedgerLines+1); err != nil {
		return rec, fmt.Errorf("reserve postings from %s to %s: %w", from, to, err)
	}
	if len(window) > maxLedgerLines {
		return rec, ErrReconcileWindow.With("the reserve has more than %d postings from %s to %s; send shorter statements",
			maxLedgerLines, rec.From.Format(dateLayout), rec.To.Format(dateLayout))
	}
	used := map[[2]any]bool{}
	for _, l := range lines {
		m, un := matchLine(l, byRef[l.Reference], used)
		if m != nil {
			rec.Matched = append(rec.Matched, *m)
		} else {
			rec.UnmatchedStatement = append(rec.UnmatchedStatement, un)
		}
	}
	for _, p := range window {
		if !used[[2]any{p.EntryID, p.Index}] {
			rec.UnmatchedLedger = append(rec.UnmatchedLedger, p)
		}
	}
	return rec, nil
}

// postingsByReference finds the reserve postings of the entries the lines
// name, by idempotency key or id, keyed by the reference as written.
func (s *Service) postingsByReference(ctx context.Context, tenant string, account uuid.UUID, lines []BankLine) (map[string][]LedgerLine, error) {
	var keys []string
	var ids []uuid.UUID
	for _, l := range lines {
		keys = append(keys, l.Reference)
		if id, err := uuid.Parse(l.Reference); err == nil {
			ids = append(ids, id)
		}
	}
	var found []LedgerLine
	if err := s.db.SelectContext(ctx, &found, `SELECT `+ledgerLineColumns+` FROM entries e
		JOIN postings p ON p.tenant_id = e.tenant_id AND p.entry_id = e.id
		WHERE e.tenant_id = $1 AND p.account_id = $2 AND p.phase = 'posted'
			AND e.id IN (SELECT id FROM entries WHERE tenant_id = $1 AND idempotency_key = ANY($3)
				UNION SELECT id FROM entries WHERE tenant_id = $1 AND id = ANY($4))
		ORDER BY p.effective_at, p.entry_id, p.idx`, tenant, account, pq.Array(keys), pq.Array(ids)); err != nil {
		return nil, fmt.Errorf("postings of %d references: %w", len(lines), err)
	}
	out := map[string][]LedgerLine{}
	for _, p := range found {
		out[p.IdempotencyKey] = append(out[p.IdempotencyKey], p)
		out[p.EntryID.String()] = append(out[p.EntryID.String()], p)
	}
	return out, nil
}

// matchLine matches one statement line against the postings of its
// reference, marking what it takes in used.
func matchLine(l BankLine, candidates []LedgerLine, used map[[2]any]bool) (*Match, UnmatchedLine) {
	want := ledger.Debit // money into the bank account is a debit of the reserve
	if l.Direction == BankDebit {
		want = ledger.Credit
	}
	un := UnmatchedLine{Line: l, Reason: ReasonNoEntry}
	for i := range candidates {
		p := candidates[i]
		key := [2]any{p.EntryID, p.Index}
		switch {
		case used[key]:
			if un.Reason == ReasonNoEntry {
				un.Reason, un.Ledger = ReasonAlreadyMatched, &p
			}
		case p.Direction != want:
			un.Reason, un.Ledger = ReasonDirectionDiffers, &p
		case !p.Amount.Equal(l.Amount):
			un.Reason, un.Ledger = ReasonAmountDiffers, &p
		default:
			used[key] = true
			return &Match{Line: l, Ledger: p}, UnmatchedLine{}
		}
	}
	return nil, un
}
