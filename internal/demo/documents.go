package demo

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
)

// The customs documents as JSON, one struct per kind with the standard's
// field names (DESIGN §5, docs/clearance.md). Fields of the other
// direction are left empty and omitted: the API refuses a field a
// document does not define. Amounts are decimal strings.

type orderDoc struct {
	Type               string      `json:"type"`
	GUID               string      `json:"guid"`
	AppType            int         `json:"appType"`
	AppTime            string      `json:"appTime"`
	AppStatus          string      `json:"appStatus"`
	OrderType          string      `json:"orderType"`
	OrderNo            string      `json:"orderNo"`
	EbpCode            string      `json:"ebpCode"`
	EbpName            string      `json:"ebpName"`
	EbcCode            string      `json:"ebcCode"`
	EbcName            string      `json:"ebcName"`
	GoodsValue         string      `json:"goodsValue"`
	Freight            string      `json:"freight"`
	Discount           string      `json:"discount"`
	TaxTotal           string      `json:"taxTotal"`
	ActuralPaid        string      `json:"acturalPaid,omitempty"` // sic
	Currency           string      `json:"currency"`
	BuyerRegNo         string      `json:"buyerRegNo,omitempty"`
	BuyerName          string      `json:"buyerName,omitempty"`
	BuyerTelephone     string      `json:"buyerTelephone,omitempty"`
	BuyerIDType        string      `json:"buyerIdType,omitempty"`
	BuyerIDNumber      string      `json:"buyerIdNumber,omitempty"`
	PayCode            string      `json:"payCode"`
	PayName            string      `json:"payName"`
	PayTransactionID   string      `json:"payTransactionId"`
	Consignee          string      `json:"consignee,omitempty"`
	ConsigneeTelephone string      `json:"consigneeTelephone,omitempty"`
	ConsigneeAddress   string      `json:"consigneeAddress,omitempty"`
	Lines              []orderLine `json:"lines"`
}

type orderLine struct {
	Gnum       int    `json:"gnum"`
	ItemNo     string `json:"itemNo"`
	ItemName   string `json:"itemName"`
	Gmodel     string `json:"gmodel"`
	Unit       string `json:"unit"`
	Qty        string `json:"qty"`
	Price      string `json:"price"`
	TotalPrice string `json:"totalPrice"`
	Currency   string `json:"currency"`
	Country    string `json:"country"`
}

type paymentDoc struct {
	Type             string `json:"type"`
	GUID             string `json:"guid"`
	AppType          int    `json:"appType"`
	AppTime          string `json:"appTime"`
	AppStatus        string `json:"appStatus"`
	PayCode          string `json:"payCode"`
	PayName          string `json:"payName"`
	PayTransactionID string `json:"payTransactionId,omitempty"`
	PayNo            string `json:"payNo,omitempty"`
	OrderNo          string `json:"orderNo"`
	EbpCode          string `json:"ebpCode"`
	EbpName          string `json:"ebpName"`
	PayerIDType      string `json:"payerIdType,omitempty"`
	PayerIDNumber    string `json:"payerIdNumber,omitempty"`
	PayerName        string `json:"payerName,omitempty"`
	Telephone        string `json:"telephone,omitempty"`
	AmountPaid       string `json:"amountPaid,omitempty"`
	Charge           string `json:"charge,omitempty"`
	Currency         string `json:"currency"`
	PayTime          string `json:"payTime,omitempty"`
	AccountingDate   string `json:"accountingDate,omitempty"`
}

type waybillDoc struct {
	Type               string `json:"type"`
	GUID               string `json:"guid"`
	AppType            int    `json:"appType"`
	AppTime            string `json:"appTime"`
	AppStatus          string `json:"appStatus"`
	LogisticsCode      string `json:"logisticsCode"`
	LogisticsName      string `json:"logisticsName"`
	LogisticsNo        string `json:"logisticsNo"`
	OrderNo            string `json:"orderNo"`
	EbpCode            string `json:"ebpCode,omitempty"` // xbsettle extension: carriers that know the platform send it
	Freight            string `json:"freight"`
	InsuredFee         string `json:"insuredFee,omitempty"`
	Currency           string `json:"currency"`
	Weight             string `json:"weight"`
	PackNo             int    `json:"packNo"`
	GoodsInfo          string `json:"goodsInfo"`
	Consignee          string `json:"consignee,omitempty"`
	ConsigneeAddress   string `json:"consigneeAddress,omitempty"`
	ConsigneeTelephone string `json:"consigneeTelephone,omitempty"`
}

