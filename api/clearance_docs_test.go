package api_test

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// spec describes one import chain for the API tests: one line of goods at
// price goods, no freight or discount, so P = goods. The zero value of each
// override keeps the documents in agreement.
type spec struct {
	orderNo  string
	buyer    int       // serial of the buyer's resident ID
	goods    string    // "100.00"
	at       time.Time // the order's appTime; the others follow it
	paid     string    // payment amountPaid; default goods
	consTel  string    // waybill consigneeTelephone; default the order's
	logistic string    // inventory logisticsNo; default the waybill's
	lines    int       // order and inventory lines (each goods/lines); default 1
}

func (s spec) id() string { return residentID(s.buyer) }

func (s spec) time(offset time.Duration) string {
	at := s.at
	if at.IsZero() {
		at = time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	}
	return at.Add(offset).Format(time.RFC3339)
}

func (s spec) nLines() int { return max(1, s.lines) }

func (s spec) order() map[string]any {
	lines := []map[string]any{}
	for g := 1; g <= s.nLines(); g++ {
		lines = append(lines, map[string]any{"gnum": g, "itemName": fmt.Sprintf("Item %d", g), "qty": "1",
			"price": s.linePrice(), "totalPrice": s.linePrice(), "currency": "142", "country": "601"})
	}
	return map[string]any{"type": "order", "guid": s.orderNo + "-O", "appType": 1, "appTime": s.time(0), "orderType": "I",
		"orderNo": s.orderNo, "ebpCode": codePlatform, "ebpName": "Qianhai Cross-border Mall", "ebcCode": codeSeller,
		"ebcName": "Shenzhen Example Trading Co.", "goodsValue": s.goods, "freight": "0.00", "discount": "0.00",
		"taxTotal": "0.00", "acturalPaid": s.goods, "currency": "142", "buyerName": "Buyer " + s.orderNo,
		"buyerTelephone": "13800000001", "buyerIdType": "1", "buyerIdNumber": s.id(), "payCode": codePayer,
		"payTransactionId": "PAY-" + s.orderNo, "consignee": "Buyer " + s.orderNo, "consigneeTelephone": "13800000001",
		"consigneeAddress": "Nanshan District, Shenzhen", "lines": lines}
}

// linePrice is goods split evenly over the lines (tests keep it exact).
func (s spec) linePrice() string {
	if s.nLines() == 1 {
		return s.goods
	}
	var whole, frac int
	fmt.Sscanf(s.goods, "%d.%d", &whole, &frac)
	cents := (whole*100 + frac) / s.nLines()
	return fmt.Sprintf("%d.%02d", cents/100, cents%100)
}

func (s spec) payment() map[string]any {
	paid := s.paid
	if paid == "" {
		paid = s.goods
	}
	return map[string]any{"type": "payment", "guid": s.orderNo + "-P", "appType": 1, "appTime": s.time(time.Minute),
		"payCode": codePayer, "payName": "Example Payment Co.", "payTransactionId": "PAY-" + s.orderNo,
		"orderNo": s.orderNo, "ebpCode": codePlatform, "ebpName": "Qianhai Cross-border Mall", "payerIdType": "1",
		"payerIdNumber": s.id(), "payerName": "Buyer " + s.orderNo, "amountPaid": paid, "currency": "CNY",
		"payTime": s.time(time.Minute)}
}

func (s spec) waybill() map[string]any {
	tel := s.consTel
	if tel == "" {
		tel = "13800000001"
	}
	return map[string]any{"type": "waybill", "guid": s.orderNo + "-W", "appType": 1, "appTime": s.time(2 * time.Minute),
		"logisticsCode": codeCarrier, "logisticsName": "Example Express", "logisticsNo": "LN-" + s.orderNo,
		"orderNo": s.orderNo, "freight": "0.00", "currency": "142", "weight": "1.5", "consignee": "Buyer " + s.orderNo,
		"consigneeTelephone": tel, "consigneeAddress": "Nanshan District, Shenzhen"}
}

func (s spec) inventory() map[string]any {
	ln := s.logistic
	if ln == "" {
		ln = "LN-" + s.orderNo
	}
	lines := []map[string]any{}
	for g := 1; g <= s.nLines(); g++ {
		lines = append(lines, map[string]any{"gnum": g, "itemName": fmt.Sprintf("Item %d", g), "gcode": "1901101000",
			"gname": fmt.Sprintf("Item %d", g), "qty": "1", "price": s.linePrice(), "totalPrice": s.linePrice(), "country": "601"})
	}
	return map[string]any{"type": "inventory", "guid": s.orderNo + "-I", "appType": 1, "appTime": s.time(3 * time.Minute),
		"orderNo": s.orderNo, "ebpCode": codePlatform, "ebpName": "Qianhai Cross-border Mall", "ebcCode": codeSeller,
		"ebcName": "Shenzhen Example Trading Co.", "logisticsNo": ln, "logisticsCode": codeCarrier, "copNo": "COP-" + s.orderNo,
		"ieFlag": "I", "buyerIdType": "1", "buyerIdNumber": s.id(), "buyerName": "Buyer " + s.orderNo, "tradeMode": "9610",
		"freight": "0.00", "insuredFee": "0.00", "currency": "142", "lines": lines}
}

// docs are the chain's four documents with the path and key to post each.
func (s spec) docs(b *clearanceBundle) []posting4 {
	return []posting4{
		{"/v1/orders", b.platform, s.order()},
		{"/v1/payments", b.payer, s.payment()},
		{"/v1/waybills", b.carrier, s.waybill()},
		{"/v1/inventories", b.platform, s.inventory()},
	}
}

// posting4 is one document to post.
type posting4 struct {
	path, key string
	body      map[string]any
}

// cebXML writes documents as a CEB message of type mt: each document's
// fields as head elements and its lines as list elements. namespace lets a
// test send a foreign one.
func cebXML(mt, elem, namespace string, docs []map[string]any) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+`<ceb:%sMessage xmlns:ceb="%s" guid="MSG-%s" version="1.0">`, mt, namespace, mt)
	for _, d := range docs {
		fmt.Fprintf(&b, "<ceb:%s><ceb:%sHead>", elem, elem)
		writeFields(&b, d)
		fmt.Fprintf(&b, "</ceb:%sHead>", elem)
		if lines, ok := d["lines"].([]map[string]any); ok {
			for _, l := range lines {
				fmt.Fprintf(&b, "<ceb:%sList>", elem)
				writeFields(&b, l)
				fmt.Fprintf(&b, "</ceb:%sList>", elem)
			}
		}
		fmt.Fprintf(&b, "</ceb:%s>", elem)
	}
	fmt.Fprintf(&b, "<ceb:BaseTransfer><ceb:copCode>%s</ceb:copCode><ceb:copName>Sender</ceb:copName>"+
		"<ceb:dxpMode>DXP</ceb:dxpMode><ceb:dxpId>DXPENT0000000001</ceb:dxpId></ceb:BaseTransfer></ceb:%sMessage>", codePlatform, mt)
	return b.String()
}

// writeFields writes a map's scalar members as elements, in name order.
func writeFields(b *strings.Builder, m map[string]any) {
	names := make([]string, 0, len(m))
	for k, v := range m {
		if _, isList := v.([]map[string]any); !isList && k != "type" {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	for _, k := range names {
		fmt.Fprintf(b, "<ceb:%s>%v</ceb:%s>", k, m[k], k)
	}
}
