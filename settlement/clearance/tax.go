package clearance

import (
	"encoding/json"
	"fmt"
	"math/big"
	"slices"

	"github.com/shopspring/decimal"
)

// Cross-border retail import tax (跨境电商零售进口税): customs duty 0, VAT and
// consumption tax at 70% of the statutory amounts, per order line:
//
//	P   = the line's share of goodsValue − discount + freight + insuredFee
//	CT  = P·c/(1−c)
//	VAT = (P + CT)·v
//	tax = 0.7·(CT + VAT)
//
// Intermediate values are not rounded: CT is carried to divPrecision decimals
// (an exact quotient has fewer, an inexact one cannot sit on a half fen, so
// the final rounding is as if exact), VAT and tax are exact products. Each
// line's CT, VAT and tax are then rounded half-up to the fen
// (ledger.Currency.RoundHalfUp); the order's figures are the sums of its
// lines' rounded figures, so the receipt adds up line by line.

// Rates are the tax rates of one HS heading.
type Rates struct {
	VAT         decimal.Decimal // v; 13% unless the heading says otherwise
	Consumption decimal.Decimal // c; 0 ≤ c < 1, 0 for most goods
}

// Valid reports whether the rates can be used: 0 ≤ c < 1 and v ≥ 0. Check
// a rate table when it is loaded; RetailTax panics on invalid rates.
func (r Rates) Valid() bool {
	return !r.Consumption.IsNegative() && r.Consumption.LessThan(one) && !r.VAT.IsNegative()
}

// DefaultRates apply to a heading the rate table does not list: VAT 13%, no
// consumption tax.
var DefaultRates = Rates{VAT: decimal.RequireFromString("0.13"), Consumption: decimal.Zero}

// RateTable looks rates up by HS heading, the first 4 digits of an HS code.
// The table itself lives in the database.
type RateTable interface {
	Rates(heading string) (Rates, bool)
}

// RateMap is a RateTable held in memory.
type RateMap map[string]Rates

// Rates returns the heading's rates.
func (m RateMap) Rates(heading string) (Rates, bool) {
	r, ok := m[heading]
	return r, ok
}

var (
	retailShare  = decimal.RequireFromString("0.7")
	one          = decimal.NewFromInt(1)
	divPrecision = int32(20)
)

// RetailTax applies the formula to one taxable price and returns the
// consumption tax, the VAT and the tax due, each rounded half-up to the fen.
// The tax is 70% of the unrounded CT + VAT. It panics on rates that are not
// Valid: the rate table is checked when it is loaded.
func RetailTax(p decimal.Decimal, r Rates) (consumption, vat, total decimal.Decimal) {
	if !r.Valid() {
		panic(fmt.Sprintf("clearance: invalid tax rates c=%s v=%s", r.Consumption, r.VAT))
	}
	ct := p.Mul(r.Consumption).DivRound(one.Sub(r.Consumption), divPrecision)
	v := p.Add(ct).Mul(r.VAT)
	t := retailShare.Mul(ct.Add(v))
	return cny.RoundHalfUp(ct), cny.RoundHalfUp(v), cny.RoundHalfUp(t)
}

// Tax is an import order's retail tax.
type Tax struct {
	TaxablePrice   decimal.Decimal // P of the whole order
	ConsumptionTax decimal.Decimal // sum of the lines' rounded CT
	VAT            decimal.Decimal // sum of the lines' rounded VAT
	Total          decimal.Decimal // sum of the lines' rounded tax
	Lines          []LineTax       // by gnum
}

// LineTax is the tax of one order line.
type LineTax struct {
	Gnum           int
	HSHeading      string // "" when the inventory has no line of this gnum
	TaxablePrice   decimal.Decimal
	Rates          Rates
	ConsumptionTax decimal.Decimal
	VAT            decimal.Decimal
	Total          decimal.Decimal
}

