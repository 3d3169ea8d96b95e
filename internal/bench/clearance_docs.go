package bench

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/shopspring/decimal"

	"github.com/xbsettle/xbsettle/settlement/clearance"
)

// The clearance scenario's documents: import chains (CEB311 order, CEB411
// payment, CEB511 waybill, CEB621 inventory) as the parties would send them,
// with every figure consistent so that each chain is verified. They are
// written as JSON by hand, like a feed would be, and generated before the
// clock starts: the load generator's own cost is not the server's.

// The parties. A block of chains (one batch per party) belongs to one
// platform, payment institution and carrier; sellers vary per chain.
var (
	benchPlatforms = []string{"4403960101", "4403960102", "4403960103", "4403960104"}
	benchSellers   = func() []string {
		s := make([]string, 20)
		for i := range s {
			s[i] = fmt.Sprintf("44039602%02d", i+1)
		}
		return s
	}()
	benchPayers   = []string{"4403169D3W", "3101169A2K"}
	benchCarriers = []string{"4403980001", "3101980002", "4401980003"}
)

// product is one catalogue item; gcode picks the tariff line (cosmetics and
// perfume carry consumption tax, books 9% VAT).
type product struct {
	itemNo, name, gmodel, unit, gcode, country string
	cents                                      int64 // list price, in fen
}

var catalogue = []product{
	{"SKU-MILK-900G", "婴儿配方奶粉 900g", "900g/罐", "122", "1901101000", "601", 23800},
	{"SKU-VIT-60", "复合维生素片 60粒", "60粒/瓶", "142", "2106909090", "502", 12900},
	{"SKU-CREAM-50", "保湿面霜 50ml", "50ml/瓶", "142", "3304990099", "116", 38000},
	{"SKU-PERF-100", "淡香水 100ml", "100ml/瓶", "142", "3303000000", "305", 56000},
	{"SKU-WINE-750", "干红葡萄酒 750ml", "750ml/瓶", "142", "2204210000", "305", 19900},
	{"SKU-SHOE-42", "跑步鞋", "42码", "025", "6404110000", "133", 45900},
	{"SKU-BOOK-01", "英文原版图书", "精装", "035", "4901990000", "303", 6800},
	{"SKU-EAR-BT", "蓝牙耳机", "入耳式", "007", "8518300000", "116", 39900},
}

var (
	surnames  = []string{"王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周"}
	givens    = []string{"伟", "芳", "娜", "敏", "静", "磊", "洋", "艳", "勇", "军", "杰", "娟"}
	districts = []string{"广东省深圳市南山区科技园", "上海市浦东新区张江路", "北京市朝阳区建国路", "浙江省杭州市西湖区文三路", "四川省成都市武侯区天府大道"}
	regions   = []string{"440305", "310115", "110105", "330106", "510107"}
)

// benchDay is the day the chains are declared on (all in one year, so the
// annual limit counts them together).
var benchDay = time.Date(2026, 11, 11, 0, 0, 0, 0, time.FixedZone("CST", 8*3600))

// chainDocs is one chain's four documents, each a JSON object.
type chainDocs struct {
	order, payment, waybill, inventory []byte
	orderNo, platform                  string
	tax                                string // the retail tax the chain must come out with
}

