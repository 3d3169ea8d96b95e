package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/xbsettle/xbsettle/api"
	"github.com/xbsettle/xbsettle/settlement"
)

// TestFXRatesAPI: only an admin loads rates; a load is checked at the edge
// (shapes) and in the domain (rate rules), every bad field named, nothing
// stored; a good load is read back with its history.
func TestFXRatesAPI(t *testing.T) {
	t.Parallel()
	b := setup(t)
	today := settlement.Today(time.Now()).Format(time.DateOnly)
	good := map[string]any{"pair": "USD/CNY", "date": today, "unit": 1, "buy": "7.1012", "parity": "7.1234", "sell": "7.1456", "source": "CFETS"}
	wantProblem(t, b.do(req{method: "POST", path: "/v1/fx/rates", key: b.pi, body: map[string]any{"rates": []any{good}}}),
		http.StatusForbidden, "FORBIDDEN")

	p := wantProblem(t, b.do(req{method: "POST", path: "/v1/fx/rates", key: b.admin, body: map[string]any{"rates": []any{
		map[string]any{"pair": "USD/CNY", "date": "2026-13-01", "unit": 1, "buy": "7.1", "parity": "7.2", "sell": 7.3, "source": "x"},
	}}}), http.StatusUnprocessableEntity, "VALIDATION_FAILED")
	if !hasField(p, "rates[0].date", "DATE_INVALID") || !hasField(p, "rates[0].sell", "AMOUNT_NOT_STRING") {
		t.Fatalf("edge errors: %s", fieldList(p))
	}
	p = wantProblem(t, b.do(req{method: "POST", path: "/v1/fx/rates", key: b.admin, body: map[string]any{"rates": []any{
		map[string]any{"pair": "CNY/USD", "date": today, "unit": 10, "buy": "7.3", "parity": "7.2", "sell": "7.4", "source": ""},
	}}}), http.StatusUnprocessableEntity, "VALIDATION_FAILED")
	for _, want := range [][2]string{{"rates[0].pair", "PAIR_INVALID"}, {"rates[0].unit", "UNIT_INVALID"},
		{"rates[0].buy", "RATE_ORDER"}, {"rates[0].source", "REQUIRED"}} {
		if !hasField(p, want[0], want[1]) {
			t.Errorf("missing %s %s in %s", want[0], want[1], fieldList(p))
		}
	}
	wantProblem(t, b.do(req{method: "GET", path: "/v1/fx/rates?pair=USD/CNY&date=" + today, key: b.pi}), http.StatusNotFound, "FX_RATE_NOT_FOUND")

	if r := b.do(req{method: "POST", path: "/v1/fx/rates", key: b.admin, body: map[string]any{"rates": []any{good}}}); r.Status != http.StatusCreated {
		t.Fatalf("load: %d %s", r.Status, r.Body)
	}
	fixed := map[string]any{"pair": "usd/cny", "date": today, "unit": 1, "buy": "7.1000", "parity": "7.1200", "sell": "7.1400", "source": "CFETS correction"}
	if r := b.do(req{method: "POST", path: "/v1/fx/rates", key: b.admin, body: map[string]any{"rates": []any{fixed}}}); r.Status != http.StatusCreated {
		t.Fatalf("second load: %d %s", r.Status, r.Body)
	}
	var h struct {
		InForce struct {
			Parity  string `json:"parity"`
			Version int    `json:"version"`
		} `json:"in_force"`
		Versions []struct {
			Version int `json:"version"`
		} `json:"versions"`
	}
	r := b.do(req{method: "GET", path: "/v1/fx/rates?pair=USD/CNY", key: b.platform})
	r.into(t, &h)
	if r.Status != http.StatusOK || h.InForce.Version != 2 || h.InForce.Parity != "7.12" || len(h.Versions) != 2 {
		t.Fatalf("GET rates: %d %s", r.Status, r.Body)
	}
	p = wantProblem(t, b.do(req{method: "GET", path: "/v1/fx/rates?date=yesterday", key: b.pi}), http.StatusUnprocessableEntity, "VALIDATION_FAILED")
	if !hasField(p, "pair", "REQUIRED") || !hasField(p, "date", "DATE_INVALID") {
		t.Fatalf("GET rates without pair: %s", fieldList(p))
	}
	wantProblem(t, b.do(req{method: "GET", path: "/v1/fx/rates?pair=CNY/USD", key: b.pi}), http.StatusUnprocessableEntity, "FX_PAIR_INVALID")
}

