// Package risktest writes the rows risk reads — trade chains, chains that
// never verified, settled fund flows — straight into PostgreSQL, for tests
// and benchmarks that need an enterprise's record without pushing every
// customs document through clearance. The rows are what clearance and
// settlement write (same columns, same meanings), so the risk service
// reads them exactly as it reads real ones.
package risktest

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/xbsettle/xbsettle/risk"
)

// Platform is the platform (ebpCode) of chains whose fact names none.
const Platform = "4403960001"

// InsertChains writes facts as the chains of seller, of direction import
// or export. Verified, cancelled
// and returned chains become trade_chains rows (the latter two unverified
// with reason CANCELLED or RETURNED, as clearance marks them); rejected and
// incomplete chains become clearance_chains rows that never verified
// (mismatched, incomplete), first seen at the fact's time. Amounts are CNY;
// order numbers are prefix + index, unique per platform.
func InsertChains(ctx context.Context, db *sqlx.DB, seller, prefix, direction string, facts []risk.ChainFact) error {
	var tp, to, ts, treason, tcc, thc, tamt []string
	var tat, tver, tunver []time.Time
	var cp, co, cst []string
	var cat []time.Time
	for i, f := range facts {
		platform := f.Platform
		if platform == "" {
			platform = Platform
		}
		order := fmt.Sprintf("%s%07d", prefix, i)
		switch f.Status {
		case risk.ChainRejected, risk.ChainIncomplete:
			st := "incomplete"
			if f.Status == risk.ChainRejected {
				st = "mismatched"
			}
			cp, co, cst, cat = append(cp, platform), append(co, order), append(cst, st), append(cat, f.At)
			continue
		}
		status, reason, unver := "verified", "", time.Time{}
		switch f.Status {
		case risk.ChainCancelled:
			status, reason, unver = "unverified", "CANCELLED", f.At.Add(2*time.Hour)
		case risk.ChainReturned:
			status, reason, unver = "unverified", "RETURNED", f.At.Add(2*time.Hour)
		}
		tp, to, ts, treason = append(tp, platform), append(to, order), append(ts, status), append(treason, reason)
		tcc, thc = append(tcc, strings.Join(f.Countries, ",")), append(thc, strings.Join(f.HSChapters, ","))
		tamt = append(tamt, f.AmountCNY.String())
		tat, tver, tunver = append(tat, f.At), append(tver, f.At.Add(time.Hour)), append(tunver, unver)
	}
	if len(tp) > 0 {
		if _, err := db.ExecContext(ctx, `
			INSERT INTO trade_chains (tenant_id, order_no, ebc_code, pay_code, pay_transaction_id, logistics_code, logistics_no,
				direction, trade_mode, currency, amount, amount_cny, goods_value, tax, order_time, pay_time, declaration_date,
				hs_chapters, countries, status, reason, verified_at, unverified_at, version)
			SELECT u.p, u.o, $1, '4403950001', 'PAY' || u.o, '4403980001', 'LN' || u.o, $12, '9610', 'CNY',
				u.amt::numeric, u.amt::numeric, u.amt::numeric, 0, u.at, u.at, (u.at AT TIME ZONE INTERVAL '+08:00')::date,
				string_to_array(u.hc, ','), string_to_array(u.cc, ','), u.st, u.reason, u.ver,
				CASE WHEN u.st = 'verified' THEN NULL ELSE u.unver END, 1
			FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
				$9::timestamptz[], $10::timestamptz[], $11::timestamptz[]) AS u(p, o, st, reason, cc, hc, amt, at, ver, unver)`,
			seller, pq.Array(tp), pq.Array(to), pq.Array(ts), pq.Array(treason), pq.Array(tcc), pq.Array(thc), pq.Array(tamt),
			pq.Array(tat), pq.Array(tver), pq.Array(tunver), direction); err != nil {
			return fmt.Errorf("insert %d trade chains: %w", len(tp), err)
		}
	}
	if len(cp) > 0 {
		if _, err := db.ExecContext(ctx, `
			INSERT INTO clearance_chains (tenant_id, order_no, direction, dirty_version, clean_version, verdict_version,
				status, ebc_code, created_at, updated_at)
			SELECT u.p, u.o, $6, 1, 1, 1, u.st, $1, u.at, u.at
			FROM unnest($2::text[], $3::text[], $4::text[], $5::timestamptz[]) AS u(p, o, st, at)`,
			seller, pq.Array(cp), pq.Array(co), pq.Array(cst), pq.Array(cat), direction); err != nil {
			return fmt.Errorf("insert %d unverified chains: %w", len(cp), err)
		}
	}
	return nil
}