type inventoryDoc struct {
	Type             string          `json:"type"`
	GUID             string          `json:"guid"`
	AppType          int             `json:"appType"`
	AppTime          string          `json:"appTime"`
	AppStatus        string          `json:"appStatus"`
	OrderNo          string          `json:"orderNo"`
	EbpCode          string          `json:"ebpCode"`
	EbpName          string          `json:"ebpName"`
	EbcCode          string          `json:"ebcCode"`
	EbcName          string          `json:"ebcName"`
	LogisticsNo      string          `json:"logisticsNo"`
	LogisticsCode    string          `json:"logisticsCode"`
	LogisticsName    string          `json:"logisticsName"`
	CopNo            string          `json:"copNo"`
	IEFlag           string          `json:"ieFlag"`
	DeclTime         string          `json:"declTime"`
	CustomsCode      string          `json:"customsCode"`
	PortCode         string          `json:"portCode"`
	BuyerIDType      string          `json:"buyerIdType,omitempty"`
	BuyerIDNumber    string          `json:"buyerIdNumber,omitempty"`
	BuyerName        string          `json:"buyerName,omitempty"`
	BuyerTelephone   string          `json:"buyerTelephone,omitempty"`
	ConsigneeAddress string          `json:"consigneeAddress,omitempty"`
	TradeMode        string          `json:"tradeMode"`
	Country          string          `json:"country"`
	Freight          string          `json:"freight"`
	InsuredFee       string          `json:"insuredFee"`
	Currency         string          `json:"currency"`
	PackNo           int             `json:"packNo"`
	GrossWeight      string          `json:"grossWeight"`
	NetWeight        string          `json:"netWeight"`
	Lines            []inventoryLine `json:"lines"`
}

type inventoryLine struct {
	Gnum       int    `json:"gnum"`
	ItemNo     string `json:"itemNo"`
	ItemName   string `json:"itemName"`
	Gcode      string `json:"gcode"`
	Gname      string `json:"gname"`
	Gmodel     string `json:"gmodel"`
	Country    string `json:"country"`
	Currency   string `json:"currency"`
	Qty        string `json:"qty"`
	Unit       string `json:"unit"`
	Price      string `json:"price"`
	TotalPrice string `json:"totalPrice"`
}

// document is one document ready to post: who declares it, when, its
// kind (the batch's "type") and the document itself, with its JSON for
// POST /v1/documents/batch.
type document struct {
	by   *Party
	at   time.Time
	kind string
	v    any // orderDoc, paymentDoc, waybillDoc or inventoryDoc
	body json.RawMessage
}

// newDocument is a document of v, declared by by at at.
func newDocument(by *Party, at time.Time, kind string, v any) document {
	return document{by: by, at: at, kind: kind, v: v, body: mustJSON(v)}
}

// customsTime is the standard's yyyyMMddHHmmss in China time.
func customsTime(t time.Time) string { return t.In(beijing).Format("20060102150405") }

// guid is the document's message guid: a name-based UUID, so the same
// document of the same day always carries the same one.
func guid(kind, orderNo string) string {
	return uuid.NewSHA1(uuid.NameSpaceOID, []byte("xbsettle-demo:"+kind+":"+orderNo)).String()
}

// documents are the parcel's documents, in the order their declarants
// send them: the order, the payment, the inventory and, unless it goes
// missing, the waybill.
func (p *Parcel) documents() []document {
	o, pay, inv := p.order(), p.payment(), p.inventory()
	out := []document{
		newDocument(p.Platform, p.OrderedAt, o.Type, o),
		newDocument(p.Institution, p.PaidAt, pay.Type, pay),
		newDocument(p.Platform, p.DeclaredAt, inv.Type, inv),
	}
	if p.Defect != DefectMissingWaybill {
		w := p.waybill()
		out = append(out, newDocument(p.Carrier, p.ShippedAt, w.Type, w))
	}
	return out
}

// Document is one of a parcel's documents as its declarant posts it in
// POST /v1/documents/batch, for drivers other than Run (the fault test).
type Document struct {
	By   *Party // the declarant, whose key posts it
	Body json.RawMessage
}

// Documents are the parcel's documents, in the order their declarants
// send them (the order, the payment, the inventory, the waybill).
func (p *Parcel) Documents() []Document {
	docs := p.documents()
	out := make([]Document, len(docs))
	for i, d := range docs {
		out[i] = Document{By: d.by, Body: d.body}
	}
	return out
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("demo: encode %T: %v", v, err))
	}
	return b
}

// amount formats a document amount with the currency's minor units.
func (p *Parcel) amount(d decimal.Decimal) string { return p.Currency.Format(d) }

// origin is the goods' country of origin: the overseas seller's for an
// import, China (142) for an export.
func (p *Parcel) origin() string {
	if p.Export {
		return "142"
	}
	return p.Seller.Country
}

