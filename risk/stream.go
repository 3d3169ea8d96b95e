package risk

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"sync"
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

// chainFactsSQL lists a seller's chains placed in ($2, $3] (a slice of the
// 360 days before as-of, $4): its trade chains by order time, judged as
// they stood at as-of, with their platform, countries, chapters and CNY
// amount (read for verified chains only); then its chains that never
// verified, by when they were first seen. A million rows cross the wire, so
// the server computes as little as it can: each expression appears once
// (wrapping the columns in CASEs on the status would evaluate the status
// once per column), lists and amounts come as PostgreSQL writes them and
// are parsed by the scanner, and times are whole microseconds since the
// epoch (date_part's double holds them exactly: below 2^53 µs, the rounding
// error is under 0.2 µs).
var chainFactsSQL = fmt.Sprintf(`
SELECT round(date_part('epoch', t.order_time) * 1000000)::bigint AS at_us, %s AS st,
	t.tenant_id AS platform, t.countries, t.hs_chapters AS chapters, %s AS cny
FROM trade_chains t
WHERE t.ebc_code = $1 AND t.order_time > $2 AND t.order_time <= $3
UNION ALL
SELECT round(date_part('epoch', c.created_at) * 1000000)::bigint, CASE c.status WHEN 'mismatched' THEN 'r' ELSE 'i' END,
	NULL, NULL, NULL, NULL
FROM clearance_chains c
WHERE c.ebc_code = $1 AND c.status IN ('incomplete', 'mismatched') AND c.created_at > $2 AND c.created_at <= $3
	AND NOT EXISTS (SELECT 1 FROM trade_chains t WHERE t.tenant_id = c.tenant_id AND t.order_no = c.order_no)`,
	fmt.Sprintf(chainStatusAtSQL, "$4"), chainCNYSQL)

// fundFactsSQL lists an enterprise's fund flows in the window: its
// settlement items whose ledger entry posted then, at their CNY side.
const fundFactsSQL = `
SELECT round(date_part('epoch', e.at) * 1000000)::bigint AS at_us, coalesce(i.direction, ''), i.cny_amount
FROM settlement_items i
JOIN settlement_item_events e ON e.tenant_id = i.tenant_id AND e.item_id = i.id AND e.to_status = 'posted'
WHERE i.enterprise = $1 AND i.status IN ('posted', 'batched', 'settled') AND e.at > $2 AND e.at <= $3`

// factCounts are how many facts an assessment read.
type factCounts struct{ chains, funds int64 }

// streamParts is how many slices of the window an assessment streams at
// once, each on its own connection into its own builder: PostgreSQL spends
// most of an assessment writing rows out, and with one stream it works
// while the scanner waits and the other way round. Two keep both cores of
// the target machine busy.
const streamParts = 2

// features computes an enterprise's features as of asOf. The window is cut
// into streamParts slices of time, read concurrently through server-side
// cursors (fetchSize rows per round trip, so memory does not grow with the
// number of chains) in read-only repeatable-read transactions that share
// one exported snapshot, each into its own FeatureBuilder; the builders
// are then merged, which is exact. The fund flows are read in the first
// slice's transaction. Errors: ErrInputInvalid (the facts cannot be scored:
// a verified chain without a CNY amount, say), infrastructure errors.
func (s *Service) features(ctx context.Context, enterprise string, asOf time.Time) (Features, factCounts, error) {
	e, err := s.Enterprise(ctx, enterprise)
	if err != nil {
		return Features{}, factCounts{}, err
	}
	txs, err := s.snapshot(ctx, streamParts)
	for _, tx := range txs {
		defer tx.Rollback() //nolint:errcheck // read-only
	}
	if err != nil {
		return Features{}, factCounts{}, err
	}
	subject, err := s.subject(ctx, txs[0], e, asOf)
	if err != nil {
		return Features{}, factCounts{}, err
	}
	bs := make([]*FeatureBuilder, streamParts)
	for i := range bs {
		if bs[i], err = NewFeatureBuilder(subject); err != nil {
			return Features{}, factCounts{}, err
		}
	}
	from := asOf.Add(-featureWindow)
	counts := make([]factCounts, streamParts)
	errs := make([]error, streamParts)
	var wg sync.WaitGroup
	for i := range streamParts {
		lo := from.Add(featureWindow * time.Duration(i) / streamParts)
		hi := from.Add(featureWindow * time.Duration(i+1) / streamParts)
		wg.Go(func() {
			counts[i], errs[i] = streamSlice(ctx, txs[i], fmt.Sprintf("risk_chains_%d", i), enterprise, lo, hi, asOf, bs[i], i == 0)
		})
	}
	wg.Wait()
	var n factCounts
	for i := range streamParts {
		if errs[i] != nil {
			return Features{}, factCounts{}, fmt.Errorf("facts of %s: %w", enterprise, errs[i])
		}
		if i > 0 {
			if err := bs[0].Merge(bs[i]); err != nil {
				return Features{}, factCounts{}, err
			}
		}
		n.chains, n.funds = n.chains+counts[i].chains, n.funds+counts[i].funds
	}
	return bs[0].Features(), n, nil
}

