package clearance

import (
	"slices"

	"github.com/shopspring/decimal"
)

// RuleCode names a matching rule (DESIGN §5). Codes are stable: the API,
// receipts and the docs use them.
type RuleCode string

// The rules of the three-document comparison (三单比对).
const (
	RuleOrderMissing     RuleCode = "ORDER_MISSING"
	RulePaymentMissing   RuleCode = "PAYMENT_MISSING"
	RuleWaybillMissing   RuleCode = "WAYBILL_MISSING"
	RuleInventoryMissing RuleCode = "INVENTORY_MISSING"
	RuleOrderArithmetic  RuleCode = "ORDER_ARITHMETIC"
	RulePaidAmount       RuleCode = "PAID_AMOUNT"
	RulePaymentRef       RuleCode = "PAYMENT_REF"
	RulePayerIsBuyer     RuleCode = "PAYER_IS_BUYER"
	RuleConsignee        RuleCode = "CONSIGNEE"
	RuleWaybillRef       RuleCode = "WAYBILL_REF"
	RuleParties          RuleCode = "PARTIES"
	RuleInventoryLines   RuleCode = "INVENTORY_LINES"
	RuleBuyerID          RuleCode = "BUYER_ID"
	RuleTariff           RuleCode = "TARIFF"
	RuleSingleLimit      RuleCode = "SINGLE_LIMIT"
	RuleAnnualLimit      RuleCode = "ANNUAL_LIMIT"
	// RuleTaxTotal is a warning only: the order's taxTotal differs from the
	// tax computed from the declaration.
	RuleTaxTotal RuleCode = "TAX_TOTAL"
)

// MissingRule is the code for a missing document of kind k ("WAYBILL_MISSING").
func (k Kind) MissingRule() RuleCode { return RuleCode(k + "_MISSING") }

// Status is a chain's verdict.
type Status string

// The three verdicts.
const (
	StatusIncomplete Status = "incomplete"
	StatusVerified   Status = "verified"
	StatusMismatched Status = "mismatched"
)

// Chain is what Match looks at: the latest non-deleted version of each of a
// chain's documents (any may be nil), all of one direction and one ChainKey,
// and the facts from outside the chain. Personal IDs must be all plain or all
// sealed with one key (see PersonalID.Equal).
type Chain struct {
	Order     *Order
	Payment   *Payment
	Waybill   *Waybill
	Inventory *Inventory
	Facts     Facts
}

// Facts are what matching needs from outside the chain.
type Facts struct {
	// Registry says which enterprises are registered; nil means none is.
	Registry Registry
	// BuyerYearTotal is the buyer's other matched import purchases in the
	// order's calendar year, in CNY: the sum of their taxable prices, less
	// those cancelled or returned. This chain's own order is not in it.
	BuyerYearTotal decimal.Decimal
	// Tariff gives the rates by goods code and date; nil has no line, and
	// rule TARIFF fails every import chain.
	Tariff *Tariff
}

// Registry tells whether an enterprise's customs code is registered.
type Registry interface {
	IsRegistered(code string) bool
}

// EnterpriseSet is a Registry held in memory.
type EnterpriseSet map[string]bool

// IsRegistered reports whether code is in the set.
func (s EnterpriseSet) IsRegistered(code string) bool { return s[code] }

// Direction is the chain's direction, taken from its first document in kind
// order; a chain without documents counts as import.
func (c Chain) Direction() Direction {
	switch {
	case c.Order != nil:
		return c.Order.Direction()
	case c.Payment != nil:
		return c.Payment.Direction()
	case c.Waybill != nil:
		return c.Waybill.Direction()
	case c.Inventory != nil:
		return c.Inventory.Direction()
	}
	return Import
}

// has reports whether the chain holds a document of kind k.
func (c Chain) has(k Kind) bool {
	switch k {
	case KindOrder:
		return c.Order != nil
	case KindPayment:
		return c.Payment != nil
	case KindWaybill:
		return c.Waybill != nil
	case KindInventory:
		return c.Inventory != nil
	}
	return false
}

// RuleFailure is one failed comparison: the document found wrong, its field,
// the value expected (from the other document, or the rule) and the value
// found. Personal ID numbers appear masked.
type RuleFailure struct {
	Code     RuleCode `json:"code"`
	Document Kind     `json:"document"`
	Field    string   `json:"field"`
	Expected string   `json:"expected"`
	Actual   string   `json:"actual"`
}

// Verdict is the outcome of Match. Its JSON is the chain response's
// "verdict", "missing", "failed_rules", "warnings" and "tax".
type Verdict struct {
	Status  Status        `json:"verdict"`
	Missing []Kind        `json:"missing"`      // kind order; never nil
	Failed  []RuleFailure `json:"failed_rules"` // rule order, then field order; never nil
	// Warnings flag what passes but deserves a look: an indivisible item above
	// the single limit (SINGLE_LIMIT, taxed in full) and a declared taxTotal
	// that differs from the computed tax (TAX_TOTAL). Never nil.
	Warnings []RuleFailure `json:"warnings"`
	// Tax is the import tax, computed once order and inventory are both
	// present; nil for export chains and before.
	Tax *Tax `json:"tax,omitempty"`
}