func (p *Parcel) order() orderDoc {
	o := orderDoc{
		Type: "order", GUID: guid("order", p.OrderNo), AppType: 1, AppTime: customsTime(p.OrderedAt), AppStatus: "2",
		OrderType: "I", OrderNo: p.OrderNo, EbpCode: p.Platform.Code, EbpName: p.Platform.Name,
		EbcCode: p.Seller.Code, EbcName: p.Seller.Name,
		GoodsValue: p.amount(p.Goods()), Freight: p.amount(p.Freight), Discount: p.amount(p.Discount),
		TaxTotal: p.amount(p.Tax), Currency: string(p.Currency),
		PayCode: p.Institution.Code, PayName: p.Institution.Name, PayTransactionID: p.PayRef,
	}
	if p.Export {
		o.Type, o.OrderType = "export_order", "E"
	} else {
		o.ActuralPaid = p.amount(p.Total())
		o.BuyerRegNo, o.BuyerName, o.BuyerTelephone = "U"+p.Buyer.Telephone, p.Buyer.Name, p.Buyer.Telephone
		o.BuyerIDType, o.BuyerIDNumber = "1", p.Buyer.ID
		o.Consignee, o.ConsigneeTelephone, o.ConsigneeAddress = p.Consignee.Name, p.Consignee.Telephone, p.Consignee.Address
	}
	for i, l := range p.Lines {
		o.Lines = append(o.Lines, orderLine{Gnum: i + 1, ItemNo: l.sku, ItemName: l.name, Gmodel: l.model, Unit: l.unit,
			Qty: fmt.Sprint(l.Qty), Price: p.amount(l.Price), TotalPrice: p.amount(l.Total()), Currency: string(p.Currency), Country: p.origin()})
	}
	return o
}

func (p *Parcel) payment() paymentDoc {
	d := paymentDoc{
		Type: "payment", GUID: guid("payment", p.OrderNo), AppType: 1, AppTime: customsTime(p.PaidAt), AppStatus: "2",
		PayCode: p.Institution.Code, PayName: p.Institution.Name, OrderNo: p.OrderNo,
		EbpCode: p.Platform.Code, EbpName: p.Platform.Name, Currency: string(p.Currency),
	}
	if p.Export {
		d.Type, d.PayNo, d.Charge, d.AccountingDate = "export_receipt", p.PayRef, p.amount(p.Paid), customsTime(p.PaidAt)
		return d
	}
	d.PayTransactionID, d.AmountPaid, d.PayTime = p.PayRef, p.amount(p.Paid), customsTime(p.PaidAt.Add(-5*time.Second))
	d.PayerIDType, d.PayerIDNumber, d.PayerName, d.Telephone = "1", p.Payer.ID, p.Payer.Name, p.Payer.Telephone
	return d
}

func (p *Parcel) waybill() waybillDoc {
	w := waybillDoc{
		Type: "waybill", GUID: guid("waybill", p.OrderNo), AppType: 1, AppTime: customsTime(p.ShippedAt), AppStatus: "2",
		LogisticsCode: p.Carrier.Code, LogisticsName: p.Carrier.Name, LogisticsNo: p.LogisticsNo, OrderNo: p.OrderNo,
		Freight: p.amount(p.Freight), Currency: string(p.Currency), Weight: p.Weight().StringFixed(2), PackNo: 1,
		GoodsInfo: p.Lines[0].name,
	}
	if p.Carrier.sendsPlatform {
		w.EbpCode = p.Platform.Code
	}
	if p.Export {
		w.Type = "export_waybill"
		w.GoodsInfo = ""
		return w
	}
	w.InsuredFee = p.amount(p.InsuredFee)
	w.Consignee, w.ConsigneeAddress, w.ConsigneeTelephone = p.Consignee.Name, p.Consignee.Address, p.Consignee.Telephone
	return w
}

func (p *Parcel) inventory() inventoryDoc {
	inv := inventoryDoc{
		Type: "inventory", GUID: guid("inventory", p.OrderNo), AppType: 1, AppTime: customsTime(p.DeclaredAt), AppStatus: "2",
		OrderNo: p.OrderNo, EbpCode: p.Platform.Code, EbpName: p.Platform.Name, EbcCode: p.Seller.Code, EbcName: p.Seller.Name,
		LogisticsNo: p.LogisticsNo, LogisticsCode: p.Carrier.Code, LogisticsName: p.Carrier.Name, CopNo: "C" + p.OrderNo,
		IEFlag: "I", DeclTime: p.DeclaredAt.In(beijing).Format("20060102"), CustomsCode: "5349", PortCode: "5349",
		TradeMode: p.TradeMode, Country: p.origin(), Freight: p.amount(p.Freight), InsuredFee: p.amount(p.InsuredFee),
		Currency: string(p.Currency), PackNo: 1, GrossWeight: p.Weight().StringFixed(2),
		NetWeight: p.Weight().Sub(decimal.RequireFromString("0.10")).StringFixed(2),
	}
	if p.Export {
		inv.Type, inv.IEFlag, inv.CustomsCode, inv.PortCode = "export_inventory", "E", "5304", "5304"
		inv.Country = p.Buyer.Country
	} else {
		inv.BuyerIDType, inv.BuyerIDNumber, inv.BuyerName, inv.BuyerTelephone = "1", p.Buyer.ID, p.Buyer.Name, p.Buyer.Telephone
		inv.ConsigneeAddress = p.Consignee.Address
	}
	for i, l := range p.Lines {
		inv.Lines = append(inv.Lines, inventoryLine{Gnum: i + 1, ItemNo: l.sku, ItemName: l.name, Gcode: l.hs, Gname: l.name,
			Gmodel: l.model, Country: p.origin(), Currency: string(p.Currency), Qty: fmt.Sprint(l.Qty), Unit: l.unit,
			Price: p.amount(l.Price), TotalPrice: p.amount(l.Total())})
	}
	return inv
}
