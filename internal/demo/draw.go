package demo

import (
	"time"

	"github.com/shopspring/decimal"

	"github.com/xbsettle/xbsettle/ledger"
	"github.com/xbsettle/xbsettle/settlement/clearance"
)

// Relative weights of the day's choices.
var (
	importSellerWeights = []int{25, 18, 7, 22, 8, 14, 3} // by cast.importSellers
	exportSellerWeights = []int{18, 20, 16, 24, 8, 14}   // by cast.exportSellers
	institutionWeights  = []int{50, 30, 20}              // by cast.institutions
	qtyWeights          = []int{70, 20, 7, 2, 1}         // 1 to 5 units of a line
	lineCountWeights    = []int{60, 30, 10}              // 1 to 3 lines
)

// annualBase is an annual-limit group's order: 5 × P ≤ 26,000 < 6 × P.
var annualBase = decimal.NewFromInt(4800)

// shippedTariff is the tariff the service starts with: the platforms
// declare the tax it gives.
var shippedTariff = func() *clearance.Tariff {
	t, err := clearance.ShippedTariff()
	if err != nil {
		panic(err)
	}
	return t
}()

// importParcel draws a Chinese buyer's order from an overseas seller,
// paid in CNY, with the defect planted.
func (g *generator) importParcel(defect DefectKind) *Parcel {
	d := g.d
	seller := g.c.importSellers[d.weighted(importSellerWeights)]
	p := &Parcel{Seller: seller, Currency: "CNY", PayoutCurrency: seller.Currency, Defect: defect}
	g.importRoute(p)
	if defect == DefectSingleLimit {
		// Someone buying once, big: with other orders of the day the
		// annual limit could fail too, and the defect would not be one.
		p.Buyer = g.newBuyer()
	} else {
		p.Buyer = g.buyer()
	}
	p.Payer, p.Consignee = p.Buyer, p.Buyer
	if d.chance(0.08) { // a gift, sent to someone of the household
		p.Consignee = relative(d, p.Buyer, g.serial)
	}
	if p.TradeMode == "9610" {
		p.Freight = decimal.NewFromInt(int64(pick(d, []int{0, 0, 8, 12, 15, 20})))
		if d.chance(0.1) {
			p.InsuredFee = decimal.NewFromInt(int64(pick(d, []int{2, 5})))
		}
	} else { // bonded stock ships from Qianhai: cheap or free delivery
		p.Freight = decimal.NewFromInt(int64(pick(d, []int{0, 0, 0, 6})))
	}
	if defect == DefectSingleLimit {
		p.Lines = g.overLimitLines(seller)
	} else {
		g.linesWithinLimit(p)
	}
	p.Tax = g.importTax(p)
	p.Paid = p.Total()
	switch defect {
	case DefectAmountMismatch:
		if p.Discount.IsPositive() { // the institution charged the price before the coupon
			p.Paid = p.Total().Add(p.Discount)
		} else if p.Paid = p.Total().Floor(); p.Paid.Equal(p.Total()) { // rounded down to the yuan
			p.Paid = p.Paid.Sub(decimal.NewFromInt(1))
		}
	case DefectPayerNotBuyer:
		p.Payer = relative(d, p.Buyer, g.serial)
	}
	return p
}

// importRoute picks the platform, trade mode, carrier and institution of an
// import: bonded (1210) stock mostly leaves the Qianhai warehouse with its
// logistics company; direct mail (9610) comes with the express carriers.
func (g *generator) importRoute(p *Parcel) {
	d := g.d
	p.Platform = g.c.importPlatforms[d.weighted([]int{60, 40})]
	p.Institution = g.c.institutions[d.weighted(institutionWeights)]
	if d.chance(0.45) {
		p.TradeMode = "1210"
		p.Carrier = g.c.carriers[d.weighted([]int{20, 80, 0})]
	} else {
		p.TradeMode = "9610"
		p.Carrier = g.c.carriers[d.weighted([]int{50, 0, 50})]
	}
}

