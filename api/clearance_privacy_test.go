package api_test

import (
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

// TestClearanceHidesIDNumbers: across ingestion (JSON, XML, a refused
// document, a parked waybill), matching by the worker and every read, no
// buyer or payer ID number appears in any log line — server, domain,
// worker, default logger — or any response; responses carry the mask.
// Not parallel: it captures the default logger too.
func TestClearanceHidesIDNumbers(t *testing.T) {
	b := clearanceSetup(t)
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(b.logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() { slog.SetDefault(prev) })

	b.postFixtures()
	s := spec{orderNo: "PRIV1", buyer: 600, goods: "100.00"}
	ids := append([]string{s.id()}, fixtureIDs...)
	b.postJSON("/v1/waybills", b.carrier, s.waybill(), http.StatusCreated) // parked first
	for _, d := range s.docs(b)[:2] {
		b.postJSON(d.path, d.key, d.body, http.StatusCreated)
	}
	b.postJSON("/v1/documents/batch", b.admin, map[string]any{"documents": []any{s.inventory()}}, http.StatusCreated)
	bad := s.payment()
	bad["guid"], bad["payerName"], bad["amountPaid"] = "PRIV1-P2", "", "x"
	wantProblem(t, b.send(req{method: "POST", path: "/v1/payments", key: b.payer, body: bad}), http.StatusUnprocessableEntity, "VALIDATION_FAILED")
	wrongCheck := s.order()
	wrongCheck["guid"], wrongCheck["orderNo"] = "PRIV2-O", "PRIV2"
	wrongCheck["buyerIdNumber"] = s.id()[:17] + map[bool]string{true: "1", false: "0"}[s.id()[17] == '0']
	ids = append(ids, wrongCheck["buyerIdNumber"].(string))
	b.postJSON("/v1/orders", b.platform, wrongCheck, http.StatusCreated)
	b.drain()

	c := b.chain(b.fx, codePlatform, "PRIV1")
	if c.Verdict != "verified" {
		t.Fatalf("chain: %+v", c)
	}
	if got := c.Documents["order"].Doc["buyerIdNumber"]; got != maskOf(s.id()) {
		t.Fatalf("order's buyerIdNumber answered as %v, want the mask %s", got, maskOf(s.id()))
	}
	if got := c.Documents["payment"].Doc["payerIdNumber"]; got != maskOf(s.id()) {
		t.Fatalf("payerIdNumber answered as %v", got)
	}
	b.chain(b.admin, codePlatform, "PRIV2")
	b.chain(b.platform, codePlatform, "QH20151111000001")
	for _, d := range c.Documents {
		b.send(req{method: "GET", path: "/v1/documents/" + d.ID, key: b.admin})
	}

	logs, bodies := b.logs.String(), b.bodies.String()
	if len(logs) < 1000 || !strings.Contains(logs, "http request") {
		t.Fatalf("too little was logged to prove anything (%d bytes)", len(logs))
	}
	for _, id := range ids {
		// The hidden middle of each number: never in a mask.
		for _, where := range []struct{ name, text string }{{"logs", logs}, {"responses", bodies}} {
			if strings.Contains(where.text, id) || strings.Contains(where.text, id[4:14]) {
				t.Errorf("%s contain ID number %s…", where.name, id[:4])
			}
		}
	}
	if !strings.Contains(bodies, maskOf(fixtureIDs[0])) {
		t.Errorf("responses never show the mask %s", maskOf(fixtureIDs[0]))
	}
}
