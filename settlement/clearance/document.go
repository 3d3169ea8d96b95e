package clearance

import (
	"time"

	"github.com/shopspring/decimal"
	"github.com/xbsettle/xbsettle/ledger"
)

// Field names follow the customs unified standard (统一版) in JSON and XML
// alike, its spelling included (acturalPaid), so that real feeds map one to
// one. Every field the fixtures carry is modelled, because the decoders refuse
// fields they do not know: a misspelt money field must not silently become 0.
//
// Money and quantities are decimal(19,5); an optional one that is absent is 0.
// Currencies are stored as ISO 4217 codes (the customs "142" becomes "CNY").

// AppType is the declaration's purpose: new, change or delete.
type AppType int

// The three AppType values of the standard.
const (
	AppNew    AppType = 1
	AppChange AppType = 2
	AppDelete AppType = 3
)

// Head holds the fields every document head carries.
type Head struct {
	// Message is the customs message type; it fixes kind and direction. In JSON
	// it is the optional "type" member (see DecodeJSON); XML takes it from the root.
	Message   MessageType `json:"type"`
	GUID      string      `json:"guid"`
	AppType   AppType     `json:"appType"`
	AppTime   time.Time   `json:"appTime"`   // customs "20151111093015" is China time (UTC+8); kept in UTC
	AppStatus string      `json:"appStatus"` // the sender's status, "2" declared
	Note      string      `json:"note"`
}

// Header returns h itself, so that any Document exposes its head.
func (h *Head) Header() *Head { return h }

// Direction is the document's direction, from its message type.
func (h *Head) Direction() Direction { return h.Message.Direction() }

// ChainKey names a chain: the platform and its order number. A waybill may
// not know the platform (CEB511 has no ebpCode); its key then has EbpCode "".
type ChainKey struct {
	EbpCode string `json:"ebpCode"`
	OrderNo string `json:"orderNo"`
}

// Document is one of *Order, *Payment, *Waybill, *Inventory.
type Document interface {
	Header() *Head
	Kind() Kind
	Direction() Direction
	Key() ChainKey
	validate(v *validator)
	personalIDs() []*PersonalID
}

// Order is an order (订单): CEB311 import, CEB303 export. Buyer and consignee
// fields are required on import orders only.
type Order struct {
	Head
	OrderType          string          `json:"orderType"` // "I" or "E", must agree with the message
	OrderNo            string          `json:"orderNo"`
	EbpCode            string          `json:"ebpCode"` // platform
	EbpName            string          `json:"ebpName"`
	EbcCode            string          `json:"ebcCode"` // seller
	EbcName            string          `json:"ebcName"`
	GoodsValue         decimal.Decimal `json:"goodsValue"`
	Freight            decimal.Decimal `json:"freight"`
	Discount           decimal.Decimal `json:"discount"`
	TaxTotal           decimal.Decimal `json:"taxTotal"`
	ActuralPaid        decimal.Decimal `json:"acturalPaid"` // sic
	Currency           ledger.Currency `json:"currency"`
	BuyerRegNo         string          `json:"buyerRegNo"`
	BuyerName          string          `json:"buyerName"`
	BuyerTelephone     string          `json:"buyerTelephone"`
	BuyerIDType        string          `json:"buyerIdType"` // "1" resident ID card, "2" other
	BuyerIDNumber      PersonalID      `json:"buyerIdNumber"`
	PayCode            string          `json:"payCode"`
	PayName            string          `json:"payName"`
	PayTransactionID   string          `json:"payTransactionId"`
	Consignee          string          `json:"consignee"`
	ConsigneeTelephone string          `json:"consigneeTelephone"`
	ConsigneeAddress   string          `json:"consigneeAddress"`
	Lines              []OrderLine     `json:"lines"`
}

// Total is what the order costs the buyer: goodsValue + freight + taxTotal −
// discount. An import order states it as acturalPaid.
func (o *Order) Total() decimal.Decimal {
	return o.GoodsValue.Add(o.Freight).Add(o.TaxTotal).Sub(o.Discount)
}

