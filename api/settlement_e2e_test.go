package api_test

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/xbsettle/xbsettle/api"
	"github.com/xbsettle/xbsettle/settlement"
)

// testInstitution is the payment institution of the settlement tests: its
// customs code is its tenant and the payCode of its payments.
const testInstitution = "4403169D3W"

// The board the settlement tests load for today: CNY per unit.
var testBoard = map[string][3]string{ // buy, parity, sell
	"USD": {"7.1012", "7.1234", "7.1456"},
	"EUR": {"7.7855", "7.8090", "7.8325"},
}

// loadBoard loads today's rates through the API as an admin.
func (b *bundle) loadBoard() {
	b.t.Helper()
	var rates []map[string]any
	for cur, r := range testBoard {
		rates = append(rates, map[string]any{"pair": cur + "/CNY", "date": settlement.Today(time.Now()).Format(time.DateOnly),
			"unit": 1, "buy": r[0], "parity": r[1], "sell": r[2], "source": "test board"})
	}
	if r := b.do(req{method: "POST", path: "/v1/fx/rates", key: b.admin, body: map[string]any{"rates": rates}}); r.Status != http.StatusCreated {
		b.t.Fatalf("load rates: %d %s", r.Status, r.Body)
	}
}

type quoteOut struct {
	ID        string `json:"id"`
	Pair      string `json:"pair"`
	Side      string `json:"side"`
	Rate      string `json:"rate"`
	Unit      int    `json:"unit"`
	ExpiresAt string `json:"expires_at"`
	Live      bool   `json:"live"`
}

func (b *bundle) quoteFor(key, pair, side string) quoteOut {
	b.t.Helper()
	r := b.do(req{method: "POST", path: "/v1/fx/quotes", key: key, body: map[string]string{"pair": pair, "side": side}})
	if r.Status != http.StatusCreated {
		b.t.Fatalf("quote %s %s: %d %s", pair, side, r.Status, r.Body)
	}
	var q quoteOut
	r.into(b.t, &q)
	return q
}

type itemOut struct {
	ID               string   `json:"id"`
	PayTransactionID string   `json:"payTransactionId"`
	Enterprise       string   `json:"enterprise"`
	Currency         string   `json:"currency"`
	Amount           string   `json:"amount"`
	PayoutCurrency   string   `json:"payout_currency"`
	Fee              string   `json:"fee"`
	Status           string   `json:"status"`
	Codes            []string `json:"codes"`
	Route            *string  `json:"route"`
	PayoutGross      *string  `json:"payout_gross"`
	PayoutAmount     *string  `json:"payout_amount"`
	EntryID          *string  `json:"entry_id"`
	BatchID          *string  `json:"batch_id"`
	ValueDate        *string  `json:"value_date"`
	History          []struct {
		Status string `json:"status"`
	} `json:"history"`
}

type instructionOut struct {
	ID      string         `json:"id"`
	Summary map[string]int `json:"summary"`
	Items   []itemOut      `json:"items"`
}

type batchOut struct {
	ID         string `json:"id"`
	Enterprise string `json:"enterprise"`
	Currency   string `json:"currency"`
	ValueDate  string `json:"value_date"`
	Status     string `json:"status"`
	ItemCount  int    `json:"item_count"`
	Gross      string `json:"gross"`
	Fees       string `json:"fees"`
	Net        string `json:"net"`
}

func (b *bundle) submitSettlement(key, idem string, items []map[string]any) instructionOut {
	b.t.Helper()
	r := b.do(req{method: "POST", path: "/v1/settlements", key: key, body: map[string]any{"items": items},
		headers: []string{"Idempotency-Key", idem}})
	if r.Status != http.StatusAccepted {
		b.t.Fatalf("submit %s: %d %s", idem, r.Status, r.Body)
	}
	var out instructionOut
	r.into(b.t, &out)
	return out
}

func (b *bundle) settlementOf(key, id string) instructionOut {
	b.t.Helper()
	r := b.do(req{method: "GET", path: "/v1/settlements/" + id, key: key})
	if r.Status != http.StatusOK {
		b.t.Fatalf("GET settlement %s: %d %s", id, r.Status, r.Body)
	}
	var out instructionOut
	r.into(b.t, &out)
	return out
}

