package demo

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/xbsettle/xbsettle/risk"
	"github.com/xbsettle/xbsettle/settlement/clearance"
)

var testDate = time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC)

// TestGenerateIsSeeded: the same seed and tag draw the same documents; a
// different tag changes the identifiers and no figure; another seed
// another day.
func TestGenerateIsSeeded(t *testing.T) {
	t.Parallel()
	a, b := Generate(42, 500, "A1", testDate), Generate(42, 500, "A1", testDate)
	if !bytes.Equal(dayJSON(a), dayJSON(b)) {
		t.Fatal("the same seed and tag drew two different days")
	}
	c := Generate(42, 500, "B2", testDate)
	for i, p := range a.Parcels {
		q := c.Parcels[i]
		if p.OrderNo == q.OrderNo || (!p.Export && p.Buyer.ID == q.Buyer.ID) {
			t.Fatalf("parcel %d: tag B2 kept identifier %s / %s", i, q.OrderNo, q.Buyer.ID)
		}
		if !p.Paid.Equal(q.Paid) || p.Currency != q.Currency || p.Seller != nil && p.Seller.Code != q.Seller.Code || p.Defect != q.Defect || p.Buyer.Name != q.Buyer.Name {
			t.Fatalf("parcel %d: tag B2 changed a figure: %s %s vs %s %s", i, p.Paid, p.Currency, q.Paid, q.Currency)
		}
	}
	if bytes.Equal(dayJSON(a), dayJSON(Generate(43, 500, "A1", testDate))) {
		t.Fatal("seeds 42 and 43 drew the same day")
	}
}

func dayJSON(d *Day) []byte {
	var b bytes.Buffer
	for _, p := range d.Parcels {
		for _, doc := range p.documents() {
			b.Write(doc.body)
		}
	}
	for _, r := range d.Board {
		b.WriteString(r.Currency + r.Buy.String() + r.Parity.String() + r.Sell.String())
	}
	return b.Bytes()
}

// TestGeneratedDocumentsMatchAsPlanned runs every parcel's documents
// through the service's own decoder, validation and matcher: a clean
// parcel is verified, a defective one fails exactly the rule that names
// its defect, and an annual-limit group fails on its sixth order.
func TestGeneratedDocumentsMatchAsPlanned(t *testing.T) {
	t.Parallel()
	for _, n := range []int{300, 3000} {
		day := Generate(7, n, "T", testDate)
		registry := clearance.EnterpriseSet{}
		for _, p := range day.cast.all() {
			registry[p.Code] = true
			if err := risk.ValidateUSCC(p.USCC()); err != nil {
				t.Errorf("%s: USCC %s: %v", p.Name, p.USCC(), err)
			}
		}
		kinds := map[DefectKind]int{}
		for _, d := range day.Defects {
			kinds[d.Kind]++
		}
		for _, k := range DefectKinds {
			if kinds[k] == 0 {
				t.Errorf("%d parcels: no %s planted", n, k)
			}
		}
		limits, _ := clearance.LimitsOn(clearance.Day(testDate.Format(time.DateOnly)))
		annualLimit := limits.Annual
		yearTotal := map[string]decimal.Decimal{} // buyer → taxable prices of verified imports so far
		for _, p := range day.Parcels {
			v := clearance.Match(chainOf(t, p, registry, yearTotal[p.Buyer.ID]))
			var got []string // rule codes once each, as the report counts them
			for _, f := range v.Failed {
				if !slices.Contains(got, string(f.Code)) {
					got = append(got, string(f.Code))
				}
			}
			for _, m := range v.Missing {
				got = append(got, string(m)+"_MISSING")
			}
			var want []string
			switch {
			case p.Defect == DefectAnnualLimit && yearTotal[p.Buyer.ID].Add(taxablePrice(p)).GreaterThan(annualLimit):
				want = []string{string(clearance.RuleAnnualLimit)}
			case p.Defect != "" && p.Defect != DefectAnnualLimit:
				want = []string{string(p.Defect.Rule())}
			}
			if !slices.Equal(got, want) || len(v.Warnings) > 0 {
				t.Errorf("%s (%s): rules %v, warnings %v; want %v", p.OrderNo, p.Defect, got, v.Warnings, want)
			}
			if !p.Export && string(v.Status) == VerdictVerified {
				yearTotal[p.Buyer.ID] = yearTotal[p.Buyer.ID].Add(taxablePrice(p))
			}
			if !p.Export && !clearance.ResidentIDValid(p.Buyer.ID) {
				t.Errorf("%s: buyer ID %s has a wrong check digit", p.OrderNo, p.Buyer.ID)
			}
		}
		for buyer, total := range yearTotal {
			if total.GreaterThan(annualLimit) {
				t.Errorf("buyer %s: verified purchases of %s pass the annual limit", buyer, total)
			}
		}
	}
}