// OrderLine is one goods line of an order (OrderList).
type OrderLine struct {
	Gnum       int             `json:"gnum"` // 1..99, unique in the order
	ItemNo     string          `json:"itemNo"`
	ItemName   string          `json:"itemName"`
	Gmodel     string          `json:"gmodel"`
	Unit       string          `json:"unit"`
	Qty        decimal.Decimal `json:"qty"`
	Price      decimal.Decimal `json:"price"`
	TotalPrice decimal.Decimal `json:"totalPrice"`
	Currency   ledger.Currency `json:"currency"`
	Country    string          `json:"country"`
}

// Payment is an import payment record (CEB411, 支付单) or an export receipt of
// funds (CEB403, 收款单). Import uses payTransactionId, the payer fields,
// amountPaid and payTime; export uses payNo, charge and accountingDate.
type Payment struct {
	Head
	PayCode          string          `json:"payCode"` // payment institution
	PayName          string          `json:"payName"`
	PayTransactionID string          `json:"payTransactionId"`
	PayNo            string          `json:"payNo"`
	OrderNo          string          `json:"orderNo"`
	EbpCode          string          `json:"ebpCode"`
	EbpName          string          `json:"ebpName"`
	PayerIDType      string          `json:"payerIdType"`
	PayerIDNumber    PersonalID      `json:"payerIdNumber"`
	PayerName        string          `json:"payerName"`
	Telephone        string          `json:"telephone"`
	AmountPaid       decimal.Decimal `json:"amountPaid"`
	Charge           decimal.Decimal `json:"charge"`
	Currency         ledger.Currency `json:"currency"`
	PayTime          time.Time       `json:"payTime"`
	AccountingDate   time.Time       `json:"accountingDate"`
}

// Amount is what was paid (import amountPaid) or received (export charge).
func (p *Payment) Amount() decimal.Decimal {
	if p.Direction() == Export {
		return p.Charge
	}
	return p.AmountPaid
}

// Ref is the institution's reference of the transaction: payTransactionId on
// import, payNo on export.
func (p *Payment) Ref() string {
	if p.Direction() == Export {
		return p.PayNo
	}
	return p.PayTransactionID
}

// Waybill is a carrier's waybill (运单): CEB511 import, CEB505 export.
type Waybill struct {
	Head
	LogisticsCode string `json:"logisticsCode"` // carrier
	LogisticsName string `json:"logisticsName"`
	LogisticsNo   string `json:"logisticsNo"` // unique per carrier
	OrderNo       string `json:"orderNo"`
	// EbpCode is an xbsettle extension (the standard's waybill does not name the
	// platform): a carrier that knows it sends it so the chain is found directly.
	EbpCode            string          `json:"ebpCode"`
	Freight            decimal.Decimal `json:"freight"`
	InsuredFee         decimal.Decimal `json:"insuredFee"`
	Currency           ledger.Currency `json:"currency"`
	Weight             decimal.Decimal `json:"weight"` // kg
	PackNo             int             `json:"packNo"`
	GoodsInfo          string          `json:"goodsInfo"`
	Consignee          string          `json:"consignee"`
	ConsigneeAddress   string          `json:"consigneeAddress"`
	ConsigneeTelephone string          `json:"consigneeTelephone"`
}

// Inventory is the inventory declaration (清单): CEB621 import, CEB603 export.
type Inventory struct {
	Head
	OrderNo          string          `json:"orderNo"`
	EbpCode          string          `json:"ebpCode"`
	EbpName          string          `json:"ebpName"`
	EbcCode          string          `json:"ebcCode"`
	EbcName          string          `json:"ebcName"`
	LogisticsNo      string          `json:"logisticsNo"`
	LogisticsCode    string          `json:"logisticsCode"`
	LogisticsName    string          `json:"logisticsName"`
	CopNo            string          `json:"copNo"`  // the declarant's own number
	InvtNo           string          `json:"invtNo"` // customs' number, once assigned
	AssureCode       string          `json:"assureCode"`
	IEFlag           string          `json:"ieFlag"`   // "I" or "E", must agree with the message
	DeclTime         string          `json:"declTime"` // yyyyMMdd
	CustomsCode      string          `json:"customsCode"`
	PortCode         string          `json:"portCode"`
	IEDate           string          `json:"ieDate"` // yyyyMMdd
	BuyerIDType      string          `json:"buyerIdType"`
	BuyerIDNumber    PersonalID      `json:"buyerIdNumber"`
	BuyerName        string          `json:"buyerName"`
	BuyerTelephone   string          `json:"buyerTelephone"`
	ConsigneeAddress string          `json:"consigneeAddress"`
	AgentCode        string          `json:"agentCode"`
	AgentName        string          `json:"agentName"`
	TradeMode        string          `json:"tradeMode"` // import 9610/1210; export also 9710/9810
	TrafMode         string          `json:"trafMode"`
	Country          string          `json:"country"`
	Freight          decimal.Decimal `json:"freight"`
	InsuredFee       decimal.Decimal `json:"insuredFee"`
	Currency         ledger.Currency `json:"currency"`
	PackNo           int             `json:"packNo"`
	GrossWeight      decimal.Decimal `json:"grossWeight"`
	NetWeight        decimal.Decimal `json:"netWeight"`
	Status           string          `json:"status"`
	Lines            []InventoryLine `json:"lines"`
}

