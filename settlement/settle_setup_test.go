package settlement

import (
	"fmt"
	"testing"

	"github.com/google/uuid"
	"github.com/lib/pq"
	"github.com/shopspring/decimal"

	"github.com/xbsettle/xbsettle/ledger"
)

// settleBundle is the FX bundle with the settlement service on the same
// clock, the board of 16 March 2026 loaded, and helpers for chains,
// instructions and the ledger.
type settleBundle struct {
	*bundle
	svc *Service
}

func settleSetup(t testing.TB, opts ...Option) *settleBundle {
	t.Helper()
	b := setup(t)
	b.loadRates(boardRate("USD", "2026-03-16"), boardRate("EUR", "2026-03-16"), boardRate("JPY", "2026-03-16"))
	svc := NewService(b.db, b.ledger, b.fx, append([]Option{WithNow(b.clock.Now)}, opts...)...)
	return &settleBundle{bundle: b, svc: svc}
}

// chain is a trade_chains row as clearance writes it for a verified chain.
type chain struct {
	ebp, order, ebc, payCode, ptx string
	direction, currency           string
	amount                        string
	goods, tax                    string // default: amount and 0
	unverified                    bool
}

// seedChains writes trade chains the way clearance does, in one statement.
// Clearance's own service is being built in parallel; until it lands the
// tests bind to its table.
func (b *settleBundle) seedChains(cs ...chain) {
	b.t.Helper()
	n := len(cs)
	cols := make([][]string, 11)
	for i := range cols {
		cols[i] = make([]string, n)
	}
	for i, c := range cs {
		goods, tax, status := c.goods, c.tax, "verified"
		if goods == "" {
			goods = c.amount
		}
		if tax == "" {
			tax = "0"
		}
		if c.unverified {
			status = "unverified"
		}
		for j, v := range []string{c.ebp, c.order, c.ebc, c.payCode, c.ptx, c.direction, c.currency, c.amount, goods, tax, status} {
			cols[j][i] = v
		}
	}
	args := []any{}
	for _, c := range cols {
		args = append(args, pq.Array(c))
	}
	if _, err := b.db.Exec(`INSERT INTO trade_chains (tenant_id, order_no, ebc_code, pay_code, pay_transaction_id,
			logistics_code, logistics_no, direction, trade_mode, currency, amount, amount_cny, goods_value, tax, order_time,
			declaration_date, hs_chapters, countries, status, reason, verified_at, version)
		SELECT u.ebp, u.ord, u.ebc, u.pc, u.ptx, 'CARRIER001', 'W' || u.ord, u.dir, '9610', u.cur, u.amt,
			CASE WHEN u.cur = 'CNY' THEN u.amt END, u.goods, u.tax, now(), current_date, '{33}', '{JP}', u.status,
			CASE WHEN u.status = 'unverified' THEN 'MISMATCHED' ELSE '' END, now(), 1
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::numeric[],
			$9::numeric[], $10::numeric[], $11::text[]) AS u(ebp, ord, ebc, pc, ptx, dir, cur, amt, goods, tax, status)`, args...); err != nil {
		b.t.Fatalf("seed %d chains: %v", n, err)
	}
}

// importChain is a verified import chain of this institution, paid in CNY.
func (b *settleBundle) importChain(order, ebc, amount string) chain {
	return chain{ebp: "PLATFORM01", order: order, ebc: ebc, payCode: b.actor.Tenant, ptx: "PAY-" + order,
		direction: "import", currency: "CNY", amount: amount}
}

// exportChain is a verified export chain of this institution, received in cur.
func (b *settleBundle) exportChain(order, ebc, cur, amount string) chain {
	return chain{ebp: "PLATFORM02", order: order, ebc: ebc, payCode: b.actor.Tenant, ptx: "RCV-" + order,
		direction: "export", currency: cur, amount: amount}
}