// genChain builds chain i of n. Buyers place up to six orders each, two of
// them in a row, so that one match task sees chains of one buyer and the
// annual quota is shared; every order stays far below the limits.
func genChain(i, n int, tariff *clearance.Tariff) chainDocs {
	r := rand.New(rand.NewPCG(uint64(i), 0x5eed))
	block := i / benchBatch
	platform := benchPlatforms[block%len(benchPlatforms)]
	seller := benchSellers[i%len(benchSellers)]
	payer := benchPayers[block%len(benchPayers)]
	carrier := benchCarriers[block%len(benchCarriers)]
	buyer := (i / 2) % max(1, (n+5)/6)
	idNo := residentID(regions[buyer%len(regions)], buyer)
	name := surnames[buyer%len(surnames)] + givens[(buyer/len(surnames))%len(givens)]
	tel := fmt.Sprintf("139%08d", buyer%100000000)
	address := fmt.Sprintf("%s%d号", districts[buyer%len(districts)], 1+buyer%997)
	orderNo := fmt.Sprintf("XB%s%08d", benchDay.Format("20060102"), i)
	payRef := fmt.Sprintf("P%s%010d", payer[:4], i)
	waybillNo := fmt.Sprintf("YT%012dCN", i)
	at := benchDay.Add(time.Duration(int64(i) * int64(24*time.Hour) / int64(max(n, 1))))

	// Lines: one to three items, one or two of each, at the list price
	// give or take a little.
	type line struct {
		p          product
		qty, price int64 // price in fen
	}
	lines := make([]line, 1+r.IntN(3))
	goods := int64(0)
	for j := range lines {
		p := catalogue[r.IntN(len(catalogue))]
		price := p.cents - p.cents/10 + r.Int64N(p.cents/5+1)
		lines[j] = line{p, 1 + r.Int64N(2), price}
		goods += lines[j].qty * price
	}
	freight := []int64{0, 800, 1000, 1500}[r.IntN(4)]
	discount := int64(0)
	if goods > 20000 && r.IntN(3) == 0 {
		discount = 1000
	}

	// The tax is what the matcher will compute: the order states it.
	o := &clearance.Order{}
	inv := &clearance.Inventory{DeclTime: at.Format("20060102"), Freight: fen(freight)}
	for j, l := range lines {
		o.Lines = append(o.Lines, clearance.OrderLine{Gnum: j + 1, Qty: decimal.NewFromInt(l.qty)})
		inv.Lines = append(inv.Lines, clearance.InventoryLine{Gnum: j + 1, Gcode: l.p.gcode, TotalPrice: fen(l.qty * l.price)})
	}
	tax := clearance.TaxOf(o, inv, tariff).Total
	paid := fen(goods + freight - discount).Add(tax)

	ts := func(d time.Duration) string { return at.Add(d).Format("20060102150405") }
	var b jsonObj

	b.start("order", orderNo+"-O", ts(0))
	b.str("orderType", "I").str("orderNo", orderNo).str("ebpCode", platform).str("ebpName", "跨境商城 "+platform)
	b.str("ebcCode", seller).str("ebcName", "贸易公司 "+seller)
	b.amount("goodsValue", fen(goods)).amount("freight", fen(freight)).amount("discount", fen(discount))
	b.amount("taxTotal", tax).amount("acturalPaid", paid).str("currency", "142")
	b.str("buyerRegNo", fmt.Sprintf("U%09d", buyer)).str("buyerName", name).str("buyerTelephone", tel)
	b.str("buyerIdType", "1").str("buyerIdNumber", idNo)
	b.str("payCode", payer).str("payName", "支付机构 "+payer).str("payTransactionId", payRef)
	b.str("consignee", name).str("consigneeTelephone", tel).str("consigneeAddress", address)
	b.lines(len(lines), func(j int, l *jsonObj) {
		ln := lines[j]
		l.num("gnum", j+1).str("itemNo", ln.p.itemNo).str("itemName", ln.p.name).str("gmodel", ln.p.gmodel)
		l.str("unit", ln.p.unit).str("qty", strconv.FormatInt(ln.qty, 10)).amount("price", fen(ln.price))
		l.amount("totalPrice", fen(ln.qty*ln.price)).str("currency", "142").str("country", ln.p.country)
	})
	order := b.done()

	b.start("payment", orderNo+"-P", ts(90*time.Second))
	b.str("payCode", payer).str("payName", "支付机构 "+payer).str("payTransactionId", payRef)
	b.str("orderNo", orderNo).str("ebpCode", platform).str("ebpName", "跨境商城 "+platform)
	b.str("payerIdType", "1").str("payerIdNumber", idNo).str("payerName", name).str("telephone", tel)
	b.amount("amountPaid", paid).str("currency", "142").str("payTime", ts(60*time.Second))
	payment := b.done()

	weight := fen(50 + int64(len(lines))*40 + r.Int64N(100))
	b.start("waybill", orderNo+"-W", ts(2*time.Hour))
	// ebpCode is xbsettle's extension of CEB511: this carrier knows the
	// platform, so the waybill goes straight to its chain.
	b.str("logisticsCode", carrier).str("logisticsName", "快递公司 "+carrier).str("logisticsNo", waybillNo)
	b.str("orderNo", orderNo).str("ebpCode", platform).amount("freight", fen(freight)).amount("insuredFee", fen(0))
	b.str("currency", "142").amount("weight", weight).num("packNo", 1).str("goodsInfo", lines[0].p.name)
	b.str("consignee", name).str("consigneeAddress", address).str("consigneeTelephone", tel)
	waybill := b.done()

	b.start("inventory", orderNo+"-I", ts(3*time.Hour))
	b.str("orderNo", orderNo).str("ebpCode", platform).str("ebpName", "跨境商城 "+platform)
	b.str("ebcCode", seller).str("ebcName", "贸易公司 "+seller)
	b.str("logisticsNo", waybillNo).str("logisticsCode", carrier).str("logisticsName", "快递公司 "+carrier)
	b.str("copNo", "COP"+orderNo).str("assureCode", seller).str("ieFlag", "I").str("declTime", at.Format("20060102"))
	b.str("customsCode", "5349").str("portCode", "5349").str("ieDate", at.Format("20060102"))
	b.str("buyerIdType", "1").str("buyerIdNumber", idNo).str("buyerName", name).str("buyerTelephone", tel)
	b.str("consigneeAddress", address).str("agentCode", seller).str("agentName", "贸易公司 "+seller)
	b.str("tradeMode", []string{"1210", "9610"}[i%2]).str("trafMode", "9").str("country", lines[0].p.country)
	b.amount("freight", fen(freight)).amount("insuredFee", fen(0)).str("currency", "142").num("packNo", 1)
	b.amount("grossWeight", weight).amount("netWeight", weight.Sub(fen(10)))
	b.lines(len(lines), func(j int, l *jsonObj) {
		ln := lines[j]
		l.num("gnum", j+1).str("itemNo", ln.p.itemNo).str("itemName", ln.p.name).str("gcode", ln.p.gcode)
		l.str("gname", ln.p.name).str("gmodel", ln.p.gmodel).str("country", ln.p.country).str("currency", "142")
		l.str("qty", strconv.FormatInt(ln.qty, 10)).str("unit", ln.p.unit).amount("price", fen(ln.price))
		l.amount("totalPrice", fen(ln.qty*ln.price))
	})
	inventory := b.done()

	return chainDocs{order: order, payment: payment, waybill: waybill, inventory: inventory,
		orderNo: orderNo, platform: platform, tax: tax.StringFixed(2)}
}

