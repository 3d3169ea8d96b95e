package clearance

// Cancellation is a request that closes a chain after the fact: a
// cancellation of the inventory declaration (CEB623 撤销申请单, before
// release) or a return of the goods (CEB625 退货申请单, after release). Its
// message type tells which; Kind is KindCancellation or KindReturn.
//
// It names the chain like the inventory does (ebpCode, orderNo) and is
// versioned like every document: a later version with appType 3 withdraws
// it. It is not one of the four documents Match compares; the store reads
// the one in force as the chain's state (open, cancelled or returned), which
// takes the chain out of the verified trades and gives its annual quota back.
// The whole chain is cancelled or returned: partial returns are not modelled.
type Cancellation struct {
	Head
	OrderNo        string     `json:"orderNo"`
	EbpCode        string     `json:"ebpCode"`
	EbpName        string     `json:"ebpName"`
	EbcCode        string     `json:"ebcCode"`
	EbcName        string     `json:"ebcName"`
	LogisticsCode  string     `json:"logisticsCode"`
	LogisticsNo    string     `json:"logisticsNo"`
	CopNo          string     `json:"copNo"`
	InvtNo         string     `json:"invtNo"`
	CustomsCode    string     `json:"customsCode"`
	AgentCode      string     `json:"agentCode"`
	AgentName      string     `json:"agentName"`
	BuyerIDType    string     `json:"buyerIdType"`
	BuyerIDNumber  PersonalID `json:"buyerIdNumber"`
	BuyerName      string     `json:"buyerName"`
	BuyerTelephone string     `json:"buyerTelephone"`
	Reason         string     `json:"reason"`
}

// Kind is KindCancellation (CEB623) or KindReturn (CEB625).
func (c *Cancellation) Kind() Kind { return c.Message.Kind() }

// Key is the chain the request closes.
func (c *Cancellation) Key() ChainKey { return ChainKey{c.EbpCode, c.OrderNo} }

func (c *Cancellation) personalIDs() []*PersonalID { return []*PersonalID{&c.BuyerIDNumber} }

func (c *Cancellation) validate(v *validator) {
	v.head(&c.Head, c.Kind())
	v.text("orderNo", c.OrderNo, true, maxNo)
	v.entCode("ebpCode", c.EbpCode, true)
	v.text("ebpName", c.EbpName, false, maxName)
	v.entCode("ebcCode", c.EbcCode, true)
	v.text("ebcName", c.EbcName, false, maxName)
	v.entCode("logisticsCode", c.LogisticsCode, false)
	v.text("logisticsNo", c.LogisticsNo, false, maxNo)
	v.text("copNo", c.CopNo, false, maxNo)
	v.text("invtNo", c.InvtNo, false, maxNo)
	v.text("customsCode", c.CustomsCode, false, maxShort)
	v.entCode("agentCode", c.AgentCode, false)
	v.text("agentName", c.AgentName, false, maxName)
	v.personalID("buyerIdType", "buyerIdNumber", c.BuyerIDType, c.BuyerIDNumber, false)
	v.text("buyerName", c.BuyerName, false, maxName)
	v.text("buyerTelephone", c.BuyerTelephone, false, maxTel)
	v.text("reason", c.Reason, true, maxText)
}

// MarshalJSON writes the request like Order.MarshalJSON.
func (c Cancellation) MarshalJSON() ([]byte, error) { return marshalDocument(&c) }

// ChainStatus is what a chain's cancellation or return in force makes of it.
type ChainStatus string

// The three states of a chain.
const (
	ChainOpen      ChainStatus = "open"
	ChainCancelled ChainStatus = "cancelled"
	ChainReturned  ChainStatus = "returned"
)

// StatusOf is the state a chain is in when c is its closing request in
// force: open when there is none or it was withdrawn (appType 3).
func StatusOf(c *Cancellation) ChainStatus {
	switch {
	case c == nil || c.AppType == AppDelete:
		return ChainOpen
	case c.Kind() == KindReturn:
		return ChainReturned
	}
	return ChainCancelled
}
