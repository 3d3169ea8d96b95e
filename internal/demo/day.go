package demo

import (
	"fmt"
	"hash/fnv"
	"slices"
	"time"

	"github.com/shopspring/decimal"

	"github.com/xbsettle/xbsettle/ledger"
)

// beijing is China Standard Time (UTC+8, no daylight saving): the clock of
// customs documents, value dates and the bureaus.
var beijing = time.FixedZone("CST", 8*60*60)

// Day is one generated day of Shenzhen cross-border trade: the parcels,
// document by document, and the defects planted among them. Generate
// draws it from a seed: the same seed gives the same day.
type Day struct {
	Seed uint64
	// Tag namespaces the day's identifiers (order, payment and logistics
	// numbers, and the buyers' ID numbers), so that a day can be replayed
	// into a database that holds another; it changes no figure.
	Tag string
	// Date is the Beijing calendar date the parcels were ordered on
	// (midnight UTC).
	Date    time.Time
	Parcels []*Parcel
	Defects []Defect
	// Board is the FX board the operator loads for the settlement day.
	Board []Rate

	cast *cast
}

// Parcel is one cross-border parcel: a trade chain of four documents (the
// platform's order and inventory, the institution's payment record, the
// carrier's waybill).
type Parcel struct {
	OrderNo     string
	Export      bool
	TradeMode   string // import 9610 / 1210, export 9610 / 9810
	Platform    *Party
	Seller      *Party
	Institution *Party
	Carrier     *Party

	Buyer     Person
	Payer     Person // import: the buyer, unless the defect says otherwise
	Consignee Person // import: the buyer, or a relative the parcel is a gift for

	Currency   ledger.Currency // of the order and the payment: CNY on import
	Lines      []Line
	Freight    decimal.Decimal
	InsuredFee decimal.Decimal
	Discount   decimal.Decimal
	Tax        decimal.Decimal // import retail tax, as the platform declares it (taxTotal)
	// Paid is what the payment record states: amountPaid (import) or
	// charge (export). It equals Total unless the defect is an amount
	// mismatch.
	Paid           decimal.Decimal
	PayRef         string // payTransactionId (import) or payNo (export)
	LogisticsNo    string
	PayoutCurrency ledger.Currency // what the seller is paid in

	OrderedAt, PaidAt, DeclaredAt, ShippedAt time.Time

	Defect DefectKind // "" for a clean parcel
	Group  int        // >0: one of the six orders of an annual-limit group
}

// Line is one goods line of a parcel.
type Line struct {
	product
	Qty   int64
	Price decimal.Decimal // per unit, in the parcel's currency
}

// Total is the line's totalPrice.
func (l Line) Total() decimal.Decimal { return l.Price.Mul(decimal.NewFromInt(l.Qty)) }

// Goods is the parcel's goodsValue: its lines' totals.
func (p *Parcel) Goods() decimal.Decimal {
	sum := decimal.Zero
	for _, l := range p.Lines {
		sum = sum.Add(l.Total())
	}
	return sum
}

// Total is what the order says the buyer pays: goodsValue + freight +
// taxTotal − discount (acturalPaid on import, the receipt's charge on
// export).
func (p *Parcel) Total() decimal.Decimal {
	return p.Goods().Add(p.Freight).Add(p.Tax).Sub(p.Discount)
}

// Weight is the parcel's gross weight: its goods and 100 g of packing.
func (p *Parcel) Weight() decimal.Decimal {
	w := decimal.RequireFromString("0.10")
	for _, l := range p.Lines {
		w = w.Add(l.weightDec().Mul(decimal.NewFromInt(l.Qty)))
	}
	return w
}

// Generate draws the day of seed: n parcels ordered on date (a Beijing
// calendar date), about 60% imports, with a few percent of each defect.
// tag namespaces the identifiers (see Day.Tag). The cast of enterprises is
// fixed; everything else comes from the seed, in a fixed order of draws.
func Generate(seed uint64, n int, tag string, date time.Time) *Day {
	g := &generator{d: newDice(seed), c: newCast(), day: &Day{Seed: seed, Tag: tag, Date: date}, serial: tagSerial(tag), ids: map[string]bool{}}
	g.day.cast = g.c
	// The board has a stream of its own, so that it does not move the
	// parcels' draws.
	g.day.Board = drawBoard(newDice(seed ^ 0xb0a2d))
	g.plan(n)
	return g.day
}

// tagSerial is a number drawn from the tag, for the buyers' ID numbers.
func tagSerial(tag string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(tag))
	return h.Sum64()
}

// generator holds the state of one day's drawing.
type generator struct {
	d      *dice
	c      *cast
	day    *Day
	serial uint64
	ids    map[string]bool // resident ID numbers drawn so far: one person each
	buyers []*buyerSlot    // Chinese buyers who may order again
}

