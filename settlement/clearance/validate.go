package clearance

import (
	"fmt"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"
	"github.com/xbsettle/xbsettle/ledger"
)

// Length limits of text fields, rounded up from the customs standard so that
// real feeds pass and nothing unbounded is stored.
const (
	maxGUID    = 36
	maxShort   = 20 // small codes: unit, country, customs office, trade mode …
	maxNo      = 60 // document and transaction numbers
	maxName    = 100
	maxTel     = 50
	maxAddress = 200
	maxText    = 250
	maxNote    = 1000
)

// decimal(19,5): at most 14 integer digits and 5 decimals.
var (
	decimalLimit = decimal.New(1, 14)
	decimalScale = int32(5)
)

// Validate returns every field error of d, in field order; nil means d may be
// stored. It checks required fields, lengths, decimal(19,5) amounts and their
// signs, appType, appTime (at most MaxAppTimeAhead ahead of the clock),
// enterprise codes (10 characters, digits and capital letters), currencies
// (import documents are in CNY), the shape of resident ID numbers, HS codes
// and lines (1 to 99, gnum 1..99 unique).
//
// A resident ID number (type "1") of the right shape, 17 digits and a digit
// or X, passes here even when its GB 11643 check character is wrong: that
// document is stored and the chain fails rule BUYER_ID, so that the receipt
// explains the problem instead of a bare refusal.
func Validate(d Document) []FieldError {
	var v validator
	d.validate(&v)
	return v.errs
}

// validator collects field errors.
type validator struct {
	errs []FieldError
}

func (v *validator) add(field, code, format string, args ...any) {
	v.errs = append(v.errs, FieldError{field, code, fmt.Sprintf(format, args...)})
}

// text checks a free-text or number field.
func (v *validator) text(field, s string, required bool, max int) {
	switch {
	case s == "" && required:
		v.add(field, CodeRequired, "required")
	case utf8.RuneCountInString(s) > max:
		v.add(field, CodeTooLong, "at most %d characters", max)
	}
}

// oneOf checks a field that takes one of a few values.
func (v *validator) oneOf(field, s string, required bool, allowed ...string) {
	switch {
	case s == "" && required:
		v.add(field, CodeRequired, "required")
	case s != "" && !slices.Contains(allowed, s):
		v.add(field, CodeInvalidValue, "must be one of %v", allowed)
	}
}

// entCode checks a customs registration code: 10 characters, digits and
// capital letters.
func (v *validator) entCode(field, s string, required bool) {
	if s == "" {
		if required {
			v.add(field, CodeRequired, "required")
		}
		return
	}
	ok := len(s) == 10
	for _, r := range s {
		ok = ok && (r >= '0' && r <= '9' || r >= 'A' && r <= 'Z')
	}
	if !ok {
		v.add(field, CodeInvalidEntCode, "a customs registration code is 10 digits or capital letters")
	}
}

// amount checks a decimal(19,5) money or quantity field: never negative, and
// greater than zero when positive is set (an absent amount is zero, so this
// is also how a required amount is enforced).
func (v *validator) amount(field string, d decimal.Decimal, positive bool) {
	switch {
	case d.IsNegative():
		v.add(field, CodeNegative, "must not be negative")
	case positive && d.IsZero():
		v.add(field, CodeNotPositive, "required, greater than 0")
	case !d.Equal(d.Truncate(decimalScale)):
		v.add(field, CodeDecimalScale, "at most %d decimals", decimalScale)
	case d.GreaterThanOrEqual(decimalLimit):
		v.add(field, CodeDecimalRange, "at most 14 integer digits")
	}
}

// currency checks an ISO currency; import documents are in CNY only.
func (v *validator) currency(field string, c ledger.Currency, dir Direction, required bool) {
	switch {
	case c == "":
		if required {
			v.add(field, CodeRequired, "required")
		}
	case !c.Valid():
		v.add(field, CodeInvalidCurrency, "unknown currency")
	case dir == Import && c != cny:
		v.add(field, CodeInvalidCurrency, "import documents are in CNY (customs code 142)")
	}
}

// instant checks a time field.
func (v *validator) instant(field string, t time.Time, required bool) {
	if t.IsZero() && required {
		v.add(field, CodeRequired, "required")
	}
}