// snapshot opens n read-only repeatable-read transactions that see the
// same snapshot: the first exports it, the others import it.
func (s *Service) snapshot(ctx context.Context, n int) ([]*sqlx.Tx, error) {
	var txs []*sqlx.Tx
	var id string
	for i := range n {
		tx, err := s.db.BeginTxx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
		if err != nil {
			return txs, fmt.Errorf("begin snapshot: %w", err)
		}
		txs = append(txs, tx)
		if i == 0 {
			err = tx.GetContext(ctx, &id, `SELECT pg_export_snapshot()`)
		} else {
			_, err = tx.ExecContext(ctx, `SET TRANSACTION SNAPSHOT '`+id+`'`) // a server-made id, not input
		}
		if err != nil {
			return txs, fmt.Errorf("share snapshot: %w", err)
		}
		// The planner prices the lazy rate lookups as if every chain made
		// them and would JIT-compile the query for a few hundred ms.
		if _, err := tx.ExecContext(ctx, `SET LOCAL jit = off`); err != nil {
			return txs, fmt.Errorf("snapshot settings: %w", err)
		}
	}
	return txs, nil
}

// subject is what the features say of the enterprise beyond its facts: its
// registration, and the FX category and tax class in effect at asOf.
func (s *Service) subject(ctx context.Context, q querier, e Enterprise, asOf time.Time) (Subject, error) {
	subject := Subject{AsOf: asOf, RegisteredAt: e.Since()}
	cats, err := categoriesAt(ctx, q, []string{e.CustomsCode}, asOf)
	if err != nil {
		return Subject{}, err
	}
	subject.FXCategory = cats[e.CustomsCode].Category
	tc, ok, err := s.taxClassAt(ctx, q, e, asOf)
	if err != nil {
		return Subject{}, err
	}
	if ok {
		subject.TaxClass = tc.Class
	}
	return subject, nil
}

