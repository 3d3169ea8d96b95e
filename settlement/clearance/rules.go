package clearance

import (
	"cmp"
	"fmt"
	"maps"
	"slices"

	"github.com/shopspring/decimal"
)

// Each rule reads the documents it needs and returns at once when one is
// missing. Expected values come from the reference document (the order,
// or the waybill for WAYBILL_REF) or from the rule; actual values from the
// document found wrong.

// orderArithmetic: acturalPaid = goodsValue + freight + taxTotal − discount
// (import; export orders do not state acturalPaid), every line's totalPrice =
// price × qty (exactly, or rounded half-up to the currency's minor units,
// since a 5-decimal unit price times a quantity need not fit), and the lines
// sum to goodsValue.
func (m *matcher) orderArithmetic() {
	o := m.Order
	if o == nil {
		return
	}
	if m.dir == Import {
		m.compareAmount(KindOrder, "acturalPaid", o.Total(), o.ActuralPaid)
	}
	sum := decimal.Zero
	for _, l := range sortedLines(o.Lines, func(l OrderLine) int { return l.Gnum }) {
		sum = sum.Add(l.TotalPrice)
		product := l.Price.Mul(l.Qty)
		if !l.TotalPrice.Equal(product) && !l.TotalPrice.Equal(o.Currency.RoundHalfUp(product)) {
			m.fail(KindOrder, gnumPath(l.Gnum, "totalPrice"), formatDecimal(product), formatDecimal(l.TotalPrice))
		}
	}
	m.compareAmount(KindOrder, "goodsValue", sum, o.GoodsValue)
}

// paidAmount: the payment's amount and currency are the order's: import
// amountPaid = acturalPaid; export charge = the order's Total, which export
// orders do not state.
func (m *matcher) paidAmount() {
	o, p := m.Order, m.Payment
	if o == nil || p == nil {
		return
	}
	if p.Currency != o.Currency {
		m.fail(KindPayment, "currency", string(o.Currency), string(p.Currency))
	}
	want, field := o.ActuralPaid, "amountPaid"
	if m.dir == Export {
		want, field = o.Total(), "charge"
	}
	m.compareAmount(KindPayment, field, want, p.Amount())
}

// paymentRef: the order's payCode and payTransactionId, where given, name
// this payment (its payTransactionId, or payNo on export).
func (m *matcher) paymentRef() {
	o, p := m.Order, m.Payment
	if o == nil || p == nil {
		return
	}
	if o.PayCode != "" {
		m.compareText(KindPayment, "payCode", o.PayCode, p.PayCode)
	}
	if o.PayTransactionID != "" {
		field := "payTransactionId"
		if m.dir == Export {
			field = "payNo"
		}
		m.compareText(KindPayment, field, o.PayTransactionID, p.Ref())
	}
}

// payerIsBuyer: the payer is the buyer, by ID type, number and name.
func (m *matcher) payerIsBuyer() {
	o, p := m.Order, m.Payment
	if o == nil || p == nil {
		return
	}
	m.compareID(KindPayment, "payerId", o.BuyerIDType, o.BuyerIDNumber, p.PayerIDType, p.PayerIDNumber)
	m.compareText(KindPayment, "payerName", o.BuyerName, p.PayerName)
}

// consignee: the waybill delivers to the order's consignee, exactly (both
// were trimmed when decoded).
func (m *matcher) consignee() {
	o, w := m.Order, m.Waybill
	if o == nil || w == nil {
		return
	}
	m.compareText(KindWaybill, "consignee", o.Consignee, w.Consignee)
	m.compareText(KindWaybill, "consigneeTelephone", o.ConsigneeTelephone, w.ConsigneeTelephone)
	m.compareText(KindWaybill, "consigneeAddress", o.ConsigneeAddress, w.ConsigneeAddress)
}

// waybillRef: the inventory names this waybill.
func (m *matcher) waybillRef() {
	w, i := m.Waybill, m.Inventory
	if w == nil || i == nil {
		return
	}
	m.compareText(KindInventory, "logisticsCode", w.LogisticsCode, i.LogisticsCode)
	m.compareText(KindInventory, "logisticsNo", w.LogisticsNo, i.LogisticsNo)
}

