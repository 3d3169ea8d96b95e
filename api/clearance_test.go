package api_test

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// fixtureIDs are the buyers' ID numbers in the shared fixtures.
var fixtureIDs = []string{"44030519900101123X", "110105198512120022"}

// postFixtures posts the four fixture messages, each with its declarant's key.
func (b *clearanceBundle) postFixtures() map[string][]storedDoc {
	b.t.Helper()
	out := map[string][]storedDoc{}
	for _, f := range []struct{ file, path, key string }{
		{"ceb311-orders.xml", "/v1/orders", b.platform},
		{"ceb411-payments.xml", "/v1/payments", b.payer},
		{"ceb511-waybills.xml", "/v1/waybills", b.carrier},
		{"ceb621-inventories.xml", "/v1/inventories", b.platform},
	} {
		raw, err := os.ReadFile("../settlement/clearance/testdata/" + f.file)
		if err != nil {
			b.t.Fatal(err)
		}
		r := b.postXML(f.path, f.key, string(raw))
		if r.Status != http.StatusCreated {
			b.t.Fatalf("POST %s %s: %d %s", f.path, f.file, r.Status, r.Body)
		}
		var docs struct{ Documents []storedDoc }
		r.into(b.t, &docs)
		for _, d := range docs.Documents {
			if d.Receipt.Status != 2 {
				b.t.Errorf("%s answered with receipt %+v, want status 2 (declared)", d.Kind, d.Receipt)
			}
		}
		out[f.path] = docs.Documents
	}
	return out
}

// TestClearanceFixtures: the shared fixtures through the API and the worker:
// order 1 verified with tax 28.21 (310 × 13% × 70%: the discount is a
// non-cash payment inside goodsValue and does not lower the taxable price;
// the declared 26.39 is a TAX_TOTAL warning), order 2 mismatched on PAID_AMOUNT with
// its inventory missing; each document's receipt readable by its submitter
// while the chain's order or inventory names it. Order 2's waybill is not
// named (orders name no carrier, its inventory is missing): its carrier
// does not read it, its platform does.
func TestClearanceFixtures(t *testing.T) {
	t.Parallel()
	b := clearanceSetup(t)
	posted := b.postFixtures()
	b.drain()

	c1 := b.chain(b.platform, codePlatform, "QH20151111000001")
	if c1.Verdict != "verified" || c1.Tax == nil || c1.Tax.Total != "28.21" || c1.Tax.TaxablePrice != "310.00" || len(c1.Documents) != 4 {
		t.Fatalf("order 1: %+v", c1)
	}
	c2 := b.chain(b.payer, codePlatform, "QH20151111000002")
	if c2.Verdict != "mismatched" || !slices.Equal(c2.failedCodes(), []string{"PAID_AMOUNT"}) || !slices.Equal(c2.Missing, []string{"INVENTORY"}) || c2.Tax != nil {
		t.Fatalf("order 2: %+v", c2)
	}
	for path, key := range map[string]string{"/v1/orders": b.platform, "/v1/payments": b.payer, "/v1/waybills": b.carrier, "/v1/inventories": b.platform} {
		for _, d := range posted[path] {
			reader := key
			if d.Kind == "WAYBILL" && d.Chain.OrderNo == "QH20151111000002" {
				wantProblem(t, b.send(req{method: "GET", path: "/v1/documents/" + d.ID, key: key}), http.StatusNotFound, "DOCUMENT_NOT_FOUND")
				reader = b.platform
			}
			r := b.send(req{method: "GET", path: "/v1/documents/" + d.ID, key: reader})
			var got storedDoc
			r.into(t, &got)
			want := 399
			if d.Chain.OrderNo == "QH20151111000002" {
				want = map[string]int{"ORDER": 100, "PAYMENT": 100, "WAYBILL": 120}[d.Kind]
			}
			if r.Status != http.StatusOK || got.Receipt.Status != want {
				t.Errorf("GET %s %s of %s: %d receipt %+v, want %d", d.Kind, d.ID, d.Chain.OrderNo, r.Status, got.Receipt, want)
			}
		}
	}
}

