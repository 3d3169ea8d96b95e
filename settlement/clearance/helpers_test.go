package clearance

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/shopspring/decimal"
)

// The fixtures are the shared golden inputs (../shared/fixtures), copied
// into testdata so the package tests stand alone.
var fixtureFiles = []string{"ceb311-orders.xml", "ceb411-payments.xml", "ceb511-waybills.xml", "ceb621-inventories.xml"}

const (
	order1 = "QH20151111000001"
	order2 = "QH20151111000002"
)

// testRegistry registers every enterprise of the fixtures.
var testRegistry = EnterpriseSet{"4403960001": true, "4403960002": true, "4403980001": true, "4403169D3W": true}

// testTariff is the tariff shipped in tariff/tariff.json.
var testTariff = func() *Tariff {
	t, err := ShippedTariff()
	if err != nil {
		panic(err)
	}
	return t
}()

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func readFixture(t testing.TB, name string) *Message {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := DecodeXML(f, "")
	if err != nil {
		t.Fatalf("decode %s: %v", name, err)
	}
	return m
}

// fixtureDocs returns the fixture documents of one order, freshly decoded,
// in kind order.
func fixtureDocs(t testing.TB, orderNo string) []Document {
	t.Helper()
	var docs []Document
	for _, name := range fixtureFiles {
		for _, d := range readFixture(t, name).Documents {
			if d.Key().OrderNo == orderNo {
				docs = append(docs, d)
			}
		}
	}
	return docs
}

// chainOf puts documents into a chain with the test facts.
func chainOf(docs ...Document) Chain {
	c := Chain{Facts: Facts{Registry: testRegistry, Tariff: testTariff}}
	for _, d := range docs {
		switch d := d.(type) {
		case *Order:
			c.Order = d
		case *Payment:
			c.Payment = d
		case *Waybill:
			c.Waybill = d
		case *Inventory:
			c.Inventory = d
		}
	}
	return c
}

func fixtureChain(t testing.TB, orderNo string) Chain {
	t.Helper()
	return chainOf(fixtureDocs(t, orderNo)...)
}

// order2Inventory is the inventory the fixtures leave out: order 2's face
// cream, HS 3304 (consumption tax 15%), declared by the same seller.
func order2Inventory(t testing.TB) *Inventory {
	t.Helper()
	inv := *fixtureChain(t, order1).Inventory
	inv.GUID = "5D6E7F80-0000-4000-8000-000000000002"
	inv.OrderNo, inv.LogisticsNo, inv.CopNo = order2, "EX0000000002CN", "COP20151111000002"
	inv.BuyerIDNumber, inv.BuyerName, inv.BuyerTelephone = ParsePersonalID("110105198512120022"), "Li Si", "13800000002"
	inv.Freight = dec("0.00")
	inv.Lines = []InventoryLine{{Gnum: 1, ItemName: "Face cream 50ml (cosmetics, consumption tax 15%)", Gcode: "3304990099",
		Gname: "Face cream", Currency: "CNY", Qty: dec("1"), Qty1: dec("50"), Unit1: "096", Price: dec("100.00"), TotalPrice: dec("100.00")}}
	return &inv
}

// failures lists a verdict's failures as "CODE DOCUMENT field".
func failures(fs []RuleFailure) []string {
	out := []string{}
	for _, f := range fs {
		out = append(out, string(f.Code)+" "+string(f.Document)+" "+f.Field)
	}
	return out
}

// operator reads every chain and document.
var operator = Viewer{Role: RoleAdmin}

func ptr[T any](v T) *T { return &v }
