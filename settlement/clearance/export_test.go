package clearance

import (
	"slices"
	"testing"
)

// exportDocs is an export chain in JSON, as the API receives it: a tea set
// sold abroad for USD 120 plus USD 15 freight, sent to an overseas warehouse.
var exportDocs = []string{
	`{"type": "export_order", "guid": "E-ORDER-1", "appType": 1, "appTime": "20240301100000", "orderType": "E",
	  "orderNo": "EX20240301001", "ebpCode": "4403960001", "ebpName": "Qianhai Cross-border Mall",
	  "ebcCode": "4403960002", "ebcName": "Shenzhen Example Trading Co.",
	  "goodsValue": "120.00", "freight": "15.00", "currency": "502", "payTransactionId": "RCV0001",
	  "lines": [{"gnum": 1, "itemName": "Tea set", "qty": "2", "price": "60.00", "totalPrice": "120.00"}]}`,
	`{"type": "CEB403", "guid": "E-REC-1", "appType": 1, "appTime": "2024-03-01T11:00:00+08:00",
	  "payCode": "4403169D3W", "payName": "Example Payment Co.", "payNo": "RCV0001",
	  "orderNo": "EX20240301001", "ebpCode": "4403960001", "ebpName": "Qianhai Cross-border Mall",
	  "charge": "135.00", "currency": "USD", "accountingDate": "20240301105500"}`,
	`{"type": "export_waybill", "guid": "E-WB-1", "appType": 1, "appTime": "20240301120000",
	  "logisticsCode": "4403980001", "logisticsName": "Example Express", "logisticsNo": "EXP0000000001",
	  "orderNo": "EX20240301001", "freight": "15.00", "currency": "USD", "weight": "1.20"}`,
	`{"type": "export_inventory", "guid": "E-INV-1", "appType": 1, "appTime": "20240301130000",
	  "orderNo": "EX20240301001", "ebpCode": "4403960001", "ebpName": "Qianhai Cross-border Mall",
	  "ebcCode": "4403960002", "ebcName": "Shenzhen Example Trading Co.", "logisticsNo": "EXP0000000001",
	  "logisticsCode": "4403980001", "copNo": "ECOP0001", "ieFlag": "E", "tradeMode": "9810",
	  "freight": "15.00", "currency": "USD",
	  "lines": [{"gnum": 1, "itemName": "Tea set", "gcode": "6911101900", "gname": "Porcelain tea set",
	             "qty": "2", "price": "60.00", "totalPrice": "120.00"}]}`,
}

func exportChain(t *testing.T) Chain {
	t.Helper()
	var docs []Document
	for _, js := range exportDocs {
		d, err := DecodeJSON([]byte(js), "")
		if err != nil {
			t.Fatalf("decode %s: %v", js[:40], err)
		}
		docs = append(docs, d)
	}
	return chainOf(docs...)
}

func TestExportChain(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		mutate func(c *Chain)
		status Status
		failed []string
	}{
		{"verified without buyer, consignee, tax or limit rules", func(*Chain) {}, StatusVerified, nil},
		{"charge short of goods plus freight", func(c *Chain) { c.Payment.Charge = dec("120.00") },
			StatusMismatched, []string{"PAID_AMOUNT PAYMENT charge"}},
		{"received in another currency", func(c *Chain) { c.Payment.Currency = "EUR" },
			StatusMismatched, []string{"PAID_AMOUNT PAYMENT currency"}},
		{"order names another receipt", func(c *Chain) { c.Order.PayTransactionID = "RCV0002" },
			StatusMismatched, []string{"PAYMENT_REF PAYMENT payNo"}},
		{"inventory names another waybill", func(c *Chain) { c.Inventory.LogisticsNo = "EXP0000000002" },
			StatusMismatched, []string{"WAYBILL_REF INVENTORY logisticsNo"}},
		{"inventory quantity differs", func(c *Chain) { c.Inventory.Lines[0].Qty = dec("3") },
			StatusMismatched, []string{"INVENTORY_LINES INVENTORY lines[gnum=1].qty"}},
		{"far above the retail limits: not an export rule", func(c *Chain) { c.Facts.BuyerYearTotal = dec("1000000") },
			StatusVerified, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := exportChain(t)
			if c.Direction() != Export || c.Order.Currency != "USD" {
				t.Fatalf("direction %s currency %s, want export USD", c.Direction(), c.Order.Currency)
			}
			tt.mutate(&c)
			v := Match(c)
			if v.Status != tt.status || !slices.Equal(failures(v.Failed), append([]string{}, tt.failed...)) {
				t.Fatalf("verdict %s %q, want %s %q", v.Status, failures(v.Failed), tt.status, tt.failed)
			}
			if v.Tax != nil {
				t.Errorf("export chain was taxed: %+v", v.Tax)
			}
		})
	}
}
