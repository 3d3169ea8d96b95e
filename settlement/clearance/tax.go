package clearance

import (
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
	"time"

	"github.com/shopspring/decimal"
)

// Cross-border retail import tax (跨境电商零售进口税) as customs levies it
// (财关税〔2016〕18号, 〔2018〕49号; docs/clearance.md "Import tax"). Per
// inventory line, with taxable price P, duty rate d, consumption-tax rate c
// and VAT rate v from the tariff in force on the declaration date:
//
//	P   = the line's totalPrice + its share of freight and insuredFee
//	D   = P·d                    customs duty
//	CT  = (P + D)·c / (1 − c)    ad valorem consumption tax on the composite price
//	VAT = (P + D + CT)·v
//
// Within the limits (LevyRetail) the duty rate is 0% and CT and VAT are
// collected at 70%; goods taxed in full (LevyFull) pay all three at 100%.
// Each collected amount is rounded half-up to the fen on its own, per line
// (ledger.Currency.RoundHalfUp), and the line's total is the sum of its
// three rounded amounts, as the electronic tax bill shows them; the
// inventory's figures are the sums of its lines'. Nothing is rounded before
// the share is taken: CT is carried to divPrecision decimals (an inexact
// quotient cannot sit on a half fen, so the rounding is as if exact), the
// rest are exact products.

// Rates are the rates applied to one line.
type Rates struct {
	Duty        decimal.Decimal // d; 0 within the limits
	VAT         decimal.Decimal // v
	Consumption decimal.Decimal // c; 0 ≤ c < 1, 0 when the goods carry none or are below its threshold
}

// Valid reports whether the rates can be used: d ≥ 0, v ≥ 0, 0 ≤ c < 1.
// The tariff checks its lines when they are loaded or changed; LevyTax
// panics on invalid rates.
func (r Rates) Valid() bool {
	return !r.Duty.IsNegative() && !r.VAT.IsNegative() && !r.Consumption.IsNegative() && r.Consumption.LessThan(one)
}

// Levy is how much of the statutory tax is collected.
type Levy string

// The two levies.
const (
	// LevyRetail: within the limits, duty 0%, CT and VAT at 70% (18号 §3).
	LevyRetail Levy = "retail"
	// LevyFull: one indivisible item above the single limit, taxed in full
	// as goods (49号 §2).
	LevyFull Levy = "full"
)

var (
	retailShare  = decimal.RequireFromString("0.7")
	one          = decimal.NewFromInt(1)
	divPrecision = int32(20)
)

// Amounts are the collected taxes of one line, each rounded to the fen.
type Amounts struct {
	Duty           decimal.Decimal
	ConsumptionTax decimal.Decimal
	VAT            decimal.Decimal
}

// Total is the sum of the three amounts.
func (a Amounts) Total() decimal.Decimal { return a.Duty.Add(a.ConsumptionTax).Add(a.VAT) }

func (a Amounts) add(b Amounts) Amounts {
	return Amounts{a.Duty.Add(b.Duty), a.ConsumptionTax.Add(b.ConsumptionTax), a.VAT.Add(b.VAT)}
}

// LevyTax applies the formula to one taxable price. Under LevyRetail the
// duty rate counts as 0 whatever r says. It panics on rates that are not
// Valid.
func LevyTax(p decimal.Decimal, r Rates, levy Levy) Amounts {
	if !r.Valid() {
		panic(fmt.Sprintf("clearance: invalid tax rates d=%s c=%s v=%s", r.Duty, r.Consumption, r.VAT))
	}
	share := one
	if levy == LevyRetail {
		r.Duty, share = decimal.Zero, retailShare
	}
	duty := p.Mul(r.Duty)
	ct := p.Add(duty).Mul(r.Consumption).DivRound(one.Sub(r.Consumption), divPrecision)
	vat := p.Add(duty).Add(ct).Mul(r.VAT)
	return Amounts{
		Duty:           cny.RoundHalfUp(share.Mul(duty)),
		ConsumptionTax: cny.RoundHalfUp(share.Mul(ct)),
		VAT:            cny.RoundHalfUp(share.Mul(vat)),
	}
}

// Tax is an import inventory's tax, as its electronic tax bill shows it.
type Tax struct {
	DeclarationDate Day
	Levy            Levy
	TaxablePrice    decimal.Decimal // sum of the lines' P
	Amounts                         // sums of the lines' rounded amounts
	Total           decimal.Decimal // Amounts.Total()
	Lines           []LineTax       // by gnum
}

// LineTax is the tax of one inventory line.
type LineTax struct {
	Gnum         int
	GoodsCode    string // gcode
	TariffCode   string // the tariff line applied: its code ("*", a prefix or gcode), "" when none is in force
	TariffFrom   Day    // and its first day
	TaxablePrice decimal.Decimal
	Rates        Rates // as applied: duty 0 within the limits, c 0 below a threshold
	Amounts
	Total decimal.Decimal
	// dutyUnknown: taxed in full, but the tariff line has no duty rate.
	dutyUnknown bool
}

// declarationDay is the inventory's declaration date: declTime, else its
// appTime's China date.
func declarationDay(inv *Inventory) Day {
	if d, err := time.Parse("20060102", inv.DeclTime); err == nil {
		return Day(d.Format(time.DateOnly))
	}
	return dayOf(inv.AppTime)
}