// InventoryLine is one goods line of an inventory (InventoryList); gnum
// pairs it with the order line of the same gnum.
type InventoryLine struct {
	Gnum       int             `json:"gnum"`
	ItemNo     string          `json:"itemNo"`
	ItemName   string          `json:"itemName"`
	Gcode      string          `json:"gcode"` // 10-digit HS code; its first 4 digits pick the tax rates
	Gname      string          `json:"gname"`
	Gmodel     string          `json:"gmodel"`
	Country    string          `json:"country"`
	Currency   ledger.Currency `json:"currency"`
	Qty        decimal.Decimal `json:"qty"`
	Unit       string          `json:"unit"`
	Qty1       decimal.Decimal `json:"qty1"`
	Unit1      string          `json:"unit1"`
	Price      decimal.Decimal `json:"price"`
	TotalPrice decimal.Decimal `json:"totalPrice"`
}

// BaseTransfer names the sender of an XML message.
type BaseTransfer struct {
	CopCode string `json:"copCode"`
	CopName string `json:"copName"`
	DxpMode string `json:"dxpMode"`
	DxpID   string `json:"dxpId"`
}

// Message is a decoded CEB XML message.
type Message struct {
	Type      MessageType
	GUID      string
	Version   string
	Documents []Document
	Transfer  BaseTransfer
}

// Kind returns KindOrder.
func (*Order) Kind() Kind { return KindOrder }

// Kind returns KindPayment.
func (*Payment) Kind() Kind { return KindPayment }

// Kind returns KindWaybill.
func (*Waybill) Kind() Kind { return KindWaybill }

// Kind returns KindInventory.
func (*Inventory) Kind() Kind { return KindInventory }

// Key is the order's chain key.
func (o *Order) Key() ChainKey { return ChainKey{o.EbpCode, o.OrderNo} }

// Key is the payment's chain key.
func (p *Payment) Key() ChainKey { return ChainKey{p.EbpCode, p.OrderNo} }

// Key is the waybill's chain key; EbpCode is "" unless the carrier sent it.
func (w *Waybill) Key() ChainKey { return ChainKey{w.EbpCode, w.OrderNo} }

// Key is the inventory's chain key.
func (i *Inventory) Key() ChainKey { return ChainKey{i.EbpCode, i.OrderNo} }

func (o *Order) personalIDs() []*PersonalID     { return []*PersonalID{&o.BuyerIDNumber} }
func (p *Payment) personalIDs() []*PersonalID   { return []*PersonalID{&p.PayerIDNumber} }
func (*Waybill) personalIDs() []*PersonalID     { return nil }
func (i *Inventory) personalIDs() []*PersonalID { return []*PersonalID{&i.BuyerIDNumber} }

// MarshalJSON writes the order with the standard's names, amounts as decimal
// strings with at least two decimals and the buyer's ID masked.
func (o Order) MarshalJSON() ([]byte, error) { return marshalDocument(&o) }

// MarshalJSON writes the payment like Order.MarshalJSON.
func (p Payment) MarshalJSON() ([]byte, error) { return marshalDocument(&p) }

// MarshalJSON writes the waybill like Order.MarshalJSON.
func (w Waybill) MarshalJSON() ([]byte, error) { return marshalDocument(&w) }

// MarshalJSON writes the inventory like Order.MarshalJSON.
func (i Inventory) MarshalJSON() ([]byte, error) { return marshalDocument(&i) }
