package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/hibiken/asynq"
	"github.com/shopspring/decimal"

	"github.com/xbsettle/xbsettle/api"
	"github.com/xbsettle/xbsettle/risk"
	"github.com/xbsettle/xbsettle/settlement"
	"github.com/xbsettle/xbsettle/settlement/clearance"
)

// The parties of the settlement tests' trade chains.
const (
	testPlatform = "4403960001"
	testCarrier  = "4403980001"
)

// tradeSpec is one trade to make verified: an import paid in CNY, or an
// export received in a foreign currency (or CNY).
type tradeSpec struct {
	orderNo  string
	seller   string
	payCode  string
	payRef   string // payTransactionId (import) or payNo (export)
	export   bool
	currency string // export only; imports are in CNY
	goods    decimal.Decimal
}

// paid is what the buyer pays (import: goods plus the retail import tax)
// or what the seller receives (export: the goods, no freight here).
func (s tradeSpec) paid() decimal.Decimal {
	if s.export {
		return s.goods
	}
	return s.goods.Add(importTax(s.goods))
}

// importTax is the retail import tax of goods without consumption tax
// (DESIGN §5): VAT 13% of the price, rounded to the fen, then 70% of it,
// rounded again.
func importTax(goods decimal.Decimal) decimal.Decimal {
	vat := goods.Mul(decimal.RequireFromString("0.13")).Round(2)
	return vat.Mul(decimal.RequireFromString("0.7")).Round(2)
}