// buyerSlot is a Chinese buyer and how many orders they placed today.
type buyerSlot struct {
	p      Person
	orders int
}

// hourWeights shape the day: a morning rise, a lunch peak and the evening
// peak when most cross-border shopping happens.
var hourWeights = []int{4, 2, 1, 1, 1, 1, 2, 4, 6, 8, 9, 10, 10, 8, 7, 7, 7, 8, 9, 11, 13, 14, 12, 7}

// plan lays out the day: how many parcels of each kind, which carry which
// defect, and when they were ordered; then it draws each parcel.
func (g *generator) plan(n int) {
	imports := max(1, n*6/10)
	groups := max(1, n/400) // annual-limit groups, six orders each
	if imports < 6*groups+10 {
		groups = 0 // too small a day for a buyer's six orders
	}
	// Slots are kinds of parcel, shuffled; then the times, sorted, are
	// dealt to them so order numbers rise through the day.
	type slot struct {
		export bool
		defect DefectKind
		group  int
	}
	var slots []slot
	free := imports - 6*groups
	importDefects := []struct {
		kind DefectKind
		n    int
	}{
		{DefectMissingWaybill, pct(free, 2)}, {DefectAmountMismatch, pct(free, 2)},
		{DefectPayerNotBuyer, pct(free, 2)}, {DefectSingleLimit, pct(free, 1)},
	}
	for _, def := range importDefects {
		for range def.n {
			slots = append(slots, slot{defect: def.kind})
			free--
		}
	}
	for range max(0, free) {
		slots = append(slots, slot{})
	}
	exports := n - imports
	exportDefects := []struct {
		kind DefectKind
		n    int
	}{{DefectMissingWaybill, pct(exports, 2)}, {DefectAmountMismatch, pct(exports, 2)}}
	for _, def := range exportDefects {
		for range def.n {
			slots = append(slots, slot{export: true, defect: def.kind})
			exports--
		}
	}
	for range max(0, exports) {
		slots = append(slots, slot{export: true})
	}
	for gi := 1; gi <= groups; gi++ {
		for range 6 {
			slots = append(slots, slot{defect: DefectAnnualLimit, group: gi})
		}
	}
	shuffle(g.d, slots)

	times := make([]time.Time, len(slots))
	start := time.Date(g.day.Date.Year(), g.day.Date.Month(), g.day.Date.Day(), 0, 0, 0, 0, beijing)
	for i := range times {
		times[i] = start.Add(time.Duration(g.d.weighted(hourWeights))*time.Hour + g.d.seconds(0, 3599))
	}
	slices.SortFunc(times, time.Time.Compare)

	groupParcels := map[int][]*Parcel{}
	for i, s := range slots {
		var p *Parcel
		switch {
		case s.group > 0:
			p = g.annualParcel(s.group, groupParcels[s.group])
			groupParcels[s.group] = append(groupParcels[s.group], p)
		case s.export:
			p = g.exportParcel(s.defect)
		default:
			p = g.importParcel(s.defect)
		}
		g.finish(p, i, times[i])
		g.day.Parcels = append(g.day.Parcels, p)
	}
	g.recordDefects(groupParcels)
}

// pct is p percent of n, at least one when n allows it.
func pct(n, p int) int {
	if n < 20 {
		return 0
	}
	return max(1, (n*p+50)/100)
}

// finish gives the parcel its numbers and the times of its documents: the
// payment minutes after the order, the inventory declared and the waybill
// issued hours later, all within the day.
func (g *generator) finish(p *Parcel, i int, at time.Time) {
	date := g.day.Date.Format("20060102")
	p.OrderNo = fmt.Sprintf("%s%s%s%06d", p.Platform.prefix, date, g.day.Tag, i+1)
	kind := "T"
	if p.Export {
		kind = "R"
	}
	p.PayRef = fmt.Sprintf("%s%s%s%s%06d", p.Institution.prefix, kind, date, g.day.Tag, i+1)
	p.LogisticsNo = fmt.Sprintf("%s%s%s%06d", p.Carrier.prefix, date[2:], g.day.Tag, i+1)
	end := time.Date(g.day.Date.Year(), g.day.Date.Month(), g.day.Date.Day()+1, 0, 0, 0, 0, beijing).Add(-time.Second)
	within := func(t time.Time) time.Time {
		if t.After(end) {
			return end
		}
		return t
	}
	p.OrderedAt = at
	p.PaidAt = within(at.Add(g.d.seconds(10, 300)))
	p.DeclaredAt = within(at.Add(g.d.seconds(20*60, 3*3600)))
	p.ShippedAt = within(at.Add(g.d.seconds(30*60, 6*3600)))
}
