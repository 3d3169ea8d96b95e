package api_test

import (
	"fmt"
	"maps"
	"net/http"
	"testing"
	"time"

	"github.com/xbsettle/xbsettle/api"
)

// An institution and a carrier that are no party to the hostile test's
// chains, and declare as themselves.
const (
	codeOtherPayer   = "4403169D3X"
	codeOtherCarrier = "4403980009"
)

const cebNS = "http://www.chinaport.gov.cn/ceb"

// hostileChainRequest is one request a party that is not the chain's tries, and how it
// must be refused.
type hostileChainRequest struct {
	name        string
	method      string
	path, key   string
	body        any
	xml         bool
	status      int
	code        string
	field, fcod string // a field error the problem must list, if any
}

// revised is a later version of a document (appType 2, an hour later),
// with changes applied.
func revised(doc map[string]any, guid string, changes map[string]any) map[string]any {
	out := maps.Clone(doc)
	at, _ := time.Parse(time.RFC3339, doc["appTime"].(string))
	out["guid"], out["appType"], out["appTime"] = guid, 2, at.Add(time.Hour).Format(time.RFC3339)
	maps.Copy(out, changes)
	return out
}

// closing is a cancellation (CEB623) or return (CEB625) of the chain.
func closing(orderNo, typ, guid string) map[string]any {
	return map[string]any{"type": typ, "guid": guid, "appType": 1, "appTime": "2024-03-02T10:00:00Z",
		"orderNo": orderNo, "ebpCode": codePlatform, "ebcCode": codeSeller, "reason": "taken over"}
}

// hostileState is what no refused request may change: every chain's
// verdict, state, documents in force, versions and dirty version, and the
// parked waybills.
func (b *clearanceBundle) hostileState(chains ...string) string {
	b.t.Helper()
	out := ""
	for _, orderNo := range chains {
		v := b.chain(b.admin, codePlatform, orderNo)
		inForce := map[string]string{}
		for k, d := range v.Documents {
			inForce[k] = d.ID
		}
		var versions, dirty int
		if err := b.db.QueryRow(`SELECT (SELECT count(*) FROM clearance_documents WHERE tenant_id = $1 AND order_no = $2),
			dirty_version FROM clearance_chains WHERE tenant_id = $1 AND order_no = $2`, codePlatform, orderNo).Scan(&versions, &dirty); err != nil {
			b.t.Fatal(err)
		}
		out += fmt.Sprintf("%s: %s %s %v failed %v, in force %v, %d versions, dirty v%d\n",
			orderNo, v.Verdict, v.State, v.Missing, v.failedCodes(), inForce, versions, dirty)
	}
	var parked int
	if err := b.db.Get(&parked, `SELECT count(*) FROM clearance_parked_waybills`); err != nil {
		b.t.Fatal(err)
	}
	return out + fmt.Sprintf("%d parked", parked)
}