// documents are the four documents of a trade, in JSON as the API takes them.
func (s tradeSpec) documents(n int) []string {
	if s.export {
		return []string{
			fmt.Sprintf(`{"type": "export_order", "guid": "EO-%[1]s", "appType": 1, "appTime": "20260316100000", "orderType": "E",
			  "orderNo": %[1]q, "ebpCode": %[2]q, "ebpName": "Qianhai Mall", "ebcCode": %[3]q, "ebcName": "Seller %[3]s",
			  "goodsValue": %[4]q, "freight": "0.00", "currency": %[5]q, "payTransactionId": %[6]q,
			  "lines": [{"gnum": 1, "itemName": "Tea set", "qty": "1", "price": %[4]q, "totalPrice": %[4]q}]}`,
				s.orderNo, testPlatform, s.seller, s.goods.StringFixed(2), s.currency, s.payRef),
			fmt.Sprintf(`{"type": "export_receipt", "guid": "ER-%[1]s", "appType": 1, "appTime": "2026-03-16T11:00:00+08:00",
			  "payCode": %[2]q, "payName": "Example Payment Co.", "payNo": %[3]q, "orderNo": %[1]q, "ebpCode": %[4]q,
			  "ebpName": "Qianhai Mall", "charge": %[5]q, "currency": %[6]q, "accountingDate": "20260316105500"}`,
				s.orderNo, s.payCode, s.payRef, testPlatform, s.goods.StringFixed(2), s.currency),
			fmt.Sprintf(`{"type": "export_waybill", "guid": "EW-%[1]s", "appType": 1, "appTime": "20260316120000",
			  "logisticsCode": %[2]q, "logisticsName": "Example Express", "logisticsNo": "EXP%[1]s", "orderNo": %[1]q,
			  "freight": "0.00", "currency": %[3]q, "weight": "1.20"}`, s.orderNo, testCarrier, s.currency),
			fmt.Sprintf(`{"type": "export_inventory", "guid": "EI-%[1]s", "appType": 1, "appTime": "20260316130000",
			  "orderNo": %[1]q, "ebpCode": %[2]q, "ebpName": "Qianhai Mall", "ebcCode": %[3]q, "ebcName": "Seller %[3]s",
			  "logisticsNo": "EXP%[1]s", "logisticsCode": %[4]q, "copNo": "ECOP%[1]s", "ieFlag": "E", "tradeMode": "9610",
			  "freight": "0.00", "currency": %[5]q,
			  "lines": [{"gnum": 1, "itemName": "Tea set", "gcode": "6911101900", "gname": "Porcelain tea set",
			             "qty": "1", "price": %[6]q, "totalPrice": %[6]q}]}`,
				s.orderNo, testPlatform, s.seller, testCarrier, s.currency, s.goods.StringFixed(2)),
		}
	}
	id, name, tel := residentID(n), fmt.Sprintf("Buyer %04d", n), fmt.Sprintf("138%08d", n)
	goods, tax, paid := s.goods.StringFixed(2), importTax(s.goods).StringFixed(2), s.paid().StringFixed(2)
	return []string{
		fmt.Sprintf(`{"type": "order", "guid": "IO-%[1]s", "appType": 1, "appTime": "20260316090000", "orderType": "I",
		  "orderNo": %[1]q, "ebpCode": %[2]q, "ebpName": "Qianhai Mall", "ebcCode": %[3]q, "ebcName": "Seller %[3]s",
		  "goodsValue": %[4]q, "freight": "0.00", "discount": "0.00", "taxTotal": %[5]q, "acturalPaid": %[6]q,
		  "currency": "CNY", "buyerRegNo": "reg-%[1]s", "buyerName": %[7]q, "buyerTelephone": %[8]q, "buyerIdType": "1",
		  "buyerIdNumber": %[9]q, "payCode": %[10]q, "payName": "Example Payment Co.", "payTransactionId": %[11]q,
		  "consignee": %[7]q, "consigneeTelephone": %[8]q, "consigneeAddress": "Nanshan District, Shenzhen",
		  "lines": [{"gnum": 1, "itemNo": "SKU-1", "itemName": "Infant formula", "gmodel": "900g", "unit": "122",
		             "qty": "1", "price": %[4]q, "totalPrice": %[4]q, "currency": "CNY", "country": "601"}]}`,
			s.orderNo, testPlatform, s.seller, goods, tax, paid, name, tel, id, s.payCode, s.payRef),
		fmt.Sprintf(`{"type": "payment", "guid": "IP-%[1]s", "appType": 1, "appTime": "20260316093000", "payCode": %[2]q,
		  "payName": "Example Payment Co.", "payTransactionId": %[3]q, "orderNo": %[1]q, "ebpCode": %[4]q,
		  "ebpName": "Qianhai Mall", "payerIdType": "1", "payerIdNumber": %[5]q, "payerName": %[6]q, "telephone": %[7]q,
		  "amountPaid": %[8]q, "currency": "CNY", "payTime": "20260316092900"}`,
			s.orderNo, s.payCode, s.payRef, testPlatform, id, name, tel, paid),
		fmt.Sprintf(`{"type": "waybill", "guid": "IW-%[1]s", "appType": 1, "appTime": "20260316100000",
		  "logisticsCode": %[2]q, "logisticsName": "Example Express", "logisticsNo": "EX%[1]s", "orderNo": %[1]q,
		  "freight": "0.00", "insuredFee": "0.00", "currency": "CNY", "weight": "1.00", "packNo": 1,
		  "consignee": %[3]q, "consigneeAddress": "Nanshan District, Shenzhen", "consigneeTelephone": %[4]q}`,
			s.orderNo, testCarrier, name, tel),
		fmt.Sprintf(`{"type": "inventory", "guid": "II-%[1]s", "appType": 1, "appTime": "20260316103000", "orderNo": %[1]q,
		  "ebpCode": %[2]q, "ebpName": "Qianhai Mall", "ebcCode": %[3]q, "ebcName": "Seller %[3]s",
		  "logisticsNo": "EX%[1]s", "logisticsCode": %[4]q, "copNo": "COP%[1]s", "ieFlag": "I", "declTime": "20260316",
		  "customsCode": "5349", "portCode": "5349", "buyerIdType": "1", "buyerIdNumber": %[5]q, "buyerName": %[6]q,
		  "buyerTelephone": %[7]q, "consigneeAddress": "Nanshan District, Shenzhen", "tradeMode": "9610", "country": "601",
		  "freight": "0.00", "insuredFee": "0.00", "currency": "CNY", "grossWeight": "1.00", "netWeight": "0.90",
		  "lines": [{"gnum": 1, "itemNo": "SKU-1", "itemName": "Infant formula", "gcode": "1901101000",
		             "gname": "Infant formula", "gmodel": "900g", "country": "601", "currency": "CNY", "qty": "1",
		             "unit": "122", "price": %[8]q, "totalPrice": %[8]q}]}`,
			s.orderNo, testPlatform, s.seller, testCarrier, id, name, tel, goods),
	}
}