// TaxablePrice is P = goodsValue − discount + freight + insuredFee, the
// goods and discount from the order, freight and insurance from the
// inventory: the declaration is what customs taxes.
func TaxablePrice(o *Order, inv *Inventory) decimal.Decimal {
	return o.GoodsValue.Sub(o.Discount).Add(inv.Freight).Add(inv.InsuredFee)
}

// ComputeTax computes the retail tax of an import order line by line. P is
// allocated to the lines in proportion to their totalPrice (equally if all
// are 0) by the largest-remainder method: every share is floored to the fen
// (or to P's own last decimal if finer), and the fens left over go one each
// to the lines with the largest remainders, ties to the lower gnum. The
// shares therefore sum exactly to P and none is negative. A line's rates
// come from the heading of the inventory line of the same gnum; rates may be
// nil, and an unlisted heading takes DefaultRates.
func ComputeTax(o *Order, inv *Inventory, rates RateTable) *Tax {
	lines := sortedLines(o.Lines, func(l OrderLine) int { return l.Gnum })
	weights := make([]decimal.Decimal, len(lines))
	for i, l := range lines {
		weights[i] = l.TotalPrice
	}
	p := TaxablePrice(o, inv)
	shares := allocate(p, weights)
	tax := &Tax{TaxablePrice: p, Lines: make([]LineTax, len(lines))}
	for i, l := range lines {
		lt := LineTax{Gnum: l.Gnum, TaxablePrice: shares[i], Rates: DefaultRates}
		if il, ok := inventoryLine(inv, l.Gnum); ok && len(il.Gcode) >= 4 {
			lt.HSHeading = il.Gcode[:4]
		}
		if r, ok := lookupRates(rates, lt.HSHeading); ok {
			lt.Rates = r
		}
		lt.ConsumptionTax, lt.VAT, lt.Total = RetailTax(lt.TaxablePrice, lt.Rates)
		tax.ConsumptionTax = tax.ConsumptionTax.Add(lt.ConsumptionTax)
		tax.VAT = tax.VAT.Add(lt.VAT)
		tax.Total = tax.Total.Add(lt.Total)
		tax.Lines[i] = lt
	}
	return tax
}

func lookupRates(t RateTable, heading string) (Rates, bool) {
	if t == nil || heading == "" {
		return Rates{}, false
	}
	return t.Rates(heading)
}

// inventoryLine finds the inventory line of gnum g.
func inventoryLine(inv *Inventory, g int) (InventoryLine, bool) {
	for _, l := range inv.Lines {
		if l.Gnum == g {
			return l, true
		}
	}
	return InventoryLine{}, false
}

// allocate splits total in proportion to weights by largest remainder, in
// integer arithmetic so that no share is off by rounding (see ComputeTax).
// Weights that do not sum to a positive number count as equal.
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
// strings with two decimals.
func (t Tax) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		TaxablePrice   string    `json:"taxable_price"`
		ConsumptionTax string    `json:"consumption_tax"`
		VAT            string    `json:"vat"`
		Total          string    `json:"total"`
		Lines          []LineTax `json:"lines"`
	}{formatDecimal(t.TaxablePrice), formatDecimal(t.ConsumptionTax), formatDecimal(t.VAT), formatDecimal(t.Total), t.Lines})
}

// MarshalJSON writes one line of the tax.
func (l LineTax) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Gnum            int    `json:"gnum"`
		HSHeading       string `json:"hs_heading"`
		TaxablePrice    string `json:"taxable_price"`
		ConsumptionRate string `json:"consumption_rate"`
		VATRate         string `json:"vat_rate"`
		ConsumptionTax  string `json:"consumption_tax"`
		VAT             string `json:"vat"`
		Total           string `json:"total"`
	}{l.Gnum, l.HSHeading, formatDecimal(l.TaxablePrice), l.Rates.Consumption.String(), l.Rates.VAT.String(),
		formatDecimal(l.ConsumptionTax), formatDecimal(l.VAT), formatDecimal(l.Total)})
}