// date checks an optional yyyyMMdd date.
func (v *validator) date(field, s string) {
	if _, err := time.Parse("20060102", s); s != "" && err != nil {
		v.add(field, CodeInvalidDate, "a date is yyyyMMdd")
	}
}

// personalID checks an ID type and number pair. Only the shape of a resident
// ID is checked here (see Validate); a sealed ID was checked when it arrived.
func (v *validator) personalID(typeField, numField, idType string, id PersonalID, required bool) {
	v.oneOf(typeField, idType, required, "1", "2")
	switch {
	case id.IsZero():
		if required {
			v.add(numField, CodeRequired, "required")
		}
	case id.Sealed():
	case idType == "1" && !residentIDShape(id.Reveal()):
		v.add(numField, CodeInvalidIDNumber, "a resident ID number is 17 digits and a digit or X")
	default:
		v.text(numField, id.Reveal(), false, maxNo)
	}
}

// head checks the fields every document carries.
func (v *validator) head(h *Head, k Kind) {
	switch {
	case h.Message == "":
		v.add("type", CodeRequired, "required")
	case h.Message.Kind() != k:
		v.add("type", CodeWrongType, "%s is not a %s message", h.Message, k)
	}
	v.text("guid", h.GUID, true, maxGUID)
	if h.AppType < AppNew || h.AppType > AppDelete {
		v.add("appType", CodeInvalidValue, "1 new, 2 change or 3 delete")
	}
	v.instant("appTime", h.AppTime, true)
	if limit := time.Now().Add(MaxAppTimeAhead); h.AppTime.After(limit) {
		// A version dated ahead would stay in force against every later one.
		v.add("appTime", CodeAppTimeFuture, "at most %s ahead of now (%s)", MaxAppTimeAhead, limit.UTC().Format(time.RFC3339))
	}
	v.text("appStatus", h.AppStatus, false, maxShort)
	v.text("note", h.Note, false, maxNote)
}

// lines checks the number of lines and their gnums.
func (v *validator) lines(n int, gnum func(i int) int) {
	switch {
	case n == 0:
		v.add("lines", CodeRequired, "1 to %d lines", MaxLines)
	case n > MaxLines:
		v.add("lines", CodeTooManyLines, "at most %d lines", MaxLines)
	}
	seen := make(map[int]bool, n)
	for i := range n {
		g := gnum(i)
		switch {
		case g < 1 || g > MaxLines:
			v.add(linePath(i, "gnum"), CodeInvalidGnum, "1 to %d", MaxLines)
		case seen[g]:
			v.add(linePath(i, "gnum"), CodeDuplicateGnum, "gnum %d is used twice", g)
		}
		seen[g] = true
	}
}

// linePath is the path of field name in line i.
func linePath(i int, name string) string { return fmt.Sprintf("lines[%d].%s", i, name) }

// ieFlag is the standard's letter for a direction, used by orderType and ieFlag.
func ieFlag(d Direction) string {
	if d == Export {
		return "E"
	}
	return "I"
}