// verifyTrades makes the trades verified chains through the clearance API:
// the four documents of each are posted by their declarants (the platform
// its orders and inventories, the institution its payments, the carrier its
// waybills), and the clearance worker matches the chains. The enterprise
// registry has no API yet, so the parties are registered directly.
func (b *bundle) verifyTrades(specs []tradeSpec) {
	b.t.Helper()
	ctx := context.Background()
	seen := map[string]bool{}
	var es []clearance.Enterprise
	register := func(code, kind string) {
		if !seen[code] {
			seen[code] = true
			es = append(es, clearance.Enterprise{CustomsCode: code, Name: "Enterprise " + code, Kind: kind})
		}
	}
	register(testPlatform, "platform")
	register(testCarrier, "carrier")
	platform, carrier := b.key(api.RolePlatform, testPlatform), b.key(api.RoleCarrier, testCarrier)
	institutions := map[string]string{}
	// Orders and inventories first, so that the waybills find their chain.
	batches := map[string][]json.RawMessage{}
	var order []string
	add := func(key, js string) {
		if _, ok := batches[key]; !ok {
			order = append(order, key)
		}
		batches[key] = append(batches[key], json.RawMessage(js))
	}
	for i, s := range specs {
		register(s.seller, "seller")
		register(s.payCode, "payment_institution")
		if institutions[s.payCode] == "" {
			institutions[s.payCode] = b.key(api.RolePaymentInstitution, s.payCode)
		}
		docs := s.documents(i) // order, payment, waybill, inventory
		add(platform, docs[0])
		add(platform, docs[3])
		add(institutions[s.payCode], docs[1])
		add(carrier, docs[2])
	}
	if err := b.clr.RegisterEnterprises(ctx, es); err != nil {
		b.t.Fatal(err)
	}
	b.startWorkers()
	for _, key := range order {
		docs := batches[key]
		for start := 0; start < len(docs); start += 500 {
			r := b.do(req{method: "POST", path: "/v1/documents/batch", key: key,
				body: map[string]any{"documents": docs[start:min(start+500, len(docs))]}})
			if r.Status != http.StatusCreated {
				b.t.Fatalf("post documents: %d %.500s", r.Status, r.Body)
			}
		}
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		var verified int
		if err := b.db.Get(&verified, `SELECT count(*) FROM trade_chains WHERE tenant_id = $1 AND status = 'verified'`, testPlatform); err != nil {
			b.t.Fatal(err)
		}
		if verified == len(specs) {
			break
		}
		if time.Now().After(deadline) {
			r := b.do(req{method: "GET", path: "/v1/chains/" + testPlatform + "/" + specs[0].orderNo, key: platform})
			b.t.Fatalf("%d of %d chains verified after 60 s; the first: %s", verified, len(specs), r.Body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	var chain struct {
		Verdict string `json:"verdict"`
	}
	b.do(req{method: "GET", path: "/v1/chains/" + testPlatform + "/" + specs[0].orderNo, key: platform}).into(b.t, &chain)
	if chain.Verdict != "verified" {
		b.t.Fatalf("chain %s: %q", specs[0].orderNo, chain.Verdict)
	}
}

// startWorkers runs the clearance, settlement and risk Asynq handlers on the
// test's Redis, as `xbsettle worker` does, until the test ends.
func (b *bundle) startWorkers() {
	b.workers.Do(func() {
		srv := asynq.NewServer(b.redis, asynq.Config{Concurrency: 4,
			Queues: map[string]int{clearance.QueueName: 1, settlement.QueueName: 1, risk.QueueName: 1}, LogLevel: asynq.ErrorLevel})
		mux := asynq.NewServeMux()
		clearance.RegisterTasks(mux, b.clr)
		settlement.RegisterTasks(mux, b.settle)
		risk.RegisterTasks(mux, b.risk)
		if err := srv.Start(mux); err != nil {
			b.t.Fatal(err)
		}
		b.t.Cleanup(srv.Shutdown)
	})
}
