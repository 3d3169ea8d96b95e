package risk

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"
)

// fetchSize is how many rows one FETCH of a cursor brings: large enough
// that a million chains take a hundred round trips, small enough that the
// client holds a few megabytes at most.
const fetchSize = 10_000

// featureWindow is how far back the features look: 12 window months.
const featureWindow = maxMonths * windowMonth

// chainFactsSQL lists a seller's chains placed in (asOf − 360 d, asOf]:
// its trade chains by order time, judged as they stood at as-of, with the
// verified ones' platform, countries, chapters and CNY amount (in units of
// 10^-5 CNY, an exact integer); then its chains that never verified, by
// when they were first seen. Compact on purpose: a million rows cross the
// wire, so times are microseconds and lists are comma-joined codes.
var chainFactsSQL = fmt.Sprintf(`
SELECT (extract(epoch FROM t.order_time) * 1000000)::bigint AS at_us, s.st,
	CASE WHEN s.st = 'v' THEN t.tenant_id END AS platform,
	CASE WHEN s.st = 'v' THEN array_to_string(t.countries, ',') END AS countries,
	CASE WHEN s.st = 'v' THEN array_to_string(t.hs_chapters, ',') END AS chapters,
	CASE WHEN s.st = 'v' THEN (%s * 100000)::bigint END AS units
FROM trade_chains t CROSS JOIN LATERAL (SELECT %s AS st) s
WHERE t.ebc_code = $1 AND t.order_time > $2 AND t.order_time <= $3
UNION ALL
SELECT (extract(epoch FROM c.created_at) * 1000000)::bigint, CASE c.status WHEN 'mismatched' THEN 'r' ELSE 'i' END,
	NULL, NULL, NULL, NULL
FROM clearance_chains c
WHERE c.ebc_code = $1 AND c.status IN ('incomplete', 'mismatched') AND c.created_at > $2 AND c.created_at <= $3
	AND NOT EXISTS (SELECT 1 FROM trade_chains t WHERE t.tenant_id = c.tenant_id AND t.order_no = c.order_no)`,
	chainCNYSQL, fmt.Sprintf(chainStatusAtSQL, "$3"))

// fundFactsSQL lists an enterprise's fund flows in the window: its
// settlement items whose ledger entry posted then, at their CNY side.
const fundFactsSQL = `
SELECT (extract(epoch FROM e.at) * 1000000)::bigint AS at_us, coalesce(i.direction, ''), (i.cny_amount * 100000)::bigint AS units
FROM settlement_items i
JOIN settlement_item_events e ON e.tenant_id = i.tenant_id AND e.item_id = i.id AND e.to_status = 'posted'
WHERE i.enterprise = $1 AND i.status IN ('posted', 'batched', 'settled') AND e.at > $2 AND e.at <= $3`

// factCounts are how many facts an assessment read.
type factCounts struct{ chains, funds int64 }