// TestCEB311XMLStoresWhatJSONStores: three orders of two lines each stored
// from one CEB311 message and, in another database, from three JSON
// documents give identical rows. Malformed XML, a foreign namespace and 101
// heads are refused with a 400 naming the problem, and store nothing.
func TestCEB311XMLStoresWhatJSONStores(t *testing.T) {
	t.Parallel()
	var orders []map[string]any
	for n := range 3 {
		orders = append(orders, spec{orderNo: fmt.Sprintf("XML%d", n), buyer: 100 + n, goods: "300.00", lines: 2}.order())
	}
	const ns = "http://www.chinaport.gov.cn/ceb"
	viaXML, viaJSON := clearanceSetup(t), clearanceSetup(t)
	if r := viaXML.postXML("/v1/orders", viaXML.platform, cebXML("CEB311", "Order", ns, orders)); r.Status != http.StatusCreated {
		t.Fatalf("XML: %d %s", r.Status, r.Body)
	}
	for _, o := range orders {
		viaJSON.postJSON("/v1/orders", viaJSON.platform, o, http.StatusCreated)
	}
	const rows = `SELECT tenant_id, order_no, kind, message, guid, app_type, app_time, body::text, id_hash, id_valid
		FROM clearance_documents ORDER BY guid`
	var a, j []struct {
		Tenant, OrderNo, Kind, Message, GUID string
		AppType                              int
		AppTime                              time.Time
		Body                                 string
		IDHash                               string
		IDValid                              bool
	}
	for _, x := range []struct {
		b   *clearanceBundle
		out any
	}{{viaXML, &a}, {viaJSON, &j}} {
		dbRows, err := x.b.db.Query(rows)
		if err != nil {
			t.Fatal(err)
		}
		for dbRows.Next() {
			var r struct {
				Tenant, OrderNo, Kind, Message, GUID string
				AppType                              int
				AppTime                              time.Time
				Body                                 string
				IDHash                               string
				IDValid                              bool
			}
			if err := dbRows.Scan(&r.Tenant, &r.OrderNo, &r.Kind, &r.Message, &r.GUID, &r.AppType, &r.AppTime, &r.Body, &r.IDHash, &r.IDValid); err != nil {
				t.Fatal(err)
			}
			r.AppTime = r.AppTime.UTC()
			out := x.out.(*[]struct {
				Tenant, OrderNo, Kind, Message, GUID string
				AppType                              int
				AppTime                              time.Time
				Body                                 string
				IDHash                               string
				IDValid                              bool
			})
			*out = append(*out, r)
		}
		dbRows.Close()
	}
	if len(a) != 3 || !slices.Equal(a, j) {
		t.Fatalf("XML stored\n%+v\nJSON stored\n%+v", a, j)
	}
	if strings.Count(a[0].Body, `"gnum"`) != 2 {
		t.Fatalf("stored body lacks its two lines: %s", a[0].Body)
	}

	b := clearanceSetup(t)
	var many []map[string]any
	for n := range 101 {
		many = append(many, spec{orderNo: fmt.Sprintf("MANY%03d", n), buyer: 200 + n, goods: "10.00"}.order())
	}
	good := cebXML("CEB311", "Order", ns, orders)
	for _, bad := range []struct{ name, body, code string }{
		{"malformed", good[:len(good)-40], "XML_MALFORMED"},
		{"wrong namespace", cebXML("CEB311", "Order", "http://example.com/not-ceb", orders), "XML_NAMESPACE"},
		{"101 heads", cebXML("CEB311", "Order", ns, many), "TOO_MANY_DOCUMENTS"},
		{"a payment message on the orders endpoint", strings.ReplaceAll(good, "CEB311", "CEB411"), "XML_ROOT"},
	} {
		r := b.postXML("/v1/orders", b.platform, bad.body)
		p := wantProblem(t, r, http.StatusBadRequest, bad.code)
		if p.Detail == "" {
			t.Errorf("%s: no detail", bad.name)
		}
	}
	if n := b.clearanceRows(); n != 0 {
		t.Fatalf("%d clearance rows after refused messages", n)
	}
}