// ComputeTax computes the tax of an import inventory line by line, with the
// tariff in force on its declaration date. The discount of the order does
// not lower the price: it is the part paid by points or vouchers (非现金抵扣
// 金额), inside goodsValue, and the line prices are what was paid for the
// goods. Freight and insuredFee are apportioned to the lines in proportion
// to their totalPrice (equally if all are 0) by the largest-remainder method
// (see allocate), so the lines' P sum exactly to the goods, freight and
// insurance. A line whose code has no tariff line in force keeps rates 0
// and TariffCode "" (rule TARIFF fails it).
func ComputeTax(inv *Inventory, tariff *Tariff, levy Levy) *Tax {
	lines := sortedLines(inv.Lines, func(l InventoryLine) int { return l.Gnum })
	weights := make([]decimal.Decimal, len(lines))
	for i, l := range lines {
		weights[i] = l.TotalPrice
	}
	shares := allocate(inv.Freight.Add(inv.InsuredFee), weights)
	tax := &Tax{DeclarationDate: declarationDay(inv), Levy: levy, Lines: make([]LineTax, len(lines))}
	for i, l := range lines {
		lt := LineTax{Gnum: l.Gnum, GoodsCode: l.Gcode, TaxablePrice: l.TotalPrice.Add(shares[i])}
		if tl, ok := tariff.Line(l.Gcode, tax.DeclarationDate); ok {
			due := tl.consumptionDue(l, lt.TaxablePrice)
			lt.TariffCode, lt.TariffFrom, lt.Rates = tl.Code, tl.ValidFrom, tl.rates(&due)
			lt.dutyUnknown = levy == LevyFull && tl.Duty == nil
		}
		if levy == LevyRetail {
			lt.Rates.Duty = decimal.Zero
		}
		lt.Amounts = LevyTax(lt.TaxablePrice, lt.Rates, levy)
		lt.Total = lt.Amounts.Total()
		tax.TaxablePrice = tax.TaxablePrice.Add(lt.TaxablePrice)
		tax.Amounts = tax.Amounts.add(lt.Amounts)
		tax.Lines[i] = lt
	}
	tax.Total = tax.Amounts.Total()
	return tax
}

// allocate splits total in proportion to weights by largest remainder, in
// integer arithmetic so that no share is off by rounding: every share is
// floored to the fen (or to total's own last decimal if finer), and the
// units left over go one each to the lines with the largest remainders,
// ties to the earlier line. The shares sum exactly to total and none is
// negative (a "last line takes the remainder" rule can go negative). Weights
// that do not sum to a positive number count as equal.
func allocate(total decimal.Decimal, weights []decimal.Decimal) []decimal.Decimal {
	if len(weights) == 0 {
		return nil
	}
	wplaces := int32(0)
	for _, w := range weights {
		wplaces = max(wplaces, -w.Exponent())
	}
	ws := make([]*big.Int, len(weights))
	den := new(big.Int)
	for i, w := range weights {
		ws[i] = w.Shift(wplaces).BigInt()
		den.Add(den, ws[i])
	}
	if den.Sign() <= 0 {
		for i := range ws {
			ws[i] = big.NewInt(1)
		}
		den.SetInt64(int64(len(ws)))
	}
	places := max(2, -total.Exponent())
	units := total.Shift(places).BigInt()
	// Euclidean division floors whatever the signs, so the units left over
	// number between 0 and len(weights)-1.
	quo, rem := make([]*big.Int, len(ws)), make([]*big.Int, len(ws))
	left := new(big.Int).Set(units)
	for i, w := range ws {
		quo[i], rem[i] = new(big.Int).DivMod(new(big.Int).Mul(units, w), den, new(big.Int))
		left.Sub(left, quo[i])
	}
	order := make([]int, len(ws))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return rem[b].Cmp(rem[a]) })
	for _, i := range order[:left.Int64()] {
		quo[i].Add(quo[i], big.NewInt(1))
	}
	shares := make([]decimal.Decimal, len(ws))
	for i, q := range quo {
		shares[i] = decimal.NewFromBigInt(q, -places)
	}
	return shares
}

// MarshalJSON writes the tax as in the chain response: amounts as decimal
// strings with two decimals, rates as decimals.
func (t Tax) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		DeclarationDate Day       `json:"declaration_date"`
		Levy            Levy      `json:"levy"`
		TaxablePrice    string    `json:"taxable_price"`
		Duty            string    `json:"customs_duty"`
		ConsumptionTax  string    `json:"consumption_tax"`
		VAT             string    `json:"vat"`
		Total           string    `json:"total"`
		Lines           []LineTax `json:"lines"`
	}{t.DeclarationDate, t.Levy, formatDecimal(t.TaxablePrice), formatDecimal(t.Duty), formatDecimal(t.ConsumptionTax),
		formatDecimal(t.VAT), formatDecimal(t.Total), t.Lines})
}

// MarshalJSON writes one line of the tax.
func (l LineTax) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Gnum            int    `json:"gnum"`
		GoodsCode       string `json:"goods_code"`
		TariffCode      string `json:"tariff_code"`
		TariffFrom      Day    `json:"tariff_valid_from"`
		TaxablePrice    string `json:"taxable_price"`
		DutyRate        string `json:"duty_rate"`
		ConsumptionRate string `json:"consumption_rate"`
		VATRate         string `json:"vat_rate"`
		Duty            string `json:"customs_duty"`
		ConsumptionTax  string `json:"consumption_tax"`
		VAT             string `json:"vat"`
		Total           string `json:"total"`
	}{l.Gnum, l.GoodsCode, l.TariffCode, l.TariffFrom, formatDecimal(l.TaxablePrice), l.Rates.Duty.String(),
		l.Rates.Consumption.String(), l.Rates.VAT.String(), formatDecimal(l.Duty), formatDecimal(l.ConsumptionTax),
		formatDecimal(l.VAT), formatDecimal(l.Total)})
}