// linesWithinLimit draws the parcel's lines and coupon until its taxable
// price is within the single limit, as almost every order is.
func (g *generator) linesWithinLimit(p *Parcel) {
	d := g.d
	for attempt := 0; ; attempt++ {
		p.Lines = g.lines(p.Seller, "")
		p.Discount = decimal.Zero
		if d.chance(0.25) {
			p.Discount = decimal.NewFromInt(int64(pick(d, []int{5, 10, 20, 30})))
		}
		if !taxablePrice(p).GreaterThan(g.limits().Single) {
			return
		}
		if attempt == 20 { // one unit of the first line always fits the catalogue
			p.Lines, p.Discount = p.Lines[:1], decimal.Zero
			p.Lines[0].Qty = 1
			return
		}
	}
}

// lines draws one to three distinct products of the seller: an import's at
// its CNY list price (cur ""), an export's priced in the buyer's currency.
func (g *generator) lines(seller *Party, cur ledger.Currency) []Line {
	d := g.d
	goods := append([]product(nil), seller.goods...)
	shuffle(d, goods)
	n := min(len(goods), 1+d.weighted(lineCountWeights))
	out := make([]Line, n)
	for i := range out {
		price := goods[i].priceDec()
		if cur != "" {
			price = priceIn(price, cur)
		}
		out[i] = Line{product: goods[i], Qty: int64(1 + d.weighted(qtyWeights)), Price: price}
	}
	return out
}

// overLimitLines is an order above the single limit that is not one
// indivisible item: enough units of the seller's dearest product.
func (g *generator) overLimitLines(seller *Party) []Line {
	dear := seller.goods[0]
	for _, pr := range seller.goods[1:] {
		if pr.priceDec().GreaterThan(dear.priceDec()) {
			dear = pr
		}
	}
	qty := g.limits().Single.Div(dear.priceDec()).IntPart() + 1 + int64(g.d.intn(3))
	return []Line{{product: dear, Qty: max(2, qty), Price: dear.priceDec()}}
}

// annualParcel is one of a 代购 buyer's six identical orders of the day.
// The first draws the order; the others repeat it, so whichever of the six
// is matched last fails ANNUAL_LIMIT and the day's figures do not depend on
// which one it is.
func (g *generator) annualParcel(group int, before []*Parcel) *Parcel {
	if len(before) > 0 {
		p := *before[0]
		p.Lines = append([]Line(nil), before[0].Lines...)
		return &p
	}
	d := g.d
	// Sellers of everyday goods: formula, cosmetics, books.
	var cheap []*Party
	for _, s := range g.c.importSellers {
		for _, pr := range s.goods {
			if pr.priceDec().LessThanOrEqual(decimal.NewFromInt(400)) {
				cheap = append(cheap, s)
				break
			}
		}
	}
	seller := pick(d, cheap)
	var pr product
	for _, c := range seller.goods {
		if c.priceDec().LessThanOrEqual(decimal.NewFromInt(400)) {
			pr = c
			break
		}
	}
	p := &Parcel{Seller: seller, Currency: "CNY", PayoutCurrency: seller.Currency, Defect: DefectAnnualLimit, Group: group}
	g.importRoute(p)
	p.Buyer = g.newBuyer()
	p.Payer, p.Consignee = p.Buyer, p.Buyer
	p.Lines = []Line{{product: pr, Qty: annualBase.Div(pr.priceDec()).IntPart(), Price: pr.priceDec()}}
	p.Freight, p.InsuredFee, p.Discount = decimal.Zero, decimal.Zero, decimal.Zero
	p.Tax = g.importTax(p)
	p.Paid = p.Total()
	return p
}