// TestBadDocumentsStoreNothing: field errors come back at once, by path, and
// nothing of the request is stored — a single document, an XML message
// with one bad head, or a batch with one bad document.
func TestBadDocumentsStoreNothing(t *testing.T) {
	t.Parallel()
	b := clearanceSetup(t)
	s := spec{orderNo: "BAD1", buyer: 300, goods: "100.00"}

	o := s.order()
	o["acturalPaid"] = 100.0 // a JSON number
	o["buyerIdNumber"] = "12345"
	delete(o, "ebcName")
	p := wantProblem(t, b.send(req{method: "POST", path: "/v1/orders", key: b.platform, body: o}), http.StatusUnprocessableEntity, "VALIDATION_FAILED")
	for _, want := range [][2]string{{"acturalPaid", "AMOUNT_NOT_STRING"}, {"buyerIdNumber", "INVALID_ID_NUMBER"}, {"ebcName", "REQUIRED"}} {
		if !hasField(p, want[0], want[1]) {
			t.Errorf("errors %s lack %s %s", fieldList(p), want[0], want[1])
		}
	}

	second := spec{orderNo: "BAD2", buyer: 301, goods: "100.00"}.order()
	second["currency"] = "USD"
	r := b.postXML("/v1/orders", b.platform, cebXML("CEB311", "Order", "http://www.chinaport.gov.cn/ceb", []map[string]any{s.order(), second}))
	if p := wantProblem(t, r, http.StatusUnprocessableEntity, "VALIDATION_FAILED"); !hasField(p, "documents[1].currency", "INVALID_CURRENCY") {
		t.Errorf("XML errors %s", fieldList(p))
	}

	pay := s.payment()
	pay["amountPaid"] = "-1.00"
	r = b.send(req{method: "POST", path: "/v1/documents/batch", key: b.admin, body: map[string]any{"documents": []any{s.order(), pay, s.waybill()}}})
	if p := wantProblem(t, r, http.StatusUnprocessableEntity, "VALIDATION_FAILED"); !hasField(p, "documents[1].amountPaid", "NEGATIVE") {
		t.Errorf("batch errors %s", fieldList(p))
	}
	noType := s.order()
	delete(noType, "type")
	r = b.send(req{method: "POST", path: "/v1/documents/batch", key: b.admin, body: map[string]any{"documents": []any{noType}}})
	if p := wantProblem(t, r, http.StatusUnprocessableEntity, "VALIDATION_FAILED"); !hasField(p, "documents[0].type", "REQUIRED") {
		t.Errorf("batch errors %s", fieldList(p))
	}
	wantProblem(t, b.send(req{method: "POST", path: "/v1/orders", key: b.platform, body: "{"}), http.StatusBadRequest, "MALFORMED_JSON")
	wantProblem(t, b.send(req{method: "POST", path: "/v1/orders", key: b.platform, body: "x", headers: []string{"Content-Type", "text/plain"}}),
		http.StatusUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE")

	if n := b.clearanceRows(); n != 0 {
		t.Fatalf("%d clearance rows after refused requests", n)
	}

	// A conflicting version refuses its whole batch.
	b.postJSON("/v1/orders", b.platform, s.order(), http.StatusCreated)
	changed := s.order()
	changed["buyerName"] = "Someone Else"
	r = b.send(req{method: "POST", path: "/v1/documents/batch", key: b.admin, body: map[string]any{"documents": []any{s.payment(), changed}}})
	wantProblem(t, r, http.StatusConflict, "DOCUMENT_CONFLICT")
	var docs int
	if err := b.db.Get(&docs, `SELECT count(*) FROM clearance_documents`); err != nil || docs != 1 {
		t.Fatalf("%d documents (%v), want 1", docs, err)
	}
	// The same version again is a replay: 200, the same id.
	first := b.postJSON("/v1/orders", b.platform, s.order(), http.StatusOK)
	var got storedDoc
	first.into(t, &got)
	if got.Chain == nil || got.Chain.OrderNo != "BAD1" {
		t.Fatalf("replay answered %s", first.Body)
	}
}

// TestClearanceRoles: DESIGN §2 — each document only from a party it names
// in that role (or an admin); a chain and its documents readable by its
// platform, the parties its order and inventory name (the seller too),
// fx_bureau and admin, anyone else 404.
func TestClearanceRoles(t *testing.T) {
	t.Parallel()
	b := clearanceSetup(t)
	s := spec{orderNo: "ROLE1", buyer: 400, goods: "100.00"}
	for _, bad := range []struct {
		path, key string
		body      map[string]any
	}{
		{"/v1/orders", b.stranger, s.order()},         // a platform the order does not name
		{"/v1/orders", b.payer, s.order()},            // wrong role for orders
		{"/v1/payments", b.platform, s.payment()},     // wrong role for payments
		{"/v1/waybills", b.payer, s.waybill()},        // wrong role for waybills
		{"/v1/inventories", b.carrier, s.inventory()}, // wrong role for inventories
		{"/v1/documents/batch", b.stranger, map[string]any{"documents": []any{s.order()}}},
		{"/v1/documents/batch", b.platform, map[string]any{"documents": []any{s.order(), s.payment()}}}, // the payment is not the platform's
	} {
		wantProblem(t, b.send(req{method: "POST", path: bad.path, key: bad.key, body: bad.body}), http.StatusForbidden, "FORBIDDEN")
	}
	other := spec{orderNo: "ROLE2", buyer: 401, goods: "100.00"}.payment()
	other["payCode"] = codeStranger
	wantProblem(t, b.send(req{method: "POST", path: "/v1/payments", key: b.payer, body: other}), http.StatusForbidden, "FORBIDDEN")
	if n := b.clearanceRows(); n != 0 {
		t.Fatalf("%d rows after refused requests", n)
	}

	var ids []string
	for _, d := range s.docs(b) {
		var got storedDoc
		b.postJSON(d.path, d.key, d.body, http.StatusCreated).into(t, &got)
		ids = append(ids, got.ID)
	}
	b.drain()
	for _, key := range []string{b.platform, b.seller, b.payer, b.carrier, b.fx, b.admin} {
		if v := b.chain(key, codePlatform, "ROLE1"); v.Verdict != "verified" {
			t.Fatalf("chain read: %+v", v)
		}
	}
	for _, key := range []string{b.stranger, b.bank} {
		wantProblem(t, b.send(req{method: "GET", path: "/v1/chains/" + codePlatform + "/ROLE1", key: key}), http.StatusNotFound, "CHAIN_NOT_FOUND")
	}
	wantProblem(t, b.send(req{method: "GET", path: "/v1/chains/" + codePlatform + "/NOPE", key: b.admin}), http.StatusNotFound, "CHAIN_NOT_FOUND")
	// A document is read as its chain is: the platform reads the payment.
	if r := b.send(req{method: "GET", path: "/v1/documents/" + ids[1], key: b.platform}); r.Status != http.StatusOK {
		t.Fatalf("platform reads the chain's payment: %d %s", r.Status, r.Body)
	}
	wantProblem(t, b.send(req{method: "GET", path: "/v1/documents/" + ids[1], key: b.stranger}), http.StatusNotFound, "DOCUMENT_NOT_FOUND")
	wantProblem(t, b.send(req{method: "GET", path: "/v1/documents/not-a-uuid", key: b.platform}), http.StatusNotFound, "DOCUMENT_NOT_FOUND")
	for i, key := range []string{b.platform, b.payer, b.carrier, b.platform} {
		if r := b.send(req{method: "GET", path: "/v1/documents/" + ids[i], key: key}); r.Status != http.StatusOK {
			t.Fatalf("submitter reads document %d: %d %s", i, r.Status, r.Body)
		}
	}
	wantProblem(t, b.send(req{method: "GET", path: "/v1/chains/" + codePlatform + "/ROLE1"}), http.StatusUnauthorized, "UNAUTHENTICATED")
}

// TestAnnualLimitAndCancellation: one buyer's orders of CNY 5,000 each; the
// 6th in the calendar year fails ANNUAL_LIMIT (30,000 > 26,000); cancelling
// one gives its quota back and a new order passes.
func TestAnnualLimitAndCancellation(t *testing.T) {
	t.Parallel()
	b := clearanceSetup(t)
	day := time.Date(2024, 2, 1, 10, 0, 0, 0, time.UTC)
	post := func(n int) chainView {
		t.Helper()
		s := spec{orderNo: fmt.Sprintf("YEAR%d", n), buyer: 500, goods: "5000.00", at: day.AddDate(0, 0, n)}
		b.postJSON("/v1/documents/batch", b.admin, map[string]any{"documents": []any{s.order(), s.payment(), s.waybill(), s.inventory()}}, http.StatusCreated)
		b.drain()
		return b.chain(b.platform, codePlatform, s.orderNo)
	}
	for n := 1; n <= 5; n++ {
		if v := post(n); v.Verdict != "verified" {
			t.Fatalf("order %d: %+v", n, v)
		}
	}
	if v := post(6); v.Verdict != "mismatched" || !slices.Equal(v.failedCodes(), []string{"ANNUAL_LIMIT"}) {
		t.Fatalf("6th order: %+v", v)
	}
	cancel := map[string]any{"guid": "YEAR1-CANCEL", "appType": 1, "appTime": day.AddDate(0, 0, 10).Format(time.RFC3339),
		"orderNo": "YEAR1", "ebpCode": codePlatform, "ebcCode": codeSeller, "reason": "cancelled by the buyer"}
	var got storedDoc
	b.postJSON("/v1/cancellations", b.platform, cancel, http.StatusCreated).into(t, &got)
	if got.Kind != "CANCELLATION" || got.Receipt.Status != 2 {
		t.Fatalf("cancellation answered %+v", got)
	}
	b.drain()
	if v := b.chain(b.platform, codePlatform, "YEAR1"); v.State != "cancelled" {
		t.Fatalf("cancelled chain: %+v", v)
	}
	if v := post(7); v.Verdict != "verified" {
		t.Fatalf("new order after the cancellation: %+v", v)
	}
	// The 6th was returned by customs; freed quota does not revive it.
	if v := b.chain(b.platform, codePlatform, "YEAR6"); v.Verdict != "mismatched" {
		t.Fatalf("6th order after the cancellation: %+v", v)
	}
}

// TestThousandChainsConcurrently: 4,000 documents of 1,000 chains posted by
// many clients at once in random order end, once the worker has drained
// the queue, with the verdict each chain's documents call for.
func TestThousandChainsConcurrently(t *testing.T) {
	t.Parallel()
	b := clearanceSetup(t)
	const chains = 1000
	type want struct {
		verdict string
		codes   []string
	}
	wants := map[string]want{}
	var posts []posting4
	for n := range chains {
		s := spec{orderNo: fmt.Sprintf("CC%04d", n), buyer: 10000 + n, goods: "100.00"}
		w := want{"verified", nil}
		switch n % 4 {
		case 1:
			s.paid, w = "99.00", want{"mismatched", []string{"PAID_AMOUNT"}}
		case 2:
			s.consTel, w = "13900000000", want{"mismatched", []string{"CONSIGNEE"}}
		case 3:
			s.logistic, w = "LN-ELSEWHERE", want{"mismatched", []string{"WAYBILL_REF"}}
		}
		wants[s.orderNo] = w
		posts = append(posts, s.docs(b)...)
	}
	rand.Shuffle(len(posts), func(i, j int) { posts[i], posts[j] = posts[j], posts[i] })
	work := make(chan posting4)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures []string
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range work {
				r := b.do(req{method: "POST", path: p.path, key: p.key, body: p.body})
				if r.Status != http.StatusCreated {
					mu.Lock()
					failures = append(failures, fmt.Sprintf("%s %s: %d %s", p.path, p.body["guid"], r.Status, r.Body))
					mu.Unlock()
				}
			}
		}()
	}
	for _, p := range posts {
		work <- p
	}
	close(work)
	wg.Wait()
	if len(failures) > 0 {
		t.Fatalf("%d posts failed, e.g. %s", len(failures), failures[0])
	}
	b.drain()
	var parked int
	if err := b.db.Get(&parked, `SELECT count(*) FROM clearance_parked_waybills`); err != nil || parked != 0 {
		t.Fatalf("%d waybills parked (%v)", parked, err)
	}
	var rows []struct {
		OrderNo string `db:"order_no"`
		Status  string `db:"status"`
		Codes   string `db:"codes"`
	}
	if err := b.db.Select(&rows, `SELECT c.order_no, c.status, coalesce((SELECT string_agg(DISTINCT f->>'code', ',')
		FROM jsonb_array_elements(v.verdict->'failed_rules') f), '') AS codes
		FROM clearance_chains c JOIN clearance_verdicts v USING (tenant_id, order_no)
		WHERE v.version = c.verdict_version`); err != nil {
		t.Fatal(err)
	}
	if len(rows) != chains {
		t.Fatalf("%d chains with a verdict, want %d", len(rows), chains)
	}
	for _, r := range rows {
		w := wants[r.OrderNo]
		if r.Status != w.verdict || r.Codes != strings.Join(w.codes, ",") {
			t.Errorf("%s: %s %q, want %s %v", r.OrderNo, r.Status, r.Codes, w.verdict, w.codes)
		}
	}
	var trades int
	if err := b.db.Get(&trades, `SELECT count(*) FROM trade_chains WHERE status = 'verified'`); err != nil || trades != chains/4 {
		t.Fatalf("%d verified trade chains (%v), want %d", trades, err, chains/4)
	}
}