// parties: the inventory names the order's platform and seller (and, on
// import, its buyer), and the platform and seller are registered. The
// registration is checked as soon as the order or the inventory is there.
func (m *matcher) parties() {
	o, i := m.Order, m.Inventory
	if o != nil && i != nil {
		m.compareText(KindInventory, "ebpCode", o.EbpCode, i.EbpCode)
		m.compareText(KindInventory, "ebcCode", o.EbcCode, i.EbcCode)
		if m.dir == Import {
			m.compareID(KindInventory, "buyerId", o.BuyerIDType, o.BuyerIDNumber, i.BuyerIDType, i.BuyerIDNumber)
			m.compareText(KindInventory, "buyerName", o.BuyerName, i.BuyerName)
		}
	}
	type party struct {
		doc         Kind
		field, code string
	}
	var parties []party
	if o != nil {
		parties = append(parties, party{KindOrder, "ebpCode", o.EbpCode}, party{KindOrder, "ebcCode", o.EbcCode})
	}
	if i != nil {
		parties = append(parties, party{KindInventory, "ebpCode", i.EbpCode}, party{KindInventory, "ebcCode", i.EbcCode})
	}
	checked := map[string]bool{}
	for _, p := range parties {
		if checked[p.code] {
			continue
		}
		checked[p.code] = true
		if m.Facts.Registry == nil || !m.Facts.Registry.IsRegistered(p.code) {
			m.fail(p.doc, p.field, "registered enterprise", p.code)
		}
	}
}

// inventoryLines: the inventory's lines pair one to one with the order's by
// gnum, with the same item name, quantity and unit price.
func (m *matcher) inventoryLines() {
	o, i := m.Order, m.Inventory
	if o == nil || i == nil {
		return
	}
	invLines := make(map[int]InventoryLine, len(i.Lines))
	for _, l := range i.Lines {
		invLines[l.Gnum] = l
	}
	for _, ol := range sortedLines(o.Lines, func(l OrderLine) int { return l.Gnum }) {
		il, ok := invLines[ol.Gnum]
		if !ok {
			m.fail(KindInventory, gnumPath(ol.Gnum, ""), "line present", "no line")
			continue
		}
		delete(invLines, ol.Gnum)
		m.compareText(KindInventory, gnumPath(ol.Gnum, "itemName"), ol.ItemName, il.ItemName)
		m.compareAmount(KindInventory, gnumPath(ol.Gnum, "qty"), ol.Qty, il.Qty)
		m.compareAmount(KindInventory, gnumPath(ol.Gnum, "price"), ol.Price, il.Price)
	}
	for _, g := range slices.Sorted(maps.Keys(invLines)) {
		m.fail(KindInventory, gnumPath(g, ""), "no line", "line present")
	}
}

// buyerID: a resident ID number (type 1) has a right GB 11643 check
// character, on the order and on the inventory.
func (m *matcher) buyerID() {
	if o := m.Order; o != nil && o.BuyerIDType == "1" && !o.BuyerIDNumber.CheckDigitValid() {
		m.fail(KindOrder, "buyerIdNumber", "GB 11643 check character", o.BuyerIDNumber.Mask())
	}
	if i := m.Inventory; i != nil && i.BuyerIDType == "1" && !i.BuyerIDNumber.CheckDigitValid() {
		m.fail(KindInventory, "buyerIdNumber", "GB 11643 check character", i.BuyerIDNumber.Mask())
	}
}

// TaxOf is the tax customs levies on an import chain: on the inventory,
// within the limits in force on its declaration date, or in full when the
// order is one indivisible item (one line of quantity 1) whose taxable price
// is above the single limit and below the annual limit (财关税〔2018〕49号
// §2). A platform declaring taxTotal computes it so.
func TaxOf(o *Order, inv *Inventory, t *Tariff) *Tax {
	tax := ComputeTax(inv, t, LevyRetail)
	l, ok := LimitsOn(tax.DeclarationDate)
	if ok && len(o.Lines) == 1 && o.Lines[0].Qty.Equal(one) &&
		tax.TaxablePrice.GreaterThan(l.Single) && tax.TaxablePrice.LessThan(l.Annual) {
		return ComputeTax(inv, t, LevyFull)
	}
	return tax
}