// awaitAtRest waits until no item of the instructions is still in flight.
func (b *bundle) awaitAtRest(key string, ids ...string) []instructionOut {
	b.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var out []instructionOut
		busy := 0
		for _, id := range ids {
			ins := b.settlementOf(key, id)
			busy += ins.Summary["accepted"] + ins.Summary["verified"] + ins.Summary["posted"]
			out = append(out, ins)
		}
		if busy == 0 {
			return out
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("%d items still in flight after 60 s", busy)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// balanceOf is the posted balance of the institution's account with the
// code, read through the API; zero when the account does not exist.
func (b *bundle) balanceOf(key, code string) decimal.Decimal {
	b.t.Helper()
	r := b.do(req{method: "GET", path: "/v1/accounts?code=" + code, key: key})
	var page struct {
		Data []account `json:"data"`
	}
	r.into(b.t, &page)
	if len(page.Data) == 0 {
		return decimal.Zero
	}
	return decimal.RequireFromString(b.balance(key, page.Data[0].ID).Posted)
}

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// TestSettlementEndToEnd: 200 verified chains in three currencies for ten
// enterprises are settled through the API and a real worker, then cut off:
// every batch's totals are its items' sums and the figures computed here by
// hand, the reserve and payable balances are the hand-computed ones, and the
// transaction report has one line per item.
func TestSettlementEndToEnd(t *testing.T) {
	t.Parallel()
	b := setup(t)
	pi := b.key(api.RolePaymentInstitution, testInstitution)
	b.loadBoard()
	buyUSD := b.quoteFor(pi, "USD/CNY", "customer_buys_fx")
	sellUSD := b.quoteFor(pi, "USD/CNY", "customer_sells_fx")
	sellEUR := b.quoteFor(pi, "EUR/CNY", "customer_sells_fx")

	// Four flows round-robin over ten enterprises: imports paid in CNY and
	// paid out in USD (购汇) or in CNY through CIPS, exports received in USD
	// or EUR and paid out in CNY (结汇).
	type want struct{ net, gross, fee decimal.Decimal }
	var specs []tradeSpec
	var items []map[string]any
	byBatch := map[string]want{}            // enterprise/currency → hand figures
	reserve := map[string]decimal.Decimal{} // currency → collected
	for i := range 200 {
		seller := fmt.Sprintf("44031000%02d", i%10)
		goods := d("50.00").Add(decimal.New(int64(i*1137%90000), -2))
		s := tradeSpec{orderNo: fmt.Sprintf("ORD%05d", i), seller: seller, payCode: testInstitution, goods: goods}
		item := map[string]any{"ebpCode": testPlatform, "orderNo": s.orderNo, "enterprise": seller}
		var payout string
		var gross, fee decimal.Decimal
		switch i % 4 {
		case 0: // import, 购汇 at the sell rate: USD = CNY ÷ 7.1456, half-up to the cent
			s.payRef = "PAY" + s.orderNo
			payout, fee = "USD", d("0.50")
			gross = s.paid().DivRound(d(testBoard["USD"][2]), 2)
			item["quote_id"] = buyUSD.ID
		case 1, 2: // export, 结汇 at the buy rate: CNY = FCY × buy, half-up to the fen
			s.export, s.payRef, s.currency = true, "RCV"+s.orderNo, map[int]string{1: "USD", 2: "EUR"}[i%4]
			payout = "CNY"
			gross = s.paid().Mul(d(testBoard[s.currency][0])).Round(2)
			if i%8 == 1 {
				fee = d("3.00")
			}
			item["quote_id"] = map[string]string{"USD": sellUSD.ID, "EUR": sellEUR.ID}[s.currency]
		default: // import through CIPS: no conversion
			s.payRef = "PAY" + s.orderNo
			payout, fee, gross = "CNY", d("1.00"), s.paid()
		}
		cur := "CNY"
		if s.export {
			cur = s.currency
		}
		item["payTransactionId"], item["currency"], item["amount"] = s.payRef, cur, s.paid().StringFixed(2)
		item["payout_currency"] = payout
		if fee.IsPositive() {
			item["fee"] = fee.StringFixed(2)
		}
		specs, items = append(specs, s), append(items, item)
		k := seller + "/" + payout
		w := byBatch[k]
		byBatch[k] = want{net: w.net.Add(gross.Sub(fee)), gross: w.gross.Add(gross), fee: w.fee.Add(fee)}
		reserve[cur] = reserve[cur].Add(s.paid())
	}
	b.verifyTrades(specs)

	first := b.submitSettlement(pi, "e2e-1", items[:100])
	second := b.submitSettlement(pi, "e2e-2", items[100:])
	for _, ins := range []instructionOut{first, second} {
		if ins.Summary["accepted"] != 100 || len(ins.Items) != 100 {
			t.Fatalf("202 summary %v", ins.Summary)
		}
	}
	done := b.awaitAtRest(pi, first.ID, second.ID)

	var all []itemOut
	for _, ins := range done {
		all = append(all, ins.Items...)
	}
	valueDate := *all[0].ValueDate
	for _, it := range all {
		if it.Status != "batched" || it.EntryID == nil || *it.ValueDate != valueDate {
			t.Fatalf("item %s: %s %v entry %v value date %v", it.PayTransactionID, it.Status, it.Codes, it.EntryID, it.ValueDate)
		}
	}
	// Before the cut-off the payables hold the nets.
	for k, w := range byBatch {
		ent, cur, _ := strings.Cut(k, "/")
		if got := b.balanceOf(pi, "merchant:"+ent+":"+cur); !got.Equal(w.net) {
			t.Errorf("merchant:%s:%s before the cut-off = %s, want %s", ent, cur, got, w.net)
		}
	}

	r := b.do(req{method: "POST", path: "/v1/settlement-batches/cutoff?date=" + valueDate, key: b.admin,
		headers: []string{"X-Tenant-ID", testInstitution}})
	if r.Status != http.StatusOK {
		t.Fatalf("cut-off: %d %s", r.Status, r.Body)
	}

	// Batches: settled, their totals the sums of their items and the hand figures.
	r = b.do(req{method: "GET", path: "/v1/settlement-batches?limit=500&date=" + valueDate, key: pi})
	var batches struct {
		Data []batchOut `json:"data"`
	}
	r.into(t, &batches)
	if len(batches.Data) != len(byBatch) {
		t.Fatalf("%d batches, want %d", len(batches.Data), len(byBatch))
	}
	for _, bt := range batches.Data {
		var n int
		var gross, fees, net decimal.Decimal
		for _, ins := range []string{first.ID, second.ID} {
			for _, it := range b.settlementOf(pi, ins).Items {
				if it.BatchID != nil && *it.BatchID == bt.ID {
					n++
					gross, fees, net = gross.Add(d(*it.PayoutGross)), fees.Add(d(it.Fee)), net.Add(d(*it.PayoutAmount))
					if it.Status != "settled" {
						t.Errorf("item %s is %s after the cut-off", it.PayTransactionID, it.Status)
					}
				}
			}
		}
		w := byBatch[bt.Enterprise+"/"+bt.Currency]
		if bt.Status != "settled" || bt.ItemCount != n || !d(bt.Gross).Equal(gross) || !d(bt.Fees).Equal(fees) || !d(bt.Net).Equal(net) {
			t.Errorf("batch %s/%s: %+v; its items: %d, gross %s, fees %s, net %s", bt.Enterprise, bt.Currency, bt, n, gross, fees, net)
		}
		if !d(bt.Net).Equal(w.net) || !d(bt.Gross).Equal(w.gross) || !d(bt.Fees).Equal(w.fee) {
			t.Errorf("batch %s/%s: gross %s fees %s net %s; by hand %s %s %s", bt.Enterprise, bt.Currency, bt.Gross, bt.Fees, bt.Net, w.gross, w.fee, w.net)
		}
	}

	// Balances: the reserve holds what was collected, the payables are paid
	// out into payout clearing.
	clearing := map[string]decimal.Decimal{}
	for k, w := range byBatch {
		ent, cur, _ := strings.Cut(k, "/")
		clearing[cur] = clearing[cur].Add(w.net)
		if got := b.balanceOf(pi, "merchant:"+ent+":"+cur); !got.IsZero() {
			t.Errorf("merchant:%s:%s after the cut-off = %s, want 0", ent, cur, got)
		}
	}
	for _, cur := range []string{"CNY", "USD", "EUR"} {
		if got := b.balanceOf(pi, "reserve:"+cur); !got.Equal(reserve[cur]) {
			t.Errorf("reserve:%s = %s, want %s", cur, got, reserve[cur])
		}
		if got := b.balanceOf(pi, "payout_clearing:"+cur); !got.Equal(clearing[cur]) {
			t.Errorf("payout_clearing:%s = %s, want %s", cur, got, clearing[cur])
		}
		if got := b.balanceOf(pi, "buyer_funds:"+cur); !got.IsZero() {
			t.Errorf("buyer_funds:%s = %s, want 0", cur, got)
		}
	}

	// The 逐笔 report: one line per item, in CSV and in JSON.
	r = b.do(req{method: "GET", path: "/v1/reports/transactions?format=csv&date=" + valueDate, key: pi})
	records, err := csv.NewReader(strings.NewReader(string(r.Body))).ReadAll()
	if r.Status != http.StatusOK || err != nil {
		t.Fatalf("CSV report: %d %v", r.Status, err)
	}
	if !slices.Equal(records[0], settlement.ReportColumns) || len(records) != 201 {
		t.Fatalf("CSV report: header %v, %d lines; want 200 items", records[0], len(records)-1)
	}
	ids := map[string]int{}
	for _, rec := range records[1:] {
		ids[rec[1]]++
	}
	for _, it := range all {
		if ids[it.ID] != 1 {
			t.Errorf("item %s has %d report lines", it.ID, ids[it.ID])
		}
	}
	r = b.do(req{method: "GET", path: "/v1/reports/transactions?limit=500&date=" + valueDate, key: pi,
		headers: []string{"Accept", "application/json"}})
	var report struct {
		Data []map[string]*string `json:"data"`
	}
	r.into(t, &report)
	if len(report.Data) != 200 || *report.Data[0]["status"] != "settled" {
		t.Fatalf("JSON report: %d lines, first %v", len(report.Data), report.Data[0])
	}
}
