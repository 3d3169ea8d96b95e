package clearance

import (
	"slices"
	"strings"
	"testing"
)

// reprice sets the unit prices of the order's lines (in gnum order) and keeps
// the whole chain consistent: line totals, goodsValue, inventory lines,
// taxTotal, acturalPaid and the payment.
func reprice(c *Chain, prices ...string) {
	o := c.Order
	o.GoodsValue = dec("0")
	for i := range o.Lines {
		l := &o.Lines[i]
		l.Price = dec(prices[i])
		l.TotalPrice = l.Price.Mul(l.Qty)
		o.GoodsValue = o.GoodsValue.Add(l.TotalPrice)
		for j := range c.Inventory.Lines {
			if il := &c.Inventory.Lines[j]; il.Gnum == l.Gnum {
				il.Price, il.TotalPrice = l.Price, l.TotalPrice
			}
		}
	}
	declareTax(c)
}

// declareTax declares on the order the tax the matcher computes, and has
// the payment pay the new acturalPaid.
func declareTax(c *Chain) {
	o := c.Order
	o.TaxTotal = Match(*c).Tax.Total
	o.ActuralPaid = o.GoodsValue.Add(o.Freight).Add(o.TaxTotal).Sub(o.Discount)
	c.Payment.AmountPaid = o.ActuralPaid
}

// tariffWith is the shipped tariff with more lines.
func tariffWith(t testing.TB, lines ...TariffLine) *Tariff {
	t.Helper()
	tariff, err := NewTariff("test", append(testTariff.Lines(), lines...))
	if err != nil {
		t.Fatal(err)
	}
	return tariff
}

// onlyLine2 leaves the order and the inventory with their second line only.
func onlyLine2(c *Chain) {
	c.Order.Lines = c.Order.Lines[1:]
	c.Inventory.Lines = c.Inventory.Lines[1:]
}

// flipID replaces the buyer's ID everywhere by id.
func setBuyerID(c *Chain, idType, id string) {
	c.Order.BuyerIDType, c.Order.BuyerIDNumber = idType, ParsePersonalID(id)
	c.Payment.PayerIDType, c.Payment.PayerIDNumber = idType, ParsePersonalID(id)
	c.Inventory.BuyerIDType, c.Inventory.BuyerIDNumber = idType, ParsePersonalID(id)
}

