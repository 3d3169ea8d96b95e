package clearance

import "slices"

// ReceiptStatus is a document's status on its receipt, as customs numbers it.
type ReceiptStatus int

// Receipt statuses. ReceiptDeclared is for the store: a document stored but
// not yet matched. Receipts derived from a verdict are one of the others.
const (
	ReceiptDeclared ReceiptStatus = 2   // stored, not yet matched
	ReceiptReturned ReceiptStatus = 100 // a rule concerning it failed; the receipt says which
	ReceiptAccepted ReceiptStatus = 120 // no rule concerning it failed, the chain is not verified yet
	ReceiptCleared  ReceiptStatus = 399 // the chain is verified
)

// Receipt tells a document's submitter where it stands.
type Receipt struct {
	Document Kind          `json:"document"`
	Status   ReceiptStatus `json:"status"`
	// Rules are the failed rules that concern the document, in rule order,
	// then the codes of the chain's missing documents, which hold it back.
	Rules []RuleCode `json:"rules"`
}

// ruleDocuments are the documents a rule compares: when it fails, each of
// their submitters is told, since either side may be the one in error. A rule
// not listed concerns only the document of the failure (BUYER_ID).
var ruleDocuments = map[RuleCode][]Kind{
	RuleOrderArithmetic: {KindOrder},
	RulePaidAmount:      {KindOrder, KindPayment},
	RulePaymentRef:      {KindOrder, KindPayment},
	RulePayerIsBuyer:    {KindOrder, KindPayment},
	RuleConsignee:       {KindOrder, KindWaybill},
	RuleWaybillRef:      {KindWaybill, KindInventory},
	RuleParties:         {KindOrder, KindInventory},
	RuleInventoryLines:  {KindOrder, KindInventory},
	RuleSingleLimit:     {KindOrder, KindInventory},
	RuleAnnualLimit:     {KindOrder, KindInventory},
}

// concerns reports whether failure f concerns a document of kind k.
func concerns(f RuleFailure, k Kind) bool {
	if docs, ok := ruleDocuments[f.Code]; ok {
		return slices.Contains(docs, k)
	}
	return f.Document == k
}

// Receipts gives a receipt to every document present in the chain, in kind
// order.
func (v Verdict) Receipts() []Receipt {
	var out []Receipt
	for _, k := range Kinds {
		if r, ok := v.Receipt(k); ok {
			out = append(out, r)
		}
	}
	return out
}

// Receipt is the receipt of the chain's document of kind k; false when the
// chain has none.
func (v Verdict) Receipt(k Kind) (Receipt, bool) {
	if slices.Contains(v.Missing, k) {
		return Receipt{}, false
	}
	r := Receipt{Document: k, Status: ReceiptAccepted, Rules: []RuleCode{}}
	for _, f := range v.Failed {
		if concerns(f, k) && !slices.Contains(r.Rules, f.Code) {
			r.Rules = append(r.Rules, f.Code)
		}
	}
	switch {
	case v.Status == StatusVerified:
		r.Status = ReceiptCleared
	case len(r.Rules) > 0:
		r.Status = ReceiptReturned
	}
	for _, m := range v.Missing {
		r.Rules = append(r.Rules, m.MissingRule())
	}
	return r, true
}
