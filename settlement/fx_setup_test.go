package settlement

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"

	"github.com/xbsettle/xbsettle/internal/testenv"
	"github.com/xbsettle/xbsettle/ledger"
)

// bundle is what the storage tests need: a fresh database with the ledger,
// the FX desk on a clock the test moves, the account resolver and a tenant
// of their own.
type bundle struct {
	t      testing.TB
	ctx    context.Context
	db     *sqlx.DB
	ledger *ledger.Service
	fx     *FX
	accts  *Accounts
	clock  *fakeClock
	actor  ledger.Actor
}

// testNow is 10:00 in Beijing on Monday 16 March 2026, the day the test
// rates are for.
var testNow = time.Date(2026, 3, 16, 10, 0, 0, 0, beijing)

func setup(t testing.TB, opts ...FXOption) *bundle {
	t.Helper()
	db := testenv.NewDB(t, 30)
	clock := &fakeClock{now: testNow}
	fx, err := NewFX(db, append([]FXOption{WithClock(clock.Now)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	led := ledger.NewService(db, nil)
	return &bundle{t: t, ctx: context.Background(), db: db, ledger: led, fx: fx, accts: NewAccounts(led), clock: clock,
		actor: ledger.Actor{Tenant: "PI" + uuid.NewString()[:8], By: "test"}}
}

// fakeClock is a clock tests set and advance.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *fakeClock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.now = t }

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// day is a rate date.
func day(s string) time.Time {
	d, err := time.Parse(dateLayout, s)
	if err != nil {
		panic(err)
	}
	return d
}

// board is the test rate board of 16 March 2026: CNY per unit of foreign
// currency, buy ≤ parity ≤ sell.
var board = map[ledger.Currency]RateInput{
	"USD": {Pair: PairOf("USD"), Unit: 1, Buy: dec("7.1012"), Parity: dec("7.1234"), Sell: dec("7.1456")},
	"EUR": {Pair: PairOf("EUR"), Unit: 1, Buy: dec("7.7855"), Parity: dec("7.8090"), Sell: dec("7.8325")},
	"JPY": {Pair: PairOf("JPY"), Unit: 100, Buy: dec("4.8300"), Parity: dec("4.8456"), Sell: dec("4.8612")},
	"KRW": {Pair: PairOf("KRW"), Unit: 100, Buy: dec("0.5210"), Parity: dec("0.5222"), Sell: dec("0.5234")},
	"KWD": {Pair: PairOf("KWD"), Unit: 1, Buy: dec("23.1150"), Parity: dec("23.2310"), Sell: dec("23.3470")},
}

// boardRate is the board's rate of a currency for a date, as an input.
func boardRate(cur ledger.Currency, date string) RateInput {
	r := board[cur]
	r.Date, r.Source = day(date), "test board"
	return r
}

// quotation is the board's quotation of a currency on a side, as loaded.
func quotation(cur ledger.Currency, side Side) Quotation {
	r := board[cur]
	return Rate{ID: uuid.MustParse("0195a000-0000-7000-8000-000000000001"), Pair: r.Pair, Date: day("2026-03-16"), Unit: r.Unit,
		Parity: r.Parity, Buy: r.Buy, Sell: r.Sell}.Quotation(side)
}

func (b *bundle) loadRates(in ...RateInput) []Rate {
	b.t.Helper()
	rates, err := b.fx.LoadRates(b.ctx, "admin-key", in)
	if err != nil {
		b.t.Fatalf("load rates: %v", err)
	}
	return rates
}