func (o *Order) validate(v *validator) {
	v.head(&o.Head, KindOrder)
	dir := o.Direction()
	imp := dir == Import
	v.oneOf("orderType", o.OrderType, false, ieFlag(dir))
	v.text("orderNo", o.OrderNo, true, maxNo)
	v.entCode("ebpCode", o.EbpCode, true)
	v.text("ebpName", o.EbpName, true, maxName)
	v.entCode("ebcCode", o.EbcCode, true)
	v.text("ebcName", o.EbcName, true, maxName)
	v.amount("goodsValue", o.GoodsValue, true)
	v.amount("freight", o.Freight, false)
	v.amount("discount", o.Discount, false)
	if o.GoodsValue.IsPositive() && o.Discount.GreaterThan(o.GoodsValue) {
		v.add("discount", CodeDiscountTooLarge, "a discount cannot exceed goodsValue")
	}
	v.amount("taxTotal", o.TaxTotal, false)
	v.amount("acturalPaid", o.ActuralPaid, imp)
	v.currency("currency", o.Currency, dir, true)
	v.text("buyerRegNo", o.BuyerRegNo, false, maxNo)
	v.text("buyerName", o.BuyerName, imp, maxName)
	v.text("buyerTelephone", o.BuyerTelephone, imp, maxTel)
	v.personalID("buyerIdType", "buyerIdNumber", o.BuyerIDType, o.BuyerIDNumber, imp)
	v.entCode("payCode", o.PayCode, false)
	v.text("payName", o.PayName, false, maxName)
	v.text("payTransactionId", o.PayTransactionID, false, maxNo)
	v.text("consignee", o.Consignee, imp, maxName)
	v.text("consigneeTelephone", o.ConsigneeTelephone, imp, maxTel)
	v.text("consigneeAddress", o.ConsigneeAddress, imp, maxAddress)
	v.lines(len(o.Lines), func(i int) int { return o.Lines[i].Gnum })
	for i, l := range o.Lines {
		v.text(linePath(i, "itemNo"), l.ItemNo, false, maxNo)
		v.text(linePath(i, "itemName"), l.ItemName, true, maxText)
		v.text(linePath(i, "gmodel"), l.Gmodel, false, maxText)
		v.text(linePath(i, "unit"), l.Unit, false, maxShort)
		v.amount(linePath(i, "qty"), l.Qty, true)
		v.amount(linePath(i, "price"), l.Price, false)
		v.amount(linePath(i, "totalPrice"), l.TotalPrice, false)
		v.currency(linePath(i, "currency"), l.Currency, dir, false)
		v.text(linePath(i, "country"), l.Country, false, maxShort)
	}
}

func (p *Payment) validate(v *validator) {
	v.head(&p.Head, KindPayment)
	dir := p.Direction()
	imp := dir == Import
	v.entCode("payCode", p.PayCode, true)
	v.text("payName", p.PayName, true, maxName)
	v.text("payTransactionId", p.PayTransactionID, imp, maxNo)
	v.text("payNo", p.PayNo, !imp, maxNo)
	v.text("orderNo", p.OrderNo, true, maxNo)
	v.entCode("ebpCode", p.EbpCode, true)
	v.text("ebpName", p.EbpName, true, maxName)
	v.personalID("payerIdType", "payerIdNumber", p.PayerIDType, p.PayerIDNumber, imp)
	v.text("payerName", p.PayerName, imp, maxName)
	v.text("telephone", p.Telephone, false, maxTel)
	// Exactly one amount counts per direction; the other one must stay
	// empty so that nobody reads the wrong one.
	paid, unused, unusedName := "amountPaid", p.Charge, "charge"
	if !imp {
		paid, unused, unusedName = "charge", p.AmountPaid, "amountPaid"
	}
	v.amount(paid, p.Amount(), true)
	if !unused.IsZero() {
		v.add(unusedName, CodeNotAllowed, "a %s document states the amount in %s", dir, paid)
	}
	v.currency("currency", p.Currency, dir, true)
	v.instant("payTime", p.PayTime, imp)
	v.instant("accountingDate", p.AccountingDate, !imp)
}

func (w *Waybill) validate(v *validator) {
	v.head(&w.Head, KindWaybill)
	dir := w.Direction()
	imp := dir == Import
	v.entCode("logisticsCode", w.LogisticsCode, true)
	v.text("logisticsName", w.LogisticsName, true, maxName)
	v.text("logisticsNo", w.LogisticsNo, true, maxNo)
	v.text("orderNo", w.OrderNo, true, maxNo)
	v.entCode("ebpCode", w.EbpCode, false)
	v.amount("freight", w.Freight, false)
	v.amount("insuredFee", w.InsuredFee, false)
	v.currency("currency", w.Currency, dir, true)
	v.amount("weight", w.Weight, true)
	v.count("packNo", w.PackNo)
	v.text("goodsInfo", w.GoodsInfo, false, maxText)
	v.text("consignee", w.Consignee, imp, maxName)
	v.text("consigneeAddress", w.ConsigneeAddress, imp, maxAddress)
	v.text("consigneeTelephone", w.ConsigneeTelephone, imp, maxTel)
}

