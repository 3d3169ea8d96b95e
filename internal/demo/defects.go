package demo

import (
	"github.com/xbsettle/xbsettle/settlement/clearance"
)

// DefectKind is a kind of mistake the generator plants in a parcel.
type DefectKind string

// The defects of the day, each caught by the rule that names it.
const (
	// DefectMissingWaybill: the carrier never sends the waybill; the chain
	// stays incomplete with WAYBILL_MISSING.
	DefectMissingWaybill DefectKind = "missing waybill"
	// DefectAmountMismatch: the payment record states another amount than
	// the order (a coupon the institution did not apply, a bank charge
	// taken off a receipt); PAID_AMOUNT.
	DefectAmountMismatch DefectKind = "amount mismatch"
	// DefectPayerNotBuyer: a relative pays for the buyer's order;
	// PAYER_IS_BUYER.
	DefectPayerNotBuyer DefectKind = "payer is not the buyer"
	// DefectSingleLimit: an import order of several items above CNY 5,000;
	// SINGLE_LIMIT.
	DefectSingleLimit DefectKind = "over the single limit"
	// DefectAnnualLimit: a buyer (a 代购, buying for resale) places six
	// orders of the same CNY 4,400–5,000 in the day; five fit in the CNY
	// 26,000 a year, the sixth matched fails ANNUAL_LIMIT.
	DefectAnnualLimit DefectKind = "over the annual limit"
)

// DefectKinds lists the kinds in report order.
var DefectKinds = []DefectKind{DefectMissingWaybill, DefectAmountMismatch, DefectPayerNotBuyer, DefectSingleLimit, DefectAnnualLimit}

// Rule is the rule code that must catch the defect.
func (k DefectKind) Rule() clearance.RuleCode {
	switch k {
	case DefectMissingWaybill:
		return clearance.RuleWaybillMissing
	case DefectAmountMismatch:
		return clearance.RulePaidAmount
	case DefectPayerNotBuyer:
		return clearance.RulePayerIsBuyer
	case DefectSingleLimit:
		return clearance.RuleSingleLimit
	case DefectAnnualLimit:
		return clearance.RuleAnnualLimit
	}
	return ""
}

// Verdict is the verdict of a chain the defect is caught in: a missing
// document leaves it incomplete, a failed rule makes it mismatched.
func (k DefectKind) Verdict() string {
	if k == DefectMissingWaybill {
		return VerdictIncomplete
	}
	return VerdictMismatched
}

// Chain verdicts, as the API answers them.
const (
	VerdictVerified   = "verified"
	VerdictMismatched = "mismatched"
	VerdictIncomplete = "incomplete"
)

// Defect is one planted mistake: the chain it is in (for an annual-limit
// group, the buyer's six chains, exactly one of which must fail).
type Defect struct {
	Kind     DefectKind
	Platform string   // ebpCode of the chains
	Orders   []string // orderNo of the chain, or of the group's chains
}

// recordDefects lists the planted defects, in parcel order.
func (g *generator) recordDefects(groups map[int][]*Parcel) {
	seen := map[int]bool{}
	for _, p := range g.day.Parcels {
		switch {
		case p.Group > 0 && !seen[p.Group]:
			seen[p.Group] = true
			d := Defect{Kind: DefectAnnualLimit, Platform: p.Platform.Code}
			for _, q := range groups[p.Group] {
				d.Orders = append(d.Orders, q.OrderNo)
			}
			g.day.Defects = append(g.day.Defects, d)
		case p.Group == 0 && p.Defect != "":
			g.day.Defects = append(g.day.Defects, Defect{Kind: p.Defect, Platform: p.Platform.Code, Orders: []string{p.OrderNo}})
		}
	}
}