// exportParcel draws an overseas buyer's order from a Shenzhen seller,
// paid in the buyer's currency and paid out to the seller in CNY.
func (g *generator) exportParcel(defect DefectKind) *Parcel {
	d := g.d
	seller := g.c.exportSellers[d.weighted(exportSellerWeights)]
	buyer, cur := overseasBuyer(d)
	p := &Parcel{Export: true, Seller: seller, Buyer: buyer, Currency: ledger.Currency(cur), PayoutCurrency: "CNY", Defect: defect}
	p.Platform = g.c.exportPlatforms[d.weighted([]int{70, 30})]
	p.Institution = g.c.institutions[d.weighted(institutionWeights)]
	p.Carrier = g.c.carriers[d.weighted([]int{45, 0, 55})]
	p.TradeMode = "9610"
	if d.chance(0.3) { // sold from stock already in an overseas warehouse
		p.TradeMode = "9810"
	}
	p.Lines = g.lines(seller, p.Currency)
	if p.TradeMode == "9610" {
		p.Freight = priceIn(decimal.RequireFromString(pick(d, []string{"0", "0", "3.99", "6.99"})), p.Currency)
	}
	if d.chance(0.1) { // a 10% promotion
		p.Discount = p.Currency.RoundHalfUp(p.Goods().Div(decimal.NewFromInt(10)))
	}
	p.Tax = decimal.Zero
	p.Paid = p.Total()
	if defect == DefectAmountMismatch { // the paying bank took its charge off the receipt
		charge := map[ledger.Currency]string{"USD": "1.50", "EUR": "1.50", "JPY": "200", "CNY": "10.00"}[p.Currency]
		p.Paid = p.Paid.Sub(decimal.RequireFromString(charge))
		if !p.Paid.IsPositive() {
			p.Paid = p.Currency.RoundHalfUp(p.Total().Div(decimal.NewFromInt(2)))
		}
	}
	return p
}

// priceIn turns a catalogue price into cur: CNY for imports as listed; an
// export's USD list price at the seller's price-list rates, rounded the
// way shops price (EUR to x.x9, JPY to ten yen, CNY to the yuan).
func priceIn(usd decimal.Decimal, cur ledger.Currency) decimal.Decimal {
	if usd.IsZero() {
		return usd
	}
	switch cur {
	case "EUR":
		return usd.Mul(decimal.RequireFromString("0.92")).Round(1).Sub(decimal.New(1, -2))
	case "JPY":
		return usd.Mul(decimal.NewFromInt(15)).Round(0).Mul(decimal.NewFromInt(10))
	case "CNY":
		return usd.Mul(decimal.RequireFromString("7.1")).Round(0)
	}
	return usd
}

// buyer is a Chinese buyer: usually a new one, sometimes one who already
// ordered today (at most three orders, so nobody nears the annual limit by
// chance).
func (g *generator) buyer() Person {
	if len(g.buyers) > 0 && g.d.chance(0.15) {
		b := g.buyers[g.d.intn(len(g.buyers))]
		if b.orders < 3 {
			b.orders++
			return b.p
		}
	}
	p := g.newBuyer()
	g.buyers = append(g.buyers, &buyerSlot{p: p, orders: 1})
	return p
}

// newBuyer draws a person no one drew before today.
func (g *generator) newBuyer() Person {
	for {
		p := chineseBuyer(g.d, g.serial)
		if !g.ids[p.ID] {
			g.ids[p.ID] = true
			return p
		}
	}
}

// taxablePrice is the order's taxable price as customs computes it: the
// goods, freight and insurance; the coupon (discount) is a non-cash payment
// inside the goods' price and does not lower it.
func taxablePrice(p *Parcel) decimal.Decimal {
	return p.Goods().Add(p.Freight).Add(p.InsuredFee)
}

// limits are the import limits in force on the day.
func (g *generator) limits() clearance.Limits {
	l, _ := clearance.LimitsOn(g.declarationDay())
	return l
}

// declarationDay is the day the parcels are declared (see finish).
func (g *generator) declarationDay() clearance.Day {
	return clearance.Day(g.day.Date.Format(time.DateOnly))
}

// importTax is the tax the platform declares: the service's own computation
// (clearance.TaxOf) of the inventory it will declare today, with the
// shipped tariff.
func (g *generator) importTax(p *Parcel) decimal.Decimal {
	o := &clearance.Order{}
	inv := &clearance.Inventory{DeclTime: g.day.Date.Format("20060102"), Freight: p.Freight, InsuredFee: p.InsuredFee}
	for i, l := range p.Lines {
		o.Lines = append(o.Lines, clearance.OrderLine{Gnum: i + 1, Qty: decimal.NewFromInt(l.Qty)})
		inv.Lines = append(inv.Lines, clearance.InventoryLine{Gnum: i + 1, Gcode: l.hs, TotalPrice: l.Total()})
	}
	return clearance.TaxOf(o, inv, shippedTariff).Total
}