// Equal reports whether v and w say the same, so that a re-evaluation that
// changed nothing writes no new verdict.
func (v Verdict) Equal(w Verdict) bool {
	return v.Status == w.Status && slices.Equal(v.Missing, w.Missing) &&
		slices.Equal(v.Failed, w.Failed) && slices.Equal(v.Warnings, w.Warnings) && v.Tax.equal(w.Tax)
}

func (t *Tax) equal(u *Tax) bool {
	if t == nil || u == nil {
		return t == u
	}
	return t.DeclarationDate == u.DeclarationDate && t.Levy == u.Levy && t.TaxablePrice.Equal(u.TaxablePrice) &&
		t.Amounts.equal(u.Amounts) && t.Total.Equal(u.Total) &&
		slices.EqualFunc(t.Lines, u.Lines, func(a, b LineTax) bool {
			return a.Gnum == b.Gnum && a.GoodsCode == b.GoodsCode && a.TariffCode == b.TariffCode && a.TariffFrom == b.TariffFrom &&
				a.TaxablePrice.Equal(b.TaxablePrice) && a.Rates.equal(b.Rates) && a.Amounts.equal(b.Amounts) && a.Total.Equal(b.Total)
		})
}

func (a Amounts) equal(b Amounts) bool {
	return a.Duty.Equal(b.Duty) && a.ConsumptionTax.Equal(b.ConsumptionTax) && a.VAT.Equal(b.VAT)
}

func (r Rates) equal(s Rates) bool {
	return r.Duty.Equal(s.Duty) && r.VAT.Equal(s.VAT) && r.Consumption.Equal(s.Consumption)
}

// Match compares a chain's documents and returns its verdict. It is pure and
// deterministic: the same chain gives the same verdict, failures in a fixed
// order, whatever order the documents arrived in.
//
// A rule whose documents are not all present is not evaluated. The chain is
// verified when every document is present and every rule holds, mismatched
// as soon as one rule fails (missing documents are listed too), incomplete
// otherwise.
//
// Export chains (CEB303/403/505/603) are matched by ORDER_ARITHMETIC (lines
// only), PAID_AMOUNT (receipt charge against the order total), PAYMENT_REF,
// WAYBILL_REF, PARTIES (enterprises only) and INVENTORY_LINES. The buyer,
// consignee, tax and limit rules concern Chinese buyers and apply to import
// chains only.
func Match(c Chain) Verdict {
	m := &matcher{Chain: c, dir: c.Direction(), failed: []RuleFailure{}, warnings: []RuleFailure{}}
	if m.dir == Import && c.Order != nil && c.Inventory != nil {
		m.tax = m.computeTax()
	}
	for _, r := range rules {
		if r.importOnly && m.dir != Import {
			continue
		}
		m.rule = r.code
		r.check(m)
	}
	if m.tax != nil && !m.tax.Total.Equal(c.Order.TaxTotal) {
		m.warnings = append(m.warnings, RuleFailure{RuleTaxTotal, KindOrder, "taxTotal",
			formatDecimal(m.tax.Total), formatDecimal(c.Order.TaxTotal)})
	}
	v := Verdict{Missing: []Kind{}, Failed: m.failed, Warnings: m.warnings, Tax: m.tax}
	for _, k := range Kinds {
		if !c.has(k) {
			v.Missing = append(v.Missing, k)
		}
	}
	switch {
	case len(v.Failed) > 0:
		v.Status = StatusMismatched
	case len(v.Missing) > 0:
		v.Status = StatusIncomplete
	default:
		v.Status = StatusVerified
	}
	return v
}

// matcher carries one evaluation.
type matcher struct {
	Chain
	dir       Direction
	tax       *Tax
	limits    Limits // in force on the declaration date, if hasLimits
	hasLimits bool
	rule      RuleCode // the rule being evaluated
	failed    []RuleFailure
	warnings  []RuleFailure
}

// fail records a failure of the current rule.
func (m *matcher) fail(doc Kind, field, expected, actual string) {
	m.failed = append(m.failed, RuleFailure{m.rule, doc, field, expected, actual})
}

// rules run in this order, which is the order of Verdict.Failed.
var rules = []struct {
	code       RuleCode
	importOnly bool
	check      func(*matcher)
}{
	{RuleOrderArithmetic, false, (*matcher).orderArithmetic},
	{RulePaidAmount, false, (*matcher).paidAmount},
	{RulePaymentRef, false, (*matcher).paymentRef},
	{RulePayerIsBuyer, true, (*matcher).payerIsBuyer},
	{RuleConsignee, true, (*matcher).consignee},
	{RuleWaybillRef, false, (*matcher).waybillRef},
	{RuleParties, false, (*matcher).parties},
	{RuleInventoryLines, false, (*matcher).inventoryLines},
	{RuleBuyerID, true, (*matcher).buyerID},
	{RuleTariff, true, (*matcher).tariff},
	{RuleSingleLimit, true, (*matcher).singleLimit},
	{RuleAnnualLimit, true, (*matcher).annualLimit},
}