// TestFXQuotesAPI: a payment institution quotes a pair on a side; the
// request is validated; the quote is its own: another institution's is 404.
func TestFXQuotesAPI(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.loadBoard()
	wantProblem(t, b.do(req{method: "POST", path: "/v1/fx/quotes", key: b.platform, body: map[string]string{"pair": "USD/CNY", "side": "customer_buys_fx"}}),
		http.StatusForbidden, "FORBIDDEN")
	p := wantProblem(t, b.do(req{method: "POST", path: "/v1/fx/quotes", key: b.pi, body: map[string]string{"pair": "USD", "side": "buy"}}),
		http.StatusUnprocessableEntity, "VALIDATION_FAILED")
	if !hasField(p, "pair", "PAIR_INVALID") || !hasField(p, "side", "SIDE_INVALID") {
		t.Fatalf("bad quote request: %s", fieldList(p))
	}
	p = wantProblem(t, b.do(req{method: "POST", path: "/v1/fx/quotes", key: b.pi, body: map[string]string{}}),
		http.StatusUnprocessableEntity, "VALIDATION_FAILED")
	if !hasField(p, "pair", "REQUIRED") || !hasField(p, "side", "REQUIRED") {
		t.Fatalf("empty quote request: %s", fieldList(p))
	}
	wantProblem(t, b.do(req{method: "POST", path: "/v1/fx/quotes", key: b.pi, body: map[string]string{"pair": "JPY/CNY", "side": "customer_buys_fx"}}),
		http.StatusNotFound, "FX_RATE_NOT_FOUND")

	q := b.quoteFor(b.pi, "USD/CNY", "customer_buys_fx")
	expires, err := time.Parse(time.RFC3339, q.ExpiresAt)
	if err != nil || q.Rate != testBoard["USD"][2] || q.Unit != 1 || !q.Live || time.Until(expires) > time.Minute || time.Until(expires) < 50*time.Second {
		t.Fatalf("quote %+v (%v): want the sell rate locked for 60 s", q, err)
	}
	if s := b.quoteFor(b.pi, "USD/CNY", "customer_sells_fx"); s.Rate != testBoard["USD"][0] {
		t.Fatalf("结汇 quote at %s, want the buy rate %s", s.Rate, testBoard["USD"][0])
	}
	if r := b.do(req{method: "GET", path: "/v1/fx/quotes/" + q.ID, key: b.pi}); r.Status != http.StatusOK {
		t.Fatalf("own quote: %d %s", r.Status, r.Body)
	}
	wantProblem(t, b.do(req{method: "GET", path: "/v1/fx/quotes/" + q.ID, key: b.piOther}), http.StatusNotFound, "QUOTE_NOT_FOUND")
	if r := b.do(req{method: "GET", path: "/v1/fx/quotes/" + q.ID, key: b.admin, headers: []string{"X-Tenant-ID", "T1"}}); r.Status != http.StatusOK {
		t.Fatalf("admin for T1: %d %s", r.Status, r.Body)
	}
	wantProblem(t, b.do(req{method: "GET", path: "/v1/fx/quotes/not-a-uuid", key: b.pi}), http.StatusUnprocessableEntity, "VALIDATION_FAILED")

	// Another institution's quote cannot price a settlement either: the item
	// is rejected QUOTE_NOT_FOUND.
	other := b.key(api.RolePaymentInstitution, "4403169D3X")
	foreign := b.quoteFor(other, "USD/CNY", "customer_buys_fx")
	pi := b.key(api.RolePaymentInstitution, testInstitution)
	s := tradeSpec{orderNo: "ORDQ1", seller: "4403100001", payCode: testInstitution, payRef: "PAYQ1", goods: d("100.00")}
	b.verifyTrades([]tradeSpec{s})
	ins := b.submitSettlement(pi, "foreign-quote", []map[string]any{{"ebpCode": testPlatform, "orderNo": s.orderNo,
		"payTransactionId": s.payRef, "enterprise": s.seller, "currency": "CNY", "amount": s.paid().StringFixed(2),
		"payout_currency": "USD", "quote_id": foreign.ID}})
	if err := b.settle.ProcessInstruction(t.Context(), testInstitution, uuidOf(t, ins.ID)); err != nil {
		t.Fatal(err)
	}
	if it := b.settlementOf(pi, ins.ID).Items[0]; it.Status != "rejected" || len(it.Codes) != 1 || it.Codes[0] != "QUOTE_NOT_FOUND" {
		t.Fatalf("item priced with another's quote: %s %v", it.Status, it.Codes)
	}
}