// InsertFunds writes facts as settled fund flows of enterprise: one
// settlement item each (posted, of institution 4403950001), a receipt as an
// export item and a payment as an import item, with its posted event at the
// fact's time.
func InsertFunds(ctx context.Context, db *sqlx.DB, enterprise string, facts []risk.FundFact) error {
	if len(facts) == 0 {
		return nil
	}
	ids, dirs, amts := make([]uuid.UUID, len(facts)), make([]string, len(facts)), make([]string, len(facts))
	ats := make([]time.Time, len(facts))
	for i, f := range facts {
		ids[i], amts[i], ats[i] = uuid.Must(uuid.NewV7()), f.AmountCNY.String(), f.At
		dirs[i] = "import"
		if f.Direction == risk.Receipt {
			dirs[i] = "export"
		}
	}
	_, err := db.ExecContext(ctx, `
		WITH u AS (
			SELECT * FROM unnest($2::uuid[], $3::text[], $4::text[], $5::timestamptz[]) WITH ORDINALITY AS u(id, dir, amt, at, n)
		), i AS (
			INSERT INTO settlement_items (tenant_id, id, instruction_id, seq, ebp_code, order_no, pay_transaction_id, enterprise,
				currency, amount, payout_currency, status, direction, trade_mode, flow, cny_amount, payout_gross, payout_amount,
				entry_id, accepted_at, updated_at)
			SELECT '4403950001', u.id, u.id, 0, $6, 'F' || u.id, 'PF' || u.id, $1, 'CNY', u.amt::numeric, 'CNY', 'posted',
				u.dir, '9610', 'cips', u.amt::numeric, u.amt::numeric, u.amt::numeric, u.id, u.at, u.at
			FROM u
		)
		INSERT INTO settlement_item_events (tenant_id, item_id, from_status, to_status, at)
		SELECT '4403950001', u.id, 'verified', 'posted', u.at FROM u`,
		enterprise, pq.Array(ids), pq.Array(dirs), pq.Array(amts), pq.Array(ats), Platform)
	if err != nil {
		return fmt.Errorf("insert %d fund flows: %w", len(facts), err)
	}
	return nil
}

// BuildEnterprise writes n verified chains of seller in one set-based
// statement (generate_series): over the 360 days before asOf, on 20
// platforms, each naming 1 or 2 of 30 countries and 1 to 3 of 50 HS
// chapters, of CNY 100.00 to 1,099.99. A million rows take a few seconds;
// the point is to time an assessment over them, not their insertion.
func BuildEnterprise(ctx context.Context, db *sqlx.DB, seller string, n int, asOf time.Time) error {
	if _, err := db.ExecContext(ctx, `
		INSERT INTO trade_chains (tenant_id, order_no, ebc_code, pay_code, pay_transaction_id, logistics_code, logistics_no,
			direction, trade_mode, currency, amount, amount_cny, goods_value, tax, order_time, hs_chapters, countries, status,
			verified_at, version)
		SELECT '44039600' || lpad((g % 20)::text, 2, '0'), $1 || '-' || g, $1, '4403950001', 'PAY' || $1 || g, '4403980001',
			'LN' || g, 'export', '9610', 'CNY', a.amt, a.amt, a.amt, 0, t.at,
			CASE g % 3 WHEN 0 THEN ARRAY[lpad((g % 50)::text, 2, '0')]
				WHEN 1 THEN ARRAY[lpad((g % 50)::text, 2, '0'), lpad(((g + 7) % 50)::text, 2, '0')]
				ELSE ARRAY[lpad((g % 50)::text, 2, '0'), lpad(((g + 7) % 50)::text, 2, '0'), lpad(((g + 19) % 50)::text, 2, '0')] END,
			CASE g % 2 WHEN 0 THEN ARRAY['C' || (g % 30)] ELSE ARRAY['C' || (g % 30), 'C' || ((g + 11) % 30)] END,
			'verified', t.at + interval '1 hour', 1
		FROM generate_series(1, $2::int) AS g
		CROSS JOIN LATERAL (SELECT $3::timestamptz - (g % 359 + 1) * interval '1 day' - (g % 86000) * interval '1 second' AS at) t
		CROSS JOIN LATERAL (SELECT (100 + (g::bigint * 7919) % 100000 / 100.0)::numeric(19, 5) AS amt) a`,
		seller, n, asOf); err != nil {
		return fmt.Errorf("build %d chains of %s: %w", n, seller, err)
	}
	if _, err := db.ExecContext(ctx, `ANALYZE trade_chains`); err != nil {
		return fmt.Errorf("analyze trade chains: %w", err)
	}
	return nil
}

// USCC returns a valid unified social credit code (GB 32100) for a test
// enterprise: a Shenzhen company's prefix, the customs code's last nine
// characters (letters the code set lacks become 0), and the check
// character that makes it valid.
func USCC(customsCode string) string {
	const set = "0123456789ABCDEFGHJKLMNPQRTUWXY"
	body := []byte("91440300" + fmt.Sprintf("%09s", customsCode[max(0, len(customsCode)-9):]))
	for i := 8; i < len(body); i++ {
		if !strings.ContainsRune(set, rune(body[i])) {
			body[i] = '0'
		}
	}
	for _, c := range set {
		if code := string(body) + string(c); risk.ValidateUSCC(code) == nil {
			return code
		}
	}
	panic("no check character makes " + string(body) + " valid")
}