// features computes an enterprise's features as of asOf. The chains and
// fund flows are read in one read-only repeatable-read transaction (one
// snapshot), each through a server-side cursor fetched fetchSize rows at a
// time into the FeatureBuilder, so memory does not grow with the number of
// chains. Errors: ErrInputInvalid (the facts cannot be scored: a verified
// chain without a CNY amount, say), infrastructure errors.
func (s *Service) features(ctx context.Context, enterprise string, asOf time.Time) (Features, factCounts, error) {
	e, err := s.Enterprise(ctx, enterprise)
	if err != nil {
		return Features{}, factCounts{}, err
	}
	tx, err := s.db.BeginTxx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return Features{}, factCounts{}, fmt.Errorf("begin snapshot: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only
	subject := Subject{AsOf: asOf, RegisteredAt: e.Since()}
	cats, err := categoriesAt(ctx, tx, []string{enterprise}, asOf)
	if err != nil {
		return Features{}, factCounts{}, err
	}
	subject.FXCategory = cats[enterprise].Category
	if tc, ok, err := s.taxClassAt(ctx, tx, e, asOf); err != nil {
		return Features{}, factCounts{}, err
	} else if ok {
		subject.TaxClass = tc.Class
	}
	b, err := NewFeatureBuilder(subject)
	if err != nil {
		return Features{}, factCounts{}, err
	}
	from := asOf.Add(-featureWindow)
	var n factCounts
	var cs chainScanner
	if n.chains, err = streamCursor(ctx, tx, "risk_chain_facts", chainFactsSQL, []any{enterprise, from, asOf},
		func(rows *sql.Rows) error { return cs.scan(rows, b) }); err != nil {
		return Features{}, factCounts{}, fmt.Errorf("chains of %s: %w", enterprise, err)
	}
	if n.funds, err = streamCursor(ctx, tx, "risk_fund_facts", fundFactsSQL, []any{enterprise, from, asOf},
		func(rows *sql.Rows) error { return scanFund(rows, b) }); err != nil {
		return Features{}, factCounts{}, fmt.Errorf("fund flows of %s: %w", enterprise, err)
	}
	return b.Features(), n, nil
}

// streamCursor declares a cursor for query in tx and calls each for every
// row, fetching fetchSize rows per round trip. It returns the rows read.
func streamCursor(ctx context.Context, tx *sqlx.Tx, name, query string, args []any, each func(*sql.Rows) error) (int64, error) {
	if _, err := tx.ExecContext(ctx, `DECLARE `+name+` NO SCROLL CURSOR FOR `+query, args...); err != nil {
		return 0, fmt.Errorf("declare cursor: %w", err)
	}
	fetch := fmt.Sprintf(`FETCH FORWARD %d FROM %s`, fetchSize, name)
	var total int64
	for {
		rows, err := tx.QueryContext(ctx, fetch)
		if err != nil {
			return total, fmt.Errorf("fetch: %w", err)
		}
		n := 0
		for rows.Next() {
			n++
			if err := each(rows); err != nil {
				rows.Close()
				return total, err
			}
		}
		if err := rows.Close(); err != nil {
			return total, fmt.Errorf("fetch: %w", err)
		}
		if err := rows.Err(); err != nil {
			return total, fmt.Errorf("fetch: %w", err)
		}
		total += int64(n)
		if n < fetchSize {
			break
		}
	}
	if _, err := tx.ExecContext(ctx, `CLOSE `+name); err != nil {
		return total, fmt.Errorf("close cursor: %w", err)
	}
	return total, nil
}

// chainScanner turns chain rows into facts, reusing its buffers: a million
// rows must not mean millions of slices.
type chainScanner struct {
	at                  int64
	st                  string
	platform, cc, ch    sql.NullString
	units               sql.NullInt64
	countries, chapters []string
}

func (c *chainScanner) scan(rows *sql.Rows, b *FeatureBuilder) error {
	if err := rows.Scan(&c.at, &c.st, &c.platform, &c.cc, &c.ch, &c.units); err != nil {
		return fmt.Errorf("scan chain: %w", err)
	}
	f := ChainFact{At: time.UnixMicro(c.at), Status: statusOf(c.st[0])}
	if f.Status == ChainVerified {
		if !c.units.Valid {
			return ErrInputInvalid.With("a verified chain of %s has no CNY amount: load the FX rates of its currency", time.UnixMicro(c.at).UTC().Format(time.DateOnly))
		}
		c.countries, c.chapters = splitCodes(c.countries[:0], c.cc.String), splitCodes(c.chapters[:0], c.ch.String)
		f.Platform, f.Countries, f.HSChapters = c.platform.String, c.countries, c.chapters
		f.AmountCNY = decimal.New(c.units.Int64, -unitScale)
	}
	return b.AddChain(f)
}

// splitCodes appends the comma-separated codes of s to buf.
func splitCodes(buf []string, s string) []string {
	for s != "" {
		code, rest, _ := strings.Cut(s, ",")
		buf, s = append(buf, code), rest
	}
	return buf
}

func scanFund(rows *sql.Rows, b *FeatureBuilder) error {
	var at, units int64
	var dir string
	if err := rows.Scan(&at, &dir, &units); err != nil {
		return fmt.Errorf("scan fund flow: %w", err)
	}
	f := FundFact{At: time.UnixMicro(at), AmountCNY: decimal.New(units, -unitScale)}
	switch dir {
	case "export": // the seller received foreign buyers' money
		f.Direction = Receipt
	case "import": // buyers in China paid the seller abroad
		f.Direction = Payment
	default:
		return ErrInputInvalid.With("a settled item has no direction")
	}
	return b.AddFund(f)
}
