package clearance

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xbsettle/xbsettle/ledger"
)

func TestFixtureDocumentsAreValid(t *testing.T) {
	t.Parallel()
	for _, name := range fixtureFiles {
		for i, d := range readFixture(t, name).Documents {
			if errs := Validate(d); errs != nil {
				t.Errorf("%s document %d: %v", name, i, errs)
			}
		}
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	order := func(t *testing.T, edit func(o *Order)) Document {
		o := fixtureChain(t, order1).Order
		edit(o)
		return o
	}
	payment := func(t *testing.T, edit func(p *Payment)) Document {
		p := fixtureChain(t, order1).Payment
		edit(p)
		return p
	}
	waybill := func(t *testing.T, edit func(w *Waybill)) Document {
		w := fixtureChain(t, order1).Waybill
		edit(w)
		return w
	}
	inventory := func(t *testing.T, edit func(i *Inventory)) Document {
		i := fixtureChain(t, order1).Inventory
		edit(i)
		return i
	}
	tests := []struct {
		name string
		doc  func(t *testing.T) Document
		want []string
	}{
		// decimal(19,5) and signs
		{"5 decimals and 14 integer digits fit", func(t *testing.T) Document {
			return order(t, func(o *Order) { o.Freight = dec("99999999999999.99999") })
		}, nil},
		{"6 decimals", func(t *testing.T) Document { return order(t, func(o *Order) { o.Freight = dec("0.123456") }) },
			[]string{"freight DECIMAL_SCALE"}},
		{"15 integer digits", func(t *testing.T) Document { return order(t, func(o *Order) { o.Freight = dec("100000000000000") }) },
			[]string{"freight DECIMAL_RANGE"}},
		{"negative discount", func(t *testing.T) Document { return order(t, func(o *Order) { o.Discount = dec("-1") }) },
			[]string{"discount NEGATIVE"}},
		{"discount above the goods", func(t *testing.T) Document { return order(t, func(o *Order) { o.Discount = dec("300.01") }) },
			[]string{"discount DISCOUNT_EXCEEDS_GOODS"}},
		{"no goods value", func(t *testing.T) Document { return order(t, func(o *Order) { o.GoodsValue = dec("0") }) },
			[]string{"goodsValue NOT_POSITIVE"}},
		// head
		{"appType 0 and 4", func(t *testing.T) Document { return order(t, func(o *Order) { o.AppType = 4 }) },
			[]string{"appType INVALID_VALUE"}},
		{"no appTime, no guid", func(t *testing.T) Document {
			return order(t, func(o *Order) { o.AppTime, o.GUID = time.Time{}, "" })
		}, []string{"guid REQUIRED", "appTime REQUIRED"}},
		{"no message type", func(t *testing.T) Document { return order(t, func(o *Order) { o.Message = "" }) },
			[]string{"type REQUIRED"}},
		{"a payment's message type on an order", func(t *testing.T) Document { return order(t, func(o *Order) { o.Message = CEB411 }) },
			[]string{"type WRONG_DOCUMENT_TYPE"}},
		{"export orderType on an import order", func(t *testing.T) Document { return order(t, func(o *Order) { o.OrderType = "E" }) },
			[]string{"orderType INVALID_VALUE"}},
		// currencies
		{"USD on an import order", func(t *testing.T) Document { return order(t, func(o *Order) { o.Currency = "USD" }) },
			[]string{"currency INVALID_CURRENCY"}},
		{"a customs code not turned into ISO", func(t *testing.T) Document { return order(t, func(o *Order) { o.Currency = "142" }) },
			[]string{"currency INVALID_CURRENCY"}},
		// enterprise codes
		{"lower-case enterprise code", func(t *testing.T) Document { return order(t, func(o *Order) { o.EbpCode = "4403169d3w" }) },
			[]string{"ebpCode INVALID_ENTERPRISE_CODE"}},
		{"9-character enterprise code", func(t *testing.T) Document { return order(t, func(o *Order) { o.PayCode = "440316900" }) },
			[]string{"payCode INVALID_ENTERPRISE_CODE"}},
		// resident ID numbers
		{"wrong check character passes here (rule BUYER_ID)", func(t *testing.T) Document {
			return order(t, func(o *Order) { o.BuyerIDNumber = ParsePersonalID("44030519900101124X") })
		}, nil},
		{"lower-case x is an X", func(t *testing.T) Document {
			return order(t, func(o *Order) { o.BuyerIDNumber = ParsePersonalID(" 44030519900101123x ") })
		}, nil},
		{"17 characters", func(t *testing.T) Document {
			return order(t, func(o *Order) { o.BuyerIDNumber = ParsePersonalID("44030519900101123") })
		}, []string{"buyerIdNumber INVALID_ID_NUMBER"}},
		{"a letter in the digits", func(t *testing.T) Document {
			return order(t, func(o *Order) { o.BuyerIDNumber = ParsePersonalID("4403051990O101123X") })
		}, []string{"buyerIdNumber INVALID_ID_NUMBER"}},
		{"passport with ID type 2", func(t *testing.T) Document {
			return order(t, func(o *Order) { o.BuyerIDType, o.BuyerIDNumber = "2", ParsePersonalID("E12345678") })
		}, nil},
		{"ID type 3", func(t *testing.T) Document { return order(t, func(o *Order) { o.BuyerIDType = "3" }) },
			[]string{"buyerIdType INVALID_VALUE"}},
		{"no buyer on an import order", func(t *testing.T) Document {
			return order(t, func(o *Order) { o.BuyerIDType, o.BuyerIDNumber, o.BuyerName = "", PersonalID{}, "" })
		}, []string{"buyerName REQUIRED", "buyerIdType REQUIRED", "buyerIdNumber REQUIRED"}},
		// lines
		{"no lines", func(t *testing.T) Document { return order(t, func(o *Order) { o.Lines = nil }) },
			[]string{"lines REQUIRED"}},
		{"100 lines", func(t *testing.T) Document {
			return order(t, func(o *Order) {
				o.Lines = make([]OrderLine, 100)
				for i := range o.Lines {
					o.Lines[i] = OrderLine{Gnum: 1 + i%99, ItemName: "x", Qty: dec("1")}
				}
			})
		}, []string{"lines TOO_MANY_LINES", "lines[99].gnum DUPLICATE_GNUM"}},
		{"gnum 0 and 100", func(t *testing.T) Document {
			return order(t, func(o *Order) { o.Lines[0].Gnum, o.Lines[1].Gnum = 0, 100 })
		}, []string{"lines[0].gnum INVALID_GNUM", "lines[1].gnum INVALID_GNUM"}},
		{"a 251-character item name", func(t *testing.T) Document {
			return order(t, func(o *Order) { o.Lines[1].ItemName = strings.Repeat("奶", 251) })
		}, []string{"lines[1].itemName TOO_LONG"}},
		// payments
		{"an import payment stating a charge", func(t *testing.T) Document { return payment(t, func(p *Payment) { p.Charge = dec("1") }) },
			[]string{"charge NOT_ALLOWED"}},
		{"an import payment without amount and time", func(t *testing.T) Document {
			return payment(t, func(p *Payment) { p.AmountPaid, p.PayTime = dec("0"), time.Time{} })
		}, []string{"amountPaid NOT_POSITIVE", "payTime REQUIRED"}},
		{"an export receipt is another set of fields", func(t *testing.T) Document {
			return payment(t, func(p *Payment) { p.Message, p.Currency = CEB403, "USD" })
		}, []string{"payNo REQUIRED", "charge NOT_POSITIVE", "amountPaid NOT_ALLOWED", "accountingDate REQUIRED"}},
		// waybills
		{"no weight, negative packNo", func(t *testing.T) Document {
			return waybill(t, func(w *Waybill) { w.Weight, w.PackNo = dec("0"), -1 })
		}, []string{"weight NOT_POSITIVE", "packNo NEGATIVE"}},
		{"import waybill without consignee", func(t *testing.T) Document { return waybill(t, func(w *Waybill) { w.Consignee = "" }) },
			[]string{"consignee REQUIRED"}},
		{"export waybill without consignee", func(t *testing.T) Document {
			return waybill(t, func(w *Waybill) {
				w.Message, w.Consignee, w.ConsigneeAddress, w.ConsigneeTelephone = CEB505, "", "", ""
			})
		}, nil},
		// inventories
		{"8-digit HS code", func(t *testing.T) Document { return inventory(t, func(i *Inventory) { i.Lines[0].Gcode = "19011010" }) },
			[]string{"lines[0].gcode INVALID_HS_CODE"}},
		{"trade mode 9810 on import", func(t *testing.T) Document { return inventory(t, func(i *Inventory) { i.TradeMode = "9810" }) },
			[]string{"tradeMode INVALID_VALUE"}},
		{"trade mode 9810 on export", func(t *testing.T) Document {
			return inventory(t, func(i *Inventory) { i.Message, i.IEFlag, i.TradeMode = CEB603, "E", "9810" })
		}, nil},
		{"a 13th month", func(t *testing.T) Document { return inventory(t, func(i *Inventory) { i.DeclTime = "20151311" }) },
			[]string{"declTime INVALID_DATE"}},
		{"export flag on an import inventory", func(t *testing.T) Document { return inventory(t, func(i *Inventory) { i.IEFlag = "E" }) },
			[]string{"ieFlag INVALID_VALUE"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got []string
			for _, fe := range Validate(tt.doc(t)) {
				got = append(got, fe.Field+" "+fe.Code)
				if fe.Message == "" || strings.Contains(fe.Message, "0519900101") {
					t.Errorf("message %q: empty or shows an ID number", fe.Message)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("errors %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseCurrency(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]ledger.Currency{
		"142": "CNY", "CNY": "CNY", "502": "USD", "usd": "USD", "300": "EUR", "116": "JPY",
		"110": "HKD", "303": "GBP", "133": "KRW",
	} {
		if got, err := ParseCurrency(in); got != want || err != nil {
			t.Errorf("ParseCurrency(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "999", "XXX", "156"} {
		if got, err := ParseCurrency(in); err == nil {
			t.Errorf("ParseCurrency(%q) = %q, want an error", in, got)
		}
	}
}