// TestMatchRules has, for every rule code, cases where it holds and cases
// where it fails, each starting from the verified fixture chain of order 1
// with the tax it owes declared (the fixture declares 26.39, computed with
// the discount deducted; customs levies 28.21, see TestFixtureOrder1).
func TestMatchRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		rule     RuleCode
		name     string
		mutate   func(c *Chain)
		status   Status
		failed   []string
		missing  []Kind
		warnings []string
	}{
		{RuleOrderMissing, "present", func(*Chain) {}, StatusVerified, nil, nil, nil},
		{RuleOrderMissing, "missing", func(c *Chain) { c.Order = nil }, StatusIncomplete, nil, []Kind{KindOrder}, nil},
		{RulePaymentMissing, "present", func(*Chain) {}, StatusVerified, nil, nil, nil},
		{RulePaymentMissing, "missing", func(c *Chain) { c.Payment = nil }, StatusIncomplete, nil, []Kind{KindPayment}, nil},
		{RuleWaybillMissing, "present", func(*Chain) {}, StatusVerified, nil, nil, nil},
		{RuleWaybillMissing, "missing", func(c *Chain) { c.Waybill = nil }, StatusIncomplete, nil, []Kind{KindWaybill}, nil},
		{RuleInventoryMissing, "present", func(*Chain) {}, StatusVerified, nil, nil, nil},
		{RuleInventoryMissing, "missing", func(c *Chain) { c.Inventory = nil }, StatusIncomplete, nil, []Kind{KindInventory}, nil},
		{RuleInventoryMissing, "all missing", func(c *Chain) { *c = Chain{} }, StatusIncomplete, nil, Kinds[:], nil},

		{RuleOrderArithmetic, "line total rounded to the fen", func(c *Chain) {
			// 33.333 × 3 = 99.999, declared as 100.00
			c.Order.Lines[1].Price, c.Order.Lines[1].Qty = dec("33.333"), dec("3")
			c.Inventory.Lines[1].Price, c.Inventory.Lines[1].Qty = dec("33.333"), dec("3")
		}, StatusVerified, nil, nil, nil},
		{RuleOrderArithmetic, "acturalPaid off by a fen", func(c *Chain) {
			c.Order.ActuralPaid, c.Payment.AmountPaid = dec("316.40"), dec("316.40")
		}, StatusMismatched, []string{"ORDER_ARITHMETIC ORDER acturalPaid"}, nil, nil},
		{RuleOrderArithmetic, "line total is not price × qty", func(c *Chain) {
			c.Order.Lines[0].TotalPrice = dec("201.00")
		}, StatusMismatched, []string{"ORDER_ARITHMETIC ORDER lines[gnum=1].totalPrice", "ORDER_ARITHMETIC ORDER goodsValue"}, nil, nil},
		{RuleOrderArithmetic, "lines do not sum to goodsValue", func(c *Chain) {
			// The tax follows the inventory, unchanged: 28.21.
			c.Order.GoodsValue = dec("310.00")
			c.Order.ActuralPaid, c.Payment.AmountPaid = dec("328.21"), dec("328.21")
		}, StatusMismatched, []string{"ORDER_ARITHMETIC ORDER goodsValue"}, nil, nil},

		{RulePaidAmount, "equal with other trailing zeros", func(c *Chain) { c.Payment.AmountPaid = dec("318.21000") },
			StatusVerified, nil, nil, nil},
		{RulePaidAmount, "amount differs", func(c *Chain) { c.Payment.AmountPaid = dec("316.38") },
			StatusMismatched, []string{"PAID_AMOUNT PAYMENT amountPaid"}, nil, nil},
		{RulePaidAmount, "currency differs", func(c *Chain) { c.Payment.Currency = "USD" },
			StatusMismatched, []string{"PAID_AMOUNT PAYMENT currency"}, nil, nil},

		{RulePaymentRef, "order names no payment", func(c *Chain) { c.Order.PayCode, c.Order.PayTransactionID = "", "" },
			StatusVerified, nil, nil, nil},
		{RulePaymentRef, "other transaction", func(c *Chain) { c.Order.PayTransactionID = "PAY20151111000099" },
			StatusMismatched, []string{"PAYMENT_REF PAYMENT payTransactionId"}, nil, nil},
		{RulePaymentRef, "other institution", func(c *Chain) { c.Payment.PayCode = "4403169D3X" },
			StatusMismatched, []string{"PAYMENT_REF PAYMENT payCode"}, nil, nil},

		{RulePayerIsBuyer, "same person, IDs sealed", func(c *Chain) {
			key := []byte(strings.Repeat("k", MinHashKeyLen))
			for _, d := range []Document{c.Order, c.Payment, c.Inventory} {
				if err := SealPersonalIDs(d, key); err != nil {
					panic(err)
				}
			}
		}, StatusVerified, nil, nil, nil},
		{RulePayerIsBuyer, "someone else paid", func(c *Chain) {
			c.Payment.PayerIDNumber, c.Payment.PayerName = ParsePersonalID("110105198512120022"), "Li Si"
		}, StatusMismatched, []string{"PAYER_IS_BUYER PAYMENT payerIdNumber", "PAYER_IS_BUYER PAYMENT payerName"}, nil, nil},
		{RulePayerIsBuyer, "other ID type", func(c *Chain) { c.Payment.PayerIDType = "2" },
			StatusMismatched, []string{"PAYER_IS_BUYER PAYMENT payerIdType"}, nil, nil},

		{RuleConsignee, "same consignee", func(*Chain) {}, StatusVerified, nil, nil, nil},
		{RuleConsignee, "other telephone and address", func(c *Chain) {
			c.Waybill.ConsigneeTelephone, c.Waybill.ConsigneeAddress = "13800000009", "Luohu District, Shenzhen"
		}, StatusMismatched, []string{"CONSIGNEE WAYBILL consigneeTelephone", "CONSIGNEE WAYBILL consigneeAddress"}, nil, nil},
		{RuleConsignee, "other name", func(c *Chain) { c.Waybill.Consignee = "Wang Wu" },
			StatusMismatched, []string{"CONSIGNEE WAYBILL consignee"}, nil, nil},

		{RuleWaybillRef, "waybill names the platform too", func(c *Chain) { c.Waybill.EbpCode = "4403960001" },
			StatusVerified, nil, nil, nil},
		{RuleWaybillRef, "inventory names another waybill", func(c *Chain) { c.Inventory.LogisticsNo = "EX0000000009CN" },
			StatusMismatched, []string{"WAYBILL_REF INVENTORY logisticsNo"}, nil, nil},
		{RuleWaybillRef, "inventory names another carrier", func(c *Chain) { c.Inventory.LogisticsCode = "4403980002" },
			StatusMismatched, []string{"WAYBILL_REF INVENTORY logisticsCode"}, nil, nil},

		{RuleParties, "registered and equal", func(*Chain) {}, StatusVerified, nil, nil, nil},
		{RuleParties, "inventory names another seller", func(c *Chain) {
			c.Inventory.EbcCode = "4403960003"
			c.Facts.Registry = EnterpriseSet{"4403960001": true, "4403960002": true, "4403960003": true}
		}, StatusMismatched, []string{"PARTIES INVENTORY ebcCode"}, nil, nil},
		{RuleParties, "seller not registered", func(c *Chain) { c.Facts.Registry = EnterpriseSet{"4403960001": true} },
			StatusMismatched, []string{"PARTIES ORDER ebcCode"}, nil, nil},
		{RuleParties, "no registry, order alone", func(c *Chain) {
			c.Payment, c.Waybill, c.Inventory, c.Facts.Registry = nil, nil, nil, nil
		}, StatusMismatched, []string{"PARTIES ORDER ebpCode", "PARTIES ORDER ebcCode"}, []Kind{KindPayment, KindWaybill, KindInventory}, nil},
		{RuleParties, "inventory names another buyer", func(c *Chain) { c.Inventory.BuyerName = "Zhang Wu" },
			StatusMismatched, []string{"PARTIES INVENTORY buyerName"}, nil, nil},

		{RuleInventoryLines, "lines listed in another order", func(c *Chain) { slices.Reverse(c.Inventory.Lines) },
			StatusVerified, nil, nil, nil},
		{RuleInventoryLines, "quantity differs", func(c *Chain) { c.Inventory.Lines[0].Qty = dec("3") },
			StatusMismatched, []string{"INVENTORY_LINES INVENTORY lines[gnum=1].qty"}, nil, nil},
		{RuleInventoryLines, "name and price differ", func(c *Chain) {
			c.Inventory.Lines[1].ItemName, c.Inventory.Lines[1].Price = "Vitamin tablets 90ct", dec("99.00")
		}, StatusMismatched, []string{"INVENTORY_LINES INVENTORY lines[gnum=2].itemName", "INVENTORY_LINES INVENTORY lines[gnum=2].price"}, nil, nil},
		// Customs taxes the inventory's lines: one missing or extra changes the tax.
		{RuleInventoryLines, "line missing", func(c *Chain) { c.Inventory.Lines = c.Inventory.Lines[:1] },
			StatusMismatched, []string{"INVENTORY_LINES INVENTORY lines[gnum=2]"}, nil, []string{"TAX_TOTAL ORDER taxTotal"}},
		{RuleInventoryLines, "line extra", func(c *Chain) {
			extra := c.Inventory.Lines[1]
			extra.Gnum = 3
			c.Inventory.Lines = append(c.Inventory.Lines, extra)
		}, StatusMismatched, []string{"INVENTORY_LINES INVENTORY lines[gnum=3]"}, nil, []string{"TAX_TOTAL ORDER taxTotal"}},

		{RuleBuyerID, "other ID type is not checked", func(c *Chain) { setBuyerID(c, "2", "E12345678") },
			StatusVerified, nil, nil, nil},
		{RuleBuyerID, "wrong check character", func(c *Chain) { setBuyerID(c, "1", "44030519900101124X") },
			StatusMismatched, []string{"BUYER_ID ORDER buyerIdNumber", "BUYER_ID INVENTORY buyerIdNumber"}, nil, nil},

		{RuleTariff, "every code has a line in force", func(*Chain) {}, StatusVerified, nil, nil, nil},
		{RuleTariff, "no line in force before the regime", func(c *Chain) { c.Inventory.DeclTime = "20160407" },
			StatusMismatched, []string{"TARIFF INVENTORY lines[gnum=1].gcode", "TARIFF INVENTORY lines[gnum=2].gcode",
				"SINGLE_LIMIT INVENTORY declTime"}, nil, []string{"TAX_TOTAL ORDER taxTotal"}},
		{RuleTariff, "one indivisible item above the limit, no duty rate known", func(c *Chain) {
			onlyLine2(c)
			reprice(c, "6000.00")
		}, StatusMismatched, []string{"TARIFF INVENTORY lines[gnum=2].gcode"}, nil, []string{"SINGLE_LIMIT ORDER taxablePrice"}},

		// P = goodsValue + freight 10 (the discount does not lower it): 2·2000 + 990 + 10.
		{RuleSingleLimit, "exactly 5,000", func(c *Chain) { reprice(c, "2000.00", "990.00") },
			StatusVerified, nil, nil, nil},
		{RuleSingleLimit, "a fen above", func(c *Chain) { reprice(c, "2000.00", "990.01") },
			StatusMismatched, []string{"SINGLE_LIMIT ORDER taxablePrice"}, nil, nil},
		{RuleSingleLimit, "one indivisible item above passes, taxed in full, with a warning", func(c *Chain) {
			c.Facts.Tariff = tariffWith(t, TariffLine{Code: "2106909090", ValidFrom: "2019-01-01", Duty: ptr(dec("0.15")), VAT: dec("0.13"), Consumption: dec("0")})
			onlyLine2(c)
			reprice(c, "6000.00")
		}, StatusVerified, nil, nil, []string{"SINGLE_LIMIT ORDER taxablePrice"}},
		{RuleSingleLimit, "one indivisible item at the annual limit is not retail", func(c *Chain) {
			c.Facts.Tariff = tariffWith(t, TariffLine{Code: "2106909090", ValidFrom: "2019-01-01", Duty: ptr(dec("0.15")), VAT: dec("0.13"), Consumption: dec("0")})
			onlyLine2(c)
			reprice(c, "25990.00") // + freight 10 = 26,000: not below the annual limit
		}, StatusMismatched, []string{"SINGLE_LIMIT ORDER taxablePrice"}, nil, nil},

		{RuleAnnualLimit, "exactly 26,000 with this order", func(c *Chain) { c.Facts.BuyerYearTotal = dec("25690.00") },
			StatusVerified, nil, nil, nil},
		{RuleAnnualLimit, "a fen above", func(c *Chain) { c.Facts.BuyerYearTotal = dec("25690.01") },
			StatusMismatched, []string{"ANNUAL_LIMIT ORDER annualTotal"}, nil, nil},

		{RuleTaxTotal, "declared tax differs: a warning only", func(c *Chain) {
			c.Order.TaxTotal, c.Order.ActuralPaid, c.Payment.AmountPaid = dec("28.20"), dec("318.20"), dec("318.20")
		}, StatusVerified, nil, nil, []string{"TAX_TOTAL ORDER taxTotal"}},
	}
	covered := map[RuleCode]map[bool]bool{} // rule → fails? → seen
	for _, tt := range tests {
		t.Run(string(tt.rule)+"/"+tt.name, func(t *testing.T) {
			t.Parallel()
			c := fixtureChain(t, order1)
			declareTax(&c)
			tt.mutate(&c)
			v := Match(c)
			if v.Status != tt.status {
				t.Errorf("status = %s, want %s", v.Status, tt.status)
			}
			if got := failures(v.Failed); !slices.Equal(got, append([]string{}, tt.failed...)) {
				t.Errorf("failed = %q, want %q", got, tt.failed)
			}
			if !slices.Equal(v.Missing, append([]Kind{}, tt.missing...)) {
				t.Errorf("missing = %v, want %v", v.Missing, tt.missing)
			}
			if got := failures(v.Warnings); !slices.Equal(got, append([]string{}, tt.warnings...)) {
				t.Errorf("warnings = %q, want %q", got, tt.warnings)
			}
		})
		fails := slices.ContainsFunc(tt.failed, func(f string) bool { return strings.HasPrefix(f, string(tt.rule)+" ") }) ||
			slices.ContainsFunc(tt.missing, func(k Kind) bool { return k.MissingRule() == tt.rule })
		if covered[tt.rule] == nil {
			covered[tt.rule] = map[bool]bool{}
		}
		covered[tt.rule][fails] = true
	}
	for _, code := range []RuleCode{RuleOrderMissing, RulePaymentMissing, RuleWaybillMissing, RuleInventoryMissing,
		RuleOrderArithmetic, RulePaidAmount, RulePaymentRef, RulePayerIsBuyer, RuleConsignee, RuleWaybillRef,
		RuleParties, RuleInventoryLines, RuleBuyerID, RuleTariff, RuleSingleLimit, RuleAnnualLimit} {
		if !covered[code][false] || !covered[code][true] {
			t.Errorf("rule %s lacks a passing or a failing case", code)
		}
	}
}