// streamSlice streams the chains placed in (lo, hi] into b, and with funds
// the fund flows of the whole window.
func streamSlice(ctx context.Context, tx *sqlx.Tx, cursor, enterprise string, lo, hi, asOf time.Time, b *FeatureBuilder, funds bool) (factCounts, error) {
	var n factCounts
	var cs chainScanner
	var err error
	if n.chains, err = streamCursor(ctx, tx, cursor, chainFactsSQL, []any{enterprise, lo, hi, asOf},
		func(rows *sql.Rows) error { return cs.scan(rows, b) }); err != nil {
		return n, fmt.Errorf("chains: %w", err)
	}
	if funds {
		if n.funds, err = streamCursor(ctx, tx, cursor+"_funds", fundFactsSQL, []any{enterprise, asOf.Add(-featureWindow), asOf},
			func(rows *sql.Rows) error { return scanFund(rows, b) }); err != nil {
			return n, fmt.Errorf("fund flows: %w", err)
		}
	}
	return n, nil
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

// chainScanner turns chain rows into facts, reusing its buffers and
// interning platforms, countries and chapters: a million rows must not mean
// millions of slices and strings.
type chainScanner struct {
	at                  int64
	st                  string
	platform            sql.NullString
	cc, ch, cny         sql.RawBytes
	countries, chapters []string
	names               map[string]string
}

func (c *chainScanner) scan(rows *sql.Rows, b *FeatureBuilder) error {
	if err := rows.Scan(&c.at, &c.st, &c.platform, &c.cc, &c.ch, &c.cny); err != nil {
		return fmt.Errorf("scan chain: %w", err)
	}
	f := ChainFact{At: time.UnixMicro(c.at), Status: statusOf(c.st[0])}
	if f.Status == ChainVerified {
		if c.cny == nil {
			return ErrInputInvalid.With("a verified chain of %s has no CNY amount: load the FX rates of its currency", f.At.UTC().Format(time.DateOnly))
		}
		units, err := parseUnits(c.cny)
		if err != nil {
			return err
		}
		if c.names == nil {
			c.names = map[string]string{}
		}
		c.countries, c.chapters = c.splitArray(c.countries[:0], c.cc), c.splitArray(c.chapters[:0], c.ch)
		f.Platform, f.Countries, f.HSChapters = c.platform.String, c.countries, c.chapters
		return b.addChainUnits(f, units)
	}
	return b.AddChain(f)
}

// splitArray appends the elements of a PostgreSQL text[] literal of codes
// ({US,DE}) to buf, interned. Codes never need quoting; a quoted element
// is unquoted all the same.
func (c *chainScanner) splitArray(buf []string, raw []byte) []string {
	if len(raw) < 2 || raw[0] != '{' || raw[len(raw)-1] != '}' {
		return buf
	}
	for rest := raw[1 : len(raw)-1]; len(rest) > 0; {
		elem := rest
		if i := bytes.IndexByte(rest, ','); i >= 0 {
			elem, rest = rest[:i], rest[i+1:]
		} else {
			rest = nil
		}
		elem = bytes.Trim(elem, `"`)
		if len(elem) == 0 {
			continue
		}
		name, ok := c.names[string(elem)] // no allocation for a name seen before
		if !ok {
			name = string(elem)
			c.names[name] = name
		}
		buf = append(buf, name)
	}
	return buf
}

// parseUnits reads a non-negative numeric as PostgreSQL writes it
// ("1234.50000") into units of 10^-unitScale, exactly; more decimals than
// that, or a malformed number, is ErrInputInvalid.
func parseUnits(raw []byte) (int64, error) {
	if len(raw) == 0 {
		return 0, ErrInputInvalid.With("an empty amount")
	}
	var units int64
	decimals := -1
	for _, ch := range raw {
		switch {
		case ch == '.' && decimals < 0:
			decimals = 0
		case ch >= '0' && ch <= '9' && decimals < unitScale && units < maxUnits/10:
			units = units*10 + int64(ch-'0')
			if decimals >= 0 {
				decimals++
			}
		case ch == '0' && decimals >= unitScale: // trailing zeros past the scale
		default:
			return 0, ErrInputInvalid.With("amount %q is not a CNY amount of at most %d decimals", raw, unitScale)
		}
	}
	for decimals = max(decimals, 0); decimals < unitScale; decimals++ {
		if units >= maxUnits/10 {
			return 0, ErrInputInvalid.With("amount %q is not below %s", raw, MaxAmountCNY)
		}
		units *= 10
	}
	return units, nil
}

func scanFund(rows *sql.Rows, b *FeatureBuilder) error {
	var at int64
	var dir string
	var amount sql.RawBytes
	if err := rows.Scan(&at, &dir, &amount); err != nil {
		return fmt.Errorf("scan fund flow: %w", err)
	}
	units, err := parseUnits(amount)
	if err != nil {
		return err
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
