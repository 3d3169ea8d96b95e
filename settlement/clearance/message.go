package clearance

import (
	"fmt"
	"strings"
)

// Namespace is the XML namespace of every CEB message.
const Namespace = "http://www.chinaport.gov.cn/ceb"

// Limits of one message, from the customs standard: a message carries 1 to
// MaxDocuments documents, and an order or inventory 1 to MaxLines lines.
// MaxFields is ours: the standard's largest head has about 40 fields, and a
// head, line or BaseTransfer with more than MaxFields is not read further.
// The decoders stop reading at each limit, so that no body costs more than
// a message at the limits does.
const (
	MaxDocuments = 100
	MaxLines     = 99
	MaxFields    = 100
)

// Kind is a document's role in a chain. Its values are the names used in
// Verdict.Missing and RuleFailure.Document.
type Kind string

// The four kinds, in the order verdicts and receipts list them.
const (
	KindOrder     Kind = "ORDER"
	KindPayment   Kind = "PAYMENT"
	KindWaybill   Kind = "WAYBILL"
	KindInventory Kind = "INVENTORY"
)

// Kinds lists the four kinds in their fixed order.
var Kinds = [...]Kind{KindOrder, KindPayment, KindWaybill, KindInventory}

// The kinds of the two requests that close a chain after the fact
// (cancellation.go). They are not among Kinds: a chain does not need them to
// be complete, and Match does not compare them.
const (
	KindCancellation Kind = "CANCELLATION" // CEB623 撤销申请单
	KindReturn       Kind = "RETURN"       // CEB625 退货申请单
)

// Direction tells import documents (CEB311, 411, 511, 621) from export ones
// (CEB303, 403, 505, 603).
type Direction string

// The two directions.
const (
	Import Direction = "import"
	Export Direction = "export"
)

// MessageType is the customs message a document travels in ("CEB311"). It
// fixes the document's kind and direction.
type MessageType string

// The message types: the eight of the four documents, and the cancellation
// and return requests.
const (
	CEB311 MessageType = "CEB311" // import order
	CEB411 MessageType = "CEB411" // import payment
	CEB511 MessageType = "CEB511" // import waybill
	CEB621 MessageType = "CEB621" // import inventory
	CEB303 MessageType = "CEB303" // export order
	CEB403 MessageType = "CEB403" // export receipt of funds
	CEB505 MessageType = "CEB505" // export waybill
	CEB603 MessageType = "CEB603" // export inventory
	CEB623 MessageType = "CEB623" // cancellation of an import inventory
	CEB625 MessageType = "CEB625" // return of an import inventory
)

// messageInfo is what the decoders need to know about one message type.
type messageInfo struct {
	kind Kind
	dir  Direction
	name string // batch "type" name
	elem string // XML document element; its head is elem+"Head", its lines elem+"List"
}

var messages = map[MessageType]messageInfo{
	CEB311: {KindOrder, Import, "order", "Order"},
	CEB411: {KindPayment, Import, "payment", "Payment"},
	CEB511: {KindWaybill, Import, "waybill", "Logistics"},
	CEB621: {KindInventory, Import, "inventory", "Inventory"},
	CEB303: {KindOrder, Export, "export_order", "Order"},
	CEB403: {KindPayment, Export, "export_receipt", "Payment"},
	CEB505: {KindWaybill, Export, "export_waybill", "Logistics"},
	CEB603: {KindInventory, Export, "export_inventory", "Inventory"},
	CEB623: {KindCancellation, Import, "cancellation", "InvtCancel"},
	CEB625: {KindReturn, Import, "return", "InvtRefund"},
}

// ParseMessageType accepts a message code ("CEB403") or its batch name
// ("order", "payment", "waybill", "inventory", "export_order",
// "export_receipt", "export_waybill", "export_inventory", "cancellation",
// "return").
func ParseMessageType(s string) (MessageType, error) {
	if _, ok := messages[MessageType(strings.ToUpper(s))]; ok {
		return MessageType(strings.ToUpper(s)), nil
	}
	for mt, info := range messages {
		if info.name == s {
			return mt, nil
		}
	}
	return "", fmt.Errorf("unknown document type %q", s)
}

// Valid reports whether m is one of the message types.
func (m MessageType) Valid() bool { _, ok := messages[m]; return ok }

// Kind is the kind of document m carries.
func (m MessageType) Kind() Kind { return messages[m].kind }

// Direction is m's direction.
func (m MessageType) Direction() Direction { return messages[m].dir }

// Name is m's batch name ("export_order").
func (m MessageType) Name() string { return messages[m].name }

// rootElement is the XML root's local name, "CEB311Message".
func (m MessageType) rootElement() string { return string(m) + "Message" }

// messageFor returns the message type of kind k in direction d.
func messageFor(k Kind, d Direction) MessageType {
	for mt, info := range messages {
		if info.kind == k && info.dir == d {
			return mt
		}
	}
	return ""
}

// NewDocument returns an empty document of message type m, ready to be
// filled (by a decoder or by the store when it loads one).
func NewDocument(m MessageType) (Document, error) {
	h := Head{Message: m}
	switch m.Kind() {
	case KindOrder:
		return &Order{Head: h}, nil
	case KindPayment:
		return &Payment{Head: h}, nil
	case KindWaybill:
		return &Waybill{Head: h}, nil
	case KindInventory:
		return &Inventory{Head: h}, nil
	case KindCancellation, KindReturn:
		return &Cancellation{Head: h}, nil
	}
	return nil, fmt.Errorf("new document: unknown message type %q", m)
}