// itemOf is the item that settles a chain, paid out in payout.
func itemOf(c chain, payout ledger.Currency, quote uuid.UUID, fee string) NewItem {
	it := NewItem{EbpCode: c.ebp, OrderNo: c.order, PayTransactionID: c.ptx, Enterprise: c.ebc,
		Currency: ledger.Currency(c.currency), Amount: dec(c.amount), PayoutCurrency: payout, QuoteID: quote}
	if fee != "" {
		it.Fee = dec(fee)
	}
	return it
}

func (b *settleBundle) quote(cur ledger.Currency, side Side) uuid.UUID {
	b.t.Helper()
	q, err := b.fx.Quote(b.ctx, b.actor, PairOf(cur), side)
	if err != nil {
		b.t.Fatalf("quote %s %s: %v", cur, side, err)
	}
	return q.ID
}

func (b *settleBundle) submit(key string, items ...NewItem) Instruction {
	b.t.Helper()
	ins, _, err := b.svc.Submit(b.ctx, b.actor, NewInstruction{IdempotencyKey: key, Items: items})
	if err != nil {
		b.t.Fatalf("submit %s: %v", key, err)
	}
	return ins
}

func (b *settleBundle) process(id uuid.UUID) {
	b.t.Helper()
	if err := b.svc.ProcessInstruction(b.ctx, b.actor.Tenant, id); err != nil {
		b.t.Fatalf("process %s: %v", id, err)
	}
}

func (b *settleBundle) cutoff() CutoffResult {
	b.t.Helper()
	res, err := b.svc.RunCutoff(b.ctx, b.actor, day("2026-03-16"))
	if err != nil {
		b.t.Fatalf("cut-off: %v", err)
	}
	return res
}

func (b *settleBundle) instruction(id uuid.UUID) Instruction {
	b.t.Helper()
	ins, err := b.svc.Instruction(b.ctx, b.actor.Tenant, id)
	if err != nil {
		b.t.Fatalf("read instruction %s: %v", id, err)
	}
	return ins
}

// The key prefixes of the entries settlement posts.
var (
	settleKeyPrefix = ledger.ServiceKey(ledger.KeysSettle)
	payoutKeyPrefix = ledger.ServiceKey(ledger.KeysPayout)
)

// entriesByKey counts the tenant's ledger entries per idempotency key with
// the prefix.
func (b *settleBundle) entriesByKey(prefix string) map[string]int {
	b.t.Helper()
	var rows []struct {
		Key string `db:"idempotency_key"`
		N   int    `db:"n"`
	}
	if err := b.db.Select(&rows, `SELECT idempotency_key, count(*) AS n FROM entries
		WHERE tenant_id = $1 AND idempotency_key LIKE $2 || '%' GROUP BY idempotency_key`, b.actor.Tenant, prefix); err != nil {
		b.t.Fatal(err)
	}
	out := map[string]int{}
	for _, r := range rows {
		out[r.Key] = r.N
	}
	return out
}

// eventCounts counts the tenant's item events per status reached.
func (b *settleBundle) eventCounts() map[ItemStatus]int {
	b.t.Helper()
	var rows []struct {
		To string `db:"to_status"`
		N  int    `db:"n"`
	}
	if err := b.db.Select(&rows, `SELECT to_status, count(*) AS n FROM settlement_item_events WHERE tenant_id = $1
		GROUP BY to_status`, b.actor.Tenant); err != nil {
		b.t.Fatal(err)
	}
	out := map[ItemStatus]int{}
	for _, r := range rows {
		out[ItemStatus(r.To)] = r.N
	}
	return out
}

// balance is an account's posted balance by code, zero if it does not exist.
func (b *settleBundle) balance(code string) decimal.Decimal {
	b.t.Helper()
	accts, err := b.ledger.Accounts(b.ctx, b.actor.Tenant, code, uuid.Nil, 1)
	if err != nil {
		b.t.Fatal(err)
	}
	if len(accts) == 0 {
		return decimal.Zero
	}
	return accts[0].Balance.Posted(accts[0].Kind)
}

// enterprise is the i-th test enterprise's customs code.
func enterprise(i int) string { return fmt.Sprintf("44031%05d", i) }