// fen is an amount in fen as a decimal in yuan.
func fen(n int64) decimal.Decimal { return decimal.New(n, -2) }

// residentID makes a resident ID number with a right GB 11643 check
// character: a region, a birth date and a serial.
func residentID(region string, n int) string {
	weights := [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	birth := time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, n%11000)
	s := fmt.Sprintf("%s%s%03d", region, birth.Format("20060102"), n/11000%1000)
	sum := 0
	for i, w := range weights {
		sum += int(s[i]-'0') * w
	}
	return s + string("10X98765432"[sum%11])
}

// jsonObj writes one flat JSON object, and its lines, by appending.
type jsonObj struct {
	b   []byte
	sep bool
}

func (o *jsonObj) start(typ, guid, appTime string) {
	o.b, o.sep = append(make([]byte, 0, 1536), '{'), false
	o.str("type", typ).str("guid", guid).num("appType", 1).str("appTime", appTime).str("appStatus", "2")
}

func (o *jsonObj) key(k string) {
	if o.sep {
		o.b = append(o.b, ',')
	}
	o.sep = true
	o.b = strconv.AppendQuote(o.b, k)
	o.b = append(o.b, ':')
}

func (o *jsonObj) str(k, v string) *jsonObj {
	o.key(k)
	o.b = strconv.AppendQuote(o.b, v)
	return o
}

func (o *jsonObj) num(k string, v int) *jsonObj {
	o.key(k)
	o.b = strconv.AppendInt(o.b, int64(v), 10)
	return o
}

func (o *jsonObj) amount(k string, d decimal.Decimal) *jsonObj {
	return o.str(k, d.StringFixed(2))
}

func (o *jsonObj) lines(n int, fill func(j int, l *jsonObj)) {
	o.key("lines")
	o.b = append(o.b, '[')
	for j := range n {
		if j > 0 {
			o.b = append(o.b, ',')
		}
		l := jsonObj{b: append(o.b, '{')}
		fill(j, &l)
		o.b = append(l.b, '}')
	}
	o.b = append(o.b, ']')
}

func (o *jsonObj) done() []byte { return append(o.b, '}') }
