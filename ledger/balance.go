package ledger

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
)

// BalanceReport is an account's balance at an instant.
type BalanceReport struct {
	Account Account
	Balance Balance
	AsOf    time.Time
}

// balanceAsOfSQL sums an account's postings up to an instant. The covering
// index postings_account_time makes it an index-only scan of that account.
const balanceAsOfSQL = `
SELECT
	coalesce(sum(amount) FILTER (WHERE phase = 'posted' AND direction = 'debit'), 0) AS posted_debits,
	coalesce(sum(amount) FILTER (WHERE phase = 'posted' AND direction = 'credit'), 0) AS posted_credits,
	coalesce(sum(CASE WHEN phase = 'pending' THEN amount WHEN phase = 'release' THEN -amount END) FILTER (WHERE direction = 'debit'), 0) AS pending_debits,
	coalesce(sum(CASE WHEN phase = 'pending' THEN amount WHEN phase = 'release' THEN -amount END) FILTER (WHERE direction = 'credit'), 0) AS pending_credits
FROM postings WHERE account_id = $1 AND tenant_id = $2 AND effective_at <= $3`

// Balance returns an account's balance now (asOf zero or not in the past)
// or as of a past instant, by the postings' effective time. Errors:
// ErrAccountNotFound.
func (s *Service) Balance(ctx context.Context, tenant string, id uuid.UUID, asOf time.Time) (BalanceReport, error) {
	a, err := getAccount(ctx, s.db, tenant, id)
	if err != nil {
		return BalanceReport{}, err
	}
	now := s.clock()
	if asOf.IsZero() || !asOf.Before(now) {
		return BalanceReport{Account: a, Balance: a.Balance, AsOf: now}, nil
	}
	r := BalanceReport{Account: a, AsOf: asOf.UTC()}
	if err := s.db.GetContext(ctx, &r.Balance, balanceAsOfSQL, id, tenant, asOf); err != nil {
		return r, fmt.Errorf("balance of %s as of %s: %w", id, asOf, err)
	}
	return r, nil
}

// PostingLine is one posting as seen from its account.
type PostingLine struct {
	EntryID     uuid.UUID       `db:"entry_id"`
	Index       int             `db:"idx"`
	Direction   Direction       `db:"direction"`
	Phase       Phase           `db:"phase"`
	Amount      decimal.Decimal `db:"amount"`
	Currency    Currency        `db:"currency"`
	EffectiveAt time.Time       `db:"effective_at"`
}

// Postings pages through an account's postings in effective order. cursor is
// the next value of an earlier page, or empty for the first.
// Errors: ErrAccountNotFound, ErrBadCursor.
func (s *Service) Postings(ctx context.Context, tenant string, id uuid.UUID, cursor string, limit int) ([]PostingLine, string, error) {
	if _, err := getAccount(ctx, s.db, tenant, id); err != nil {
		return nil, "", err
	}
	after, afterEntry, afterIdx, err := decodeCursor(cursor)
	if err != nil {
		return nil, "", err
	}
	var lines []PostingLine
	err = s.db.SelectContext(ctx, &lines, `SELECT entry_id, idx, direction, phase, amount, currency, effective_at
		FROM postings WHERE tenant_id = $1 AND account_id = $2 AND (effective_at, entry_id, idx) > ($3, $4, $5)
		ORDER BY effective_at, entry_id, idx LIMIT $6`, tenant, id, after, afterEntry, afterIdx, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("postings of %s: %w", id, err)
	}
	next := ""
	if len(lines) > limit { // one more than asked: there is a next page
		lines = lines[:limit]
		last := lines[len(lines)-1]
		next = base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "%s|%s|%d", last.EffectiveAt.UTC().Format(time.RFC3339Nano), last.EntryID, last.Index))
	}
	return lines, next, nil
}

func decodeCursor(c string) (time.Time, uuid.UUID, int, error) {
	if c == "" {
		return time.Time{}, uuid.Nil, -1, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(c)
	parts := strings.Split(string(raw), "|")
	if err != nil || len(parts) != 3 {
		return time.Time{}, uuid.Nil, 0, ErrBadCursor
	}
	t, err1 := time.Parse(time.RFC3339Nano, parts[0])
	id, err2 := uuid.Parse(parts[1])
	var idx int
	_, err3 := fmt.Sscan(parts[2], &idx)
	if err1 != nil || err2 != nil || err3 != nil {
		return time.Time{}, uuid.Nil, 0, ErrBadCursor
	}
	return t, id, idx, nil
}