// chainOf decodes and validates the parcel's documents as the API would,
// into a chain for the matcher.
func chainOf(t *testing.T, p *Parcel, reg clearance.Registry, yearTotal decimal.Decimal) clearance.Chain {
	t.Helper()
	c := clearance.Chain{Facts: clearance.Facts{Registry: reg, Tariff: shippedTariff, BuyerYearTotal: yearTotal}}
	for _, d := range p.documents() {
		doc, err := clearance.DecodeJSON(d.body, "")
		if err != nil {
			t.Fatalf("%s: decode %s: %v", p.OrderNo, d.body, err)
		}
		if errs := clearance.Validate(doc); len(errs) > 0 {
			t.Fatalf("%s: %s: %v", p.OrderNo, d.body, errs)
		}
		switch doc := doc.(type) {
		case *clearance.Order:
			c.Order = doc
		case *clearance.Payment:
			c.Payment = doc
		case *clearance.Waybill:
			c.Waybill = doc
		case *clearance.Inventory:
			c.Inventory = doc
		}
	}
	return c
}

// TestCEBMessagesDecodeLikeJSON: the waybills a carrier sends as CEB XML
// decode, through the service's own XML decoder, to exactly what their
// JSON twins decode to.
func TestCEBMessagesDecodeLikeJSON(t *testing.T) {
	t.Parallel()
	day := Generate(5, 1000, "X", testDate)
	var carrier *Party
	var docs []document
	for _, p := range day.Parcels {
		if p.Carrier.speaksXML && p.Defect != DefectMissingWaybill {
			carrier = p.Carrier
			docs = append(docs, p.documents()[3])
		}
	}
	byGUID := map[string]clearance.Document{}
	for _, d := range docs {
		doc, err := clearance.DecodeJSON(d.body, "")
		if err != nil {
			t.Fatal(err)
		}
		byGUID[doc.Header().GUID] = doc
	}
	msgs := cebMessages(carrier, docs)
	seen := 0
	for _, m := range msgs {
		decoded, err := clearance.DecodeXML(bytes.NewReader(m.body), clearance.KindWaybill)
		if err != nil {
			t.Fatalf("decode %s: %v", m.body[:min(400, len(m.body))], err)
		}
		if len(decoded.Documents) != m.n || m.n > maxXMLDocuments {
			t.Fatalf("a message of %d waybills decodes to %d", m.n, len(decoded.Documents))
		}
		for _, got := range decoded.Documents {
			want := byGUID[got.Header().GUID]
			if errs := clearance.Validate(got); len(errs) > 0 {
				t.Fatalf("waybill %d: %v", seen, errs)
			}
			if g, w := mustJSON(got), mustJSON(want); !bytes.Equal(g, w) {
				t.Fatalf("waybill %d: XML gives %s, JSON %s", seen, g, w)
			}
			seen++
		}
	}
	if seen != len(docs) || seen == 0 {
		t.Fatalf("%d of %d waybills in the messages", seen, len(docs))
	}
}
