package settlement

import (
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/xbsettle/xbsettle/ledger"
)

// TestQuoteExpiry: a quote is live for its TTL and expired from then on.
func TestQuoteExpiry(t *testing.T) {
	t.Parallel()
	for _, ttl := range []time.Duration{0, 5 * time.Second} { // 0: the default, 60 s
		var opts []FXOption
		want := DefaultQuoteTTL
		if ttl != 0 {
			opts, want = []FXOption{WithQuoteTTL(ttl)}, ttl
		}
		t.Run(want.String(), func(t *testing.T) {
			t.Parallel()
			b := setup(t, opts...)
			b.loadRates(boardRate("JPY", "2026-03-16"))
			q, err := b.fx.Quote(b.ctx, b.actor, PairOf("JPY"), CustomerBuysFX)
			if err != nil {
				t.Fatal(err)
			}
			if got := q.ExpiresAt.Sub(q.CreatedAt); got != want {
				t.Fatalf("quote lives %s, want %s", got, want)
			}
			if _, err := b.fx.QuoteFor(b.ctx, b.actor.Tenant, q.ID, testNow.Add(want-time.Microsecond)); err != nil {
				t.Fatalf("a microsecond before expiry: %v", err)
			}
			for _, at := range []time.Time{testNow.Add(want), testNow.Add(time.Hour)} {
				if _, err := b.fx.QuoteFor(b.ctx, b.actor.Tenant, q.ID, at); !errors.Is(err, ErrQuoteExpired) {
					t.Fatalf("at %s: err = %v, want QUOTE_EXPIRED", at.Sub(testNow), err)
				}
			}
		})
	}
}

// TestQuoteLocksTheRate: a quote keeps the figures it was made with, on its
// side, whatever is loaded after it.
func TestQuoteLocksTheRate(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rate := b.loadRates(boardRate("JPY", "2026-03-16"))[0]
	buy, err := b.fx.Quote(b.ctx, b.actor, PairOf("JPY"), CustomerBuysFX)
	if err != nil {
		t.Fatal(err)
	}
	sell, err := b.fx.Quote(b.ctx, b.actor, PairOf("JPY"), CustomerSellsFX)
	if err != nil {
		t.Fatal(err)
	}
	moved := boardRate("JPY", "2026-03-16")
	moved.Buy, moved.Parity, moved.Sell = dec("4.9000"), dec("4.9100"), dec("4.9200")
	b.loadRates(moved)

	for _, tc := range []struct {
		q    Quote
		want string
	}{{buy, "4.8612"}, {sell, "4.8300"}} { // 购汇 at the sell rate, 结汇 at the buy rate
		got, err := b.fx.QuoteFor(b.ctx, b.actor.Tenant, tc.q.ID, testNow)
		if err != nil {
			t.Fatal(err)
		}
		r := got.Quotation
		if !r.Rate.Equal(dec(tc.want)) || !r.Parity.Equal(dec("4.8456")) || r.Unit != 100 || r.RateID != rate.ID ||
			r.QuoteID != tc.q.ID || r.Date.Format(dateLayout) != "2026-03-16" || r.Side != tc.q.Quotation.Side || got.CreatedBy != "test" {
			t.Fatalf("%s quote = %+v, want rate %s, parity 4.8456 per 100 of rate %s", tc.q.Quotation.Side, got, tc.want, rate.ID)
		}
	}
	if q, err := b.fx.Quote(b.ctx, b.actor, PairOf("JPY"), CustomerBuysFX); err != nil || !q.Quotation.Rate.Equal(dec("4.9200")) {
		t.Fatalf("a new quote = %v, %v; want the new sell rate 4.9200", q.Quotation.Rate, err)
	}
}

// TestQuoteTenantIsolation: another institution's quote is not found.
func TestQuoteTenantIsolation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.loadRates(boardRate("USD", "2026-03-16"))
	q, err := b.fx.Quote(b.ctx, b.actor, PairOf("USD"), CustomerSellsFX)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.fx.QuoteFor(b.ctx, "OTHER-PI", q.ID, testNow); !errors.Is(err, ErrQuoteNotFound) {
		t.Fatalf("another tenant reading the quote: %v, want QUOTE_NOT_FOUND", err)
	}
	if _, err := b.fx.QuoteFor(b.ctx, b.actor.Tenant, uuid.New(), testNow); !errors.Is(err, ErrQuoteNotFound) {
		t.Fatalf("an unknown quote: %v, want QUOTE_NOT_FOUND", err)
	}
}

// TestQuoteNeedsARecentRate: no rate, or only an old one, gives no quote.
func TestQuoteNeedsARecentRate(t *testing.T) {
	t.Parallel()
	b := setup(t, WithMaxRateAge(3))
	if _, err := b.fx.Quote(b.ctx, b.actor, PairOf("USD"), CustomerBuysFX); !errors.Is(err, ErrRateNotFound) {
		t.Fatalf("no rate: %v, want FX_RATE_NOT_FOUND", err)
	}
	b.loadRates(boardRate("USD", "2026-03-13")) // Friday
	if _, err := b.fx.Quote(b.ctx, b.actor, PairOf("USD"), CustomerBuysFX); err != nil {
		t.Fatalf("Monday on Friday's rate: %v", err)
	}
	b.clock.Set(testNow.AddDate(0, 0, 1)) // Tuesday: four days after Friday
	if _, err := b.fx.Quote(b.ctx, b.actor, PairOf("USD"), CustomerBuysFX); !errors.Is(err, ErrRateStale) {
		t.Fatalf("Tuesday on Friday's rate: %v, want FX_RATE_STALE", err)
	}
	for _, tc := range []struct {
		pair Pair
		side Side
		want error
	}{{PairOf("USD"), "buy", ErrSideInvalid}, {Pair{"CNY", "USD"}, CustomerBuysFX, ErrPairInvalid}} {
		if _, err := b.fx.Quote(b.ctx, b.actor, tc.pair, tc.side); !errors.Is(err, tc.want) {
			t.Fatalf("Quote(%s, %q) = %v, want %v", tc.pair, tc.side, err, tc.want)
		}
	}
	if _, err := b.fx.Quote(b.ctx, ledger.Actor{By: "x"}, PairOf("USD"), CustomerBuysFX); err == nil {
		t.Fatal("a quote without a tenant was made")
	}
}

func TestNewFXRefusesBadConfig(t *testing.T) {
	t.Parallel()
	for _, opt := range []FXOption{WithQuoteTTL(0), WithQuoteTTL(time.Hour), WithMaxRateAge(-1), WithMaxRateAge(365)} {
		if _, err := NewFX(nil, opt); err == nil {
			t.Error("a bad option was accepted")
		}
	}
}