// computeTax is TaxOf, keeping the limits for SINGLE_LIMIT and ANNUAL_LIMIT.
func (m *matcher) computeTax() *Tax {
	tax := TaxOf(m.Order, m.Inventory, m.Facts.Tariff)
	m.limits, m.hasLimits = LimitsOn(tax.DeclarationDate)
	return tax
}

// tariff: every inventory line's goods code has a tariff line in force on
// the declaration date, and one with a duty rate when taxed in full.
func (m *matcher) tariff() {
	if m.tax == nil {
		return
	}
	on := " in force on " + string(m.tax.DeclarationDate)
	for _, l := range m.tax.Lines {
		switch {
		case l.TariffCode == "":
			m.fail(KindInventory, gnumPath(l.Gnum, "gcode"), "a tariff line"+on, l.GoodsCode)
		case l.dutyUnknown:
			m.fail(KindInventory, gnumPath(l.Gnum, "gcode"), "a duty rate"+on, l.GoodsCode)
		}
	}
}

// singleLimit: the taxable price is at most the single limit in force on
// the declaration date. One indivisible item above it, taxed in full (see
// computeTax), passes with a warning. Before the first limits (the regime
// began on 2016-04-08) the declaration fails.
func (m *matcher) singleLimit() {
	if m.tax == nil {
		return
	}
	if !m.hasLimits {
		m.fail(KindInventory, "declTime", "on or after "+string(limitEras[0].From), string(m.tax.DeclarationDate))
		return
	}
	if m.tax.TaxablePrice.LessThanOrEqual(m.limits.Single) {
		return
	}
	f := RuleFailure{m.rule, KindOrder, "taxablePrice", "<= " + formatDecimal(m.limits.Single), formatDecimal(m.tax.TaxablePrice)}
	if m.tax.Levy == LevyFull {
		m.warnings = append(m.warnings, f)
		return
	}
	m.failed = append(m.failed, f)
}

// annualLimit: the buyer's purchases this calendar year, this order's
// taxable price included, are at most the annual limit in force on the
// declaration date.
func (m *matcher) annualLimit() {
	if m.tax == nil || !m.hasLimits {
		return
	}
	total := m.Facts.BuyerYearTotal.Add(m.tax.TaxablePrice)
	if total.GreaterThan(m.limits.Annual) {
		m.fail(KindOrder, "annualTotal", "<= "+formatDecimal(m.limits.Annual), formatDecimal(total))
	}
}

func (m *matcher) compareText(doc Kind, field, want, got string) {
	if want != got {
		m.fail(doc, field, want, got)
	}
}

func (m *matcher) compareAmount(doc Kind, field string, want, got decimal.Decimal) {
	if !want.Equal(got) {
		m.fail(doc, field, formatDecimal(want), formatDecimal(got))
	}
}

// compareID compares ID type and number; numbers are reported masked.
func (m *matcher) compareID(doc Kind, prefix, wantType string, want PersonalID, gotType string, got PersonalID) {
	m.compareText(doc, prefix+"Type", wantType, gotType)
	if !want.Equal(got) {
		m.fail(doc, prefix+"Number", want.Mask(), got.Mask())
	}
}

// gnumPath names a line by its gnum, which is what both documents share:
// "lines[gnum=2].qty".
func gnumPath(gnum int, field string) string {
	if field == "" {
		return fmt.Sprintf("lines[gnum=%d]", gnum)
	}
	return fmt.Sprintf("lines[gnum=%d].%s", gnum, field)
}

// sortedLines returns lines in gnum order, so that failures come out in the
// same order however the lines were listed.
func sortedLines[L any](lines []L, gnum func(L) int) []L {
	return slices.SortedFunc(slices.Values(lines), func(a, b L) int { return cmp.Compare(gnum(a), gnum(b)) })
}