// tradeModes are the customs supervision modes of cross-border e-commerce:
// 9610 direct purchase, 1210 bonded, and for export also 9710 B2B direct
// export and 9810 export to an overseas warehouse.
var tradeModes = map[Direction][]string{
	Import: {"9610", "1210"},
	Export: {"9610", "1210", "9710", "9810"},
}

func (i *Inventory) validate(v *validator) {
	v.head(&i.Head, KindInventory)
	dir := i.Direction()
	imp := dir == Import
	v.text("orderNo", i.OrderNo, true, maxNo)
	v.entCode("ebpCode", i.EbpCode, true)
	v.text("ebpName", i.EbpName, true, maxName)
	v.entCode("ebcCode", i.EbcCode, true)
	v.text("ebcName", i.EbcName, true, maxName)
	v.text("logisticsNo", i.LogisticsNo, true, maxNo)
	v.entCode("logisticsCode", i.LogisticsCode, true)
	v.text("logisticsName", i.LogisticsName, false, maxName)
	v.text("copNo", i.CopNo, true, maxNo)
	v.text("invtNo", i.InvtNo, false, maxNo)
	v.entCode("assureCode", i.AssureCode, false)
	v.oneOf("ieFlag", i.IEFlag, false, ieFlag(dir))
	v.date("declTime", i.DeclTime)
	v.text("customsCode", i.CustomsCode, false, maxShort)
	v.text("portCode", i.PortCode, false, maxShort)
	v.date("ieDate", i.IEDate)
	v.personalID("buyerIdType", "buyerIdNumber", i.BuyerIDType, i.BuyerIDNumber, imp)
	v.text("buyerName", i.BuyerName, imp, maxName)
	v.text("buyerTelephone", i.BuyerTelephone, false, maxTel)
	v.text("consigneeAddress", i.ConsigneeAddress, false, maxAddress)
	v.entCode("agentCode", i.AgentCode, false)
	v.text("agentName", i.AgentName, false, maxName)
	v.oneOf("tradeMode", i.TradeMode, true, tradeModes[dir]...)
	v.text("trafMode", i.TrafMode, false, maxShort)
	v.text("country", i.Country, false, maxShort)
	v.amount("freight", i.Freight, false)
	v.amount("insuredFee", i.InsuredFee, false)
	v.currency("currency", i.Currency, dir, true)
	v.count("packNo", i.PackNo)
	v.amount("grossWeight", i.GrossWeight, false)
	v.amount("netWeight", i.NetWeight, false)
	v.text("status", i.Status, false, maxShort)
	v.lines(len(i.Lines), func(n int) int { return i.Lines[n].Gnum })
	for n, l := range i.Lines {
		v.text(linePath(n, "itemNo"), l.ItemNo, false, maxNo)
		v.text(linePath(n, "itemName"), l.ItemName, true, maxText)
		if len(l.Gcode) != 10 || !allDigits(l.Gcode) {
			v.add(linePath(n, "gcode"), CodeInvalidHSCode, "an HS code is 10 digits")
		}
		v.text(linePath(n, "gname"), l.Gname, true, maxText)
		v.text(linePath(n, "gmodel"), l.Gmodel, false, maxText)
		v.text(linePath(n, "country"), l.Country, false, maxShort)
		v.currency(linePath(n, "currency"), l.Currency, dir, false)
		v.amount(linePath(n, "qty"), l.Qty, true)
		v.text(linePath(n, "unit"), l.Unit, false, maxShort)
		v.amount(linePath(n, "qty1"), l.Qty1, false)
		v.text(linePath(n, "unit1"), l.Unit1, false, maxShort)
		v.amount(linePath(n, "price"), l.Price, false)
		v.amount(linePath(n, "totalPrice"), l.TotalPrice, false)
	}
}

// count checks a non-negative integer such as packNo.
func (v *validator) count(field string, n int) {
	if n < 0 {
		v.add(field, CodeNegative, "must not be negative")
	}
}

// validate checks a message's sender block.
func (t *BaseTransfer) validate(v *validator) {
	v.entCode("copCode", t.CopCode, true)
	v.text("copName", t.CopName, true, maxName)
	v.text("dxpMode", t.DxpMode, true, maxShort)
	v.text("dxpId", t.DxpID, true, maxNo)
}