// TestHostileChainRequests: parties that are not a chain's try to declare,
// supersede, close and read it, in every form (each endpoint, the batch,
// CEB XML), and to date a version ahead so that nothing supersedes it.
// Each is answered 4xx problem+json with a stable code, and re-reading the
// chains shows nothing changed.
func TestHostileChainRequests(t *testing.T) {
	t.Parallel()
	b := clearanceSetup(t)
	otherPayer := b.key(api.RolePaymentInstitution, codeOtherPayer)
	otherCarrier := b.key(api.RoleCarrier, codeOtherCarrier)

	// HOST1: a verified chain of the four parties.
	s := spec{orderNo: "HOST1", buyer: 900, goods: "100.00"}
	ids := map[string]string{}
	for _, d := range s.docs(b) {
		var got storedDoc
		b.postJSON(d.path, d.key, d.body, http.StatusCreated).into(t, &got)
		ids[got.Kind] = got.ID
	}
	// HOST2: no order yet; its payment came first, its inventory names the
	// buyer and the carrier.
	s2 := spec{orderNo: "HOST2", buyer: 901, goods: "50.00"}
	var firstPayment storedDoc
	b.postJSON("/v1/payments", b.payer, s2.payment(), http.StatusCreated).into(t, &firstPayment)
	b.postJSON("/v1/inventories", b.platform, s2.inventory(), http.StatusCreated)
	b.drain()
	if v := b.chain(b.platform, codePlatform, "HOST1"); v.Verdict != "verified" {
		t.Fatalf("HOST1: %+v", v)
	}

	order := revised(s.order(), "HOST1-O-X", map[string]any{"acturalPaid": "1.00", "goodsValue": "1.00"})
	payment := revised(s.payment(), "HOST1-P-X", map[string]any{"payCode": codeOtherPayer, "amountPaid": "1.00"})
	waybill := revised(s.waybill(), "HOST1-W-X", map[string]any{"logisticsCode": codeOtherCarrier, "ebpCode": codePlatform})
	inventory := revised(s.inventory(), "HOST1-I-X", map[string]any{"logisticsNo": "LN-HIJACK"})
	cancel, ret := closing("HOST1", "cancellation", "HOST1-C-X"), closing("HOST1", "return", "HOST1-R-X")
	payment2 := revised(s2.payment(), "HOST2-P-X", map[string]any{"payCode": codeOtherPayer})
	waybill2 := revised(s2.waybill(), "HOST2-W-X", map[string]any{"logisticsCode": codeOtherCarrier, "ebpCode": codePlatform})
	future := func(doc map[string]any, guid string) map[string]any {
		return revised(doc, guid, map[string]any{"appTime": "9999-12-31T23:59:59Z"})
	}
	batch := func(docs ...any) map[string]any { return map[string]any{"documents": docs} }
	xml := func(mt, elem string, docs ...map[string]any) string { return cebXML(mt, elem, cebNS, docs) }
	const conflict, forbidden = "CHAIN_PARTY_CONFLICT", "FORBIDDEN"

	rows := []hostileChainRequest{
		// The seller, named as ebcCode, declares none of the platform's documents.
		{name: "seller rewrites the order", path: "/v1/orders", key: b.seller, body: order, status: 409, code: conflict},
		{name: "seller rewrites the inventory", path: "/v1/inventories", key: b.seller, body: inventory, status: 409, code: conflict},
		{name: "seller cancels", path: "/v1/cancellations", key: b.seller, body: cancel, status: 409, code: conflict},
		{name: "seller returns", path: "/v1/returns", key: b.seller, body: ret, status: 409, code: conflict},
		{name: "seller's batch order", path: "/v1/documents/batch", key: b.seller, body: batch(order), status: 409, code: conflict},
		{name: "seller's batch cancellation", path: "/v1/documents/batch", key: b.seller, body: batch(cancel), status: 409, code: conflict},
		{name: "seller's XML order", path: "/v1/orders", key: b.seller, body: xml("CEB311", "Order", order), xml: true, status: 409, code: conflict},
		{name: "seller's XML inventory", path: "/v1/inventories", key: b.seller, body: xml("CEB621", "Inventory", inventory), xml: true, status: 409, code: conflict},
		{name: "seller's XML cancellation", path: "/v1/cancellations", key: b.seller, body: xml("CEB623", "InvtCancel", cancel), xml: true, status: 409, code: conflict},
		{name: "seller's XML return", path: "/v1/returns", key: b.seller, body: xml("CEB625", "InvtRefund", ret), xml: true, status: 409, code: conflict},
		// Another institution or carrier, declaring as itself with a later version.
		{name: "institution the order does not name", path: "/v1/payments", key: otherPayer, body: payment, status: 409, code: conflict},
		{name: "carrier the inventory does not name", path: "/v1/waybills", key: otherCarrier, body: waybill, status: 409, code: conflict},
		{name: "other institution's batch", path: "/v1/documents/batch", key: otherPayer, body: batch(payment), status: 409, code: conflict},
		{name: "other carrier's batch", path: "/v1/documents/batch", key: otherCarrier, body: batch(waybill), status: 409, code: conflict},
		{name: "other institution's XML", path: "/v1/payments", key: otherPayer, body: xml("CEB411", "Payment", payment), xml: true, status: 409, code: conflict},
		{name: "other carrier's XML", path: "/v1/waybills", key: otherCarrier, body: xml("CEB511", "Logistics", waybill), xml: true, status: 409, code: conflict},
		{name: "admin's batch mixing in another institution", path: "/v1/documents/batch", key: b.admin, body: batch(order, payment), status: 409, code: conflict},
		{name: "second institution before the order", path: "/v1/payments", key: otherPayer, body: payment2, status: 409, code: conflict},
		{name: "second institution's batch before the order", path: "/v1/documents/batch", key: otherPayer, body: batch(payment2), status: 409, code: conflict},
		{name: "carrier the waiting inventory does not name", path: "/v1/waybills", key: otherCarrier, body: waybill2, status: 409, code: conflict},
		// Keys declaring as a party they are not.
		{name: "stranger platform's order", path: "/v1/orders", key: b.stranger, body: order, status: 403, code: forbidden},
		{name: "institution posts an order", path: "/v1/orders", key: otherPayer, body: order, status: 403, code: forbidden},
		{name: "institution impersonates the chain's", path: "/v1/payments", key: otherPayer, body: revised(s.payment(), "HOST1-P-Y", nil), status: 403, code: forbidden},
		{name: "carrier impersonates the chain's", path: "/v1/waybills", key: otherCarrier, body: revised(s.waybill(), "HOST1-W-Y", nil), status: 403, code: forbidden},
		{name: "platform posts a payment in a batch", path: "/v1/documents/batch", key: b.platform, body: batch(payment), status: 403, code: forbidden},
		{name: "bank posts a cancellation", path: "/v1/cancellations", key: b.bank, body: cancel, status: 403, code: forbidden},
		// Versions dated so far ahead that nothing could supersede them.
		{name: "order dated 9999", path: "/v1/orders", key: b.platform, body: future(s.order(), "HOST1-O-F"), status: 422, code: "VALIDATION_FAILED", field: "appTime", fcod: "APP_TIME_FUTURE"},
		{name: "payment dated 9999", path: "/v1/payments", key: b.payer, body: future(s.payment(), "HOST1-P-F"), status: 422, code: "VALIDATION_FAILED", field: "appTime", fcod: "APP_TIME_FUTURE"},
		{name: "waybill dated 9999", path: "/v1/waybills", key: b.carrier, body: future(s.waybill(), "HOST1-W-F"), status: 422, code: "VALIDATION_FAILED", field: "appTime", fcod: "APP_TIME_FUTURE"},
		{name: "inventory dated 9999", path: "/v1/inventories", key: b.platform, body: future(s.inventory(), "HOST1-I-F"), status: 422, code: "VALIDATION_FAILED", field: "appTime", fcod: "APP_TIME_FUTURE"},
		{name: "cancellation dated 9999", path: "/v1/cancellations", key: b.platform, body: future(cancel, "HOST1-C-F"), status: 422, code: "VALIDATION_FAILED", field: "appTime", fcod: "APP_TIME_FUTURE"},
		{name: "return dated 9999", path: "/v1/returns", key: b.platform, body: future(ret, "HOST1-R-F"), status: 422, code: "VALIDATION_FAILED", field: "appTime", fcod: "APP_TIME_FUTURE"},
		{name: "batch payment dated 9999", path: "/v1/documents/batch", key: b.payer, body: batch(future(s.payment(), "HOST1-P-G")), status: 422, code: "VALIDATION_FAILED", field: "documents[0].appTime", fcod: "APP_TIME_FUTURE"},
		{name: "XML order dated 9999 in customs time", path: "/v1/orders", key: b.platform, xml: true, status: 422, code: "VALIDATION_FAILED", field: "documents[0].appTime", fcod: "APP_TIME_FUTURE",
			body: xml("CEB311", "Order", revised(s.order(), "HOST1-O-G", map[string]any{"appTime": "99991231235959"}))},
		// Reads by anyone the chain's order and inventory do not name.
		{name: "stranger reads the chain", method: "GET", path: "/v1/chains/" + codePlatform + "/HOST1", key: b.stranger, status: 404, code: "CHAIN_NOT_FOUND"},
		{name: "bank reads the chain", method: "GET", path: "/v1/chains/" + codePlatform + "/HOST1", key: b.bank, status: 404, code: "CHAIN_NOT_FOUND"},
		{name: "other institution reads the chain", method: "GET", path: "/v1/chains/" + codePlatform + "/HOST1", key: otherPayer, status: 404, code: "CHAIN_NOT_FOUND"},
		{name: "other carrier reads the chain", method: "GET", path: "/v1/chains/" + codePlatform + "/HOST1", key: otherCarrier, status: 404, code: "CHAIN_NOT_FOUND"},
		{name: "stranger reads the order", method: "GET", path: "/v1/documents/" + ids["ORDER"], key: b.stranger, status: 404, code: "DOCUMENT_NOT_FOUND"},
		{name: "other institution reads the payment", method: "GET", path: "/v1/documents/" + ids["PAYMENT"], key: otherPayer, status: 404, code: "DOCUMENT_NOT_FOUND"},
		{name: "other carrier reads the waybill", method: "GET", path: "/v1/documents/" + ids["WAYBILL"], key: otherCarrier, status: 404, code: "DOCUMENT_NOT_FOUND"},
		{name: "bank reads the inventory", method: "GET", path: "/v1/documents/" + ids["INVENTORY"], key: b.bank, status: 404, code: "DOCUMENT_NOT_FOUND"},
		{name: "first institution reads the buyer before the order names it", method: "GET", path: "/v1/chains/" + codePlatform + "/HOST2", key: b.payer, status: 404, code: "CHAIN_NOT_FOUND"},
		{name: "first institution reads its payment before the order names it", method: "GET", path: "/v1/documents/" + firstPayment.ID, key: b.payer, status: 404, code: "DOCUMENT_NOT_FOUND"},
	}
	if len(rows) < 30 {
		t.Fatalf("%d rows", len(rows))
	}
	before := b.hostileState("HOST1", "HOST2")
	for _, h := range rows {
		t.Run(h.name, func(t *testing.T) {
			r := req{method: h.method, path: h.path, key: h.key, body: h.body}
			if r.method == "" {
				r.method = "POST"
			}
			if h.xml {
				r.headers = []string{"Content-Type", "application/xml"}
			}
			p := wantProblem(t, b.send(r), h.status, h.code)
			if h.field != "" && !hasField(p, h.field, h.fcod) {
				t.Fatalf("errors %s lack %s %s", fieldList(p), h.field, h.fcod)
			}
			b.drain()
			if after := b.hostileState("HOST1", "HOST2"); after != before {
				t.Fatalf("the chains changed:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
	// The chain's own parties still read and supersede.
	for _, key := range []string{b.platform, b.seller, b.payer, b.carrier, b.fx} {
		b.chain(key, codePlatform, "HOST1")
	}
	b.postJSON("/v1/payments", b.payer, revised(s.payment(), "HOST1-P2", nil), http.StatusCreated)
	b.drain()
	if v := b.chain(b.payer, codePlatform, "HOST1"); v.Verdict != "verified" || v.Documents["payment"].ID == ids["PAYMENT"] {
		t.Fatalf("the institution's own new version: %+v", v)
	}
	if got := b.chain(b.admin, codePlatform, "HOST1").Documents["payment"].Doc["guid"]; got != "HOST1-P2" {
		t.Fatalf("the payment in force is %v, not the institution's new version", got)
	}
}
