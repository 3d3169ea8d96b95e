package settlement

import (
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
)

// TestAssess: the verification rules of one item, each failure listed with
// its code, as a table.
func TestAssess(t *testing.T) {
	t.Parallel()
	const pc = "PI00000001"
	accepted := testNow
	buyUSD := Quote{ID: uuid.Must(uuid.NewV7()), TenantID: pc, Quotation: quotation("USD", CustomerBuysFX), ExpiresAt: accepted.Add(time.Minute)}
	sellUSD := Quote{ID: uuid.Must(uuid.NewV7()), TenantID: pc, Quotation: quotation("USD", CustomerSellsFX), ExpiresAt: accepted.Add(time.Minute)}
	buyEUR := Quote{ID: uuid.Must(uuid.NewV7()), TenantID: pc, Quotation: quotation("EUR", CustomerBuysFX), ExpiresAt: accepted.Add(time.Minute)}
	stale := Quote{ID: uuid.Must(uuid.NewV7()), TenantID: pc, Quotation: quotation("USD", CustomerBuysFX), ExpiresAt: accepted}
	quotes := map[uuid.UUID]Quote{buyUSD.ID: buyUSD, sellUSD.ID: sellUSD, buyEUR.ID: buyEUR, stale.ID: stale}
	declared := accepted
	importChain := TradeChain{ChainRef: ChainRef{"P1", "O1"}, EbcCode: "4403100001", PayCode: pc, PayTransactionID: "T1",
		Direction: "import", TradeMode: "9610", Currency: "CNY", Amount: dec("1091.00"), GoodsValue: dec("1000.00"),
		Tax: dec("91.00"), DeclarationDate: &declared, Verified: true}
	exportChain := TradeChain{ChainRef: ChainRef{"P1", "E1"}, EbcCode: "4403100001", PayCode: pc, PayTransactionID: "R1",
		Direction: "export", TradeMode: "9810", Currency: "USD", Amount: dec("1234.56"), GoodsValue: dec("1234.56"),
		Tax: dec("0"), DeclarationDate: &declared, Verified: true}
	imp := Item{NewItem: NewItem{EbpCode: "P1", OrderNo: "O1", PayTransactionID: "T1", Enterprise: "4403100001", Currency: "CNY",
		Amount: dec("1091.00"), PayoutCurrency: "USD", QuoteID: buyUSD.ID}, AcceptedAt: accepted}
	exp := Item{NewItem: NewItem{EbpCode: "P1", OrderNo: "E1", PayTransactionID: "R1", Enterprise: "4403100001", Currency: "USD",
		Amount: dec("1234.56"), PayoutCurrency: "CNY", QuoteID: sellUSD.ID, Fee: dec("10.00")}, AcceptedAt: accepted}
	cips := imp
	cips.PayoutCurrency, cips.QuoteID = "CNY", uuid.Nil

	cases := []struct {
		name   string
		item   Item
		chain  *TradeChain
		cat    Category
		status ItemStatus
		codes  []string
	}{
		{"import 购汇", imp, &importChain, CategoryA, Verified, nil},
		{"export 结汇 with fee", exp, &exportChain, CategoryA, Verified, nil},
		{"cross-border RMB", cips, &importChain, CategoryA, Verified, nil},
		{"no chain", imp, nil, CategoryA, Rejected, []string{CodeChainNotFound}},
		{"another institution's payment says nothing more", with(imp, func(it *Item) { it.Amount = dec("1") }),
			withChain(importChain, func(c *TradeChain) { c.PayCode, c.Verified = "PI00000002", false }), CategoryA, Rejected, []string{CodePaymentNotOwned}},
		{"every failure listed", with(imp, func(it *Item) { it.Enterprise, it.Amount, it.PayTransactionID = "4403100002", dec("1090.99"), "T9" }),
			withChain(importChain, func(c *TradeChain) { c.Verified = false }), CategoryA, Rejected,
			[]string{CodePaymentMismatch, CodeChainNotVerified, CodeEnterpriseMismatch, CodeAmountMismatch}},
		{"currency not the chain's", with(exp, func(it *Item) { it.Currency = "EUR"; it.QuoteID = buyEUR.ID }), &exportChain, CategoryA,
			Rejected, []string{CodeCurrencyMismatch, ErrFlowMismatch.Code}},
		{"an import item on an export chain", with(imp, func(it *Item) { it.Currency, it.Amount = "CNY", dec("1234.56") }),
			withChain(exportChain, func(c *TradeChain) { c.Currency = "CNY"; c.PayTransactionID = "T1" }), CategoryA, Rejected, []string{ErrFlowMismatch.Code}},
		{"expired quote", with(imp, func(it *Item) { it.QuoteID = stale.ID }), &importChain, CategoryA, Rejected, []string{ErrQuoteExpired.Code}},
		{"unknown or another's quote", with(imp, func(it *Item) { it.QuoteID = uuid.Must(uuid.NewV7()) }), &importChain, CategoryA,
			Rejected, []string{ErrQuoteNotFound.Code}},
		{"quote of another pair", with(imp, func(it *Item) { it.QuoteID = buyEUR.ID }), &importChain, CategoryA, Rejected, []string{ErrPairMismatch.Code}},
		{"quote of the other side", with(imp, func(it *Item) { it.QuoteID = sellUSD.ID }), &importChain, CategoryA, Rejected, []string{ErrFlowMismatch.Code}},
		{"fee not less than the payout", with(exp, func(it *Item) { it.Fee = dec("8766.86") }), &exportChain, CategoryA, Rejected, []string{ErrFeeTooLarge.Code}},
		{"B: amount is goods plus tax", imp, &importChain, CategoryB, Verified, nil},
		{"B: freight outside the declaration", imp, withChain(importChain, func(c *TradeChain) { c.GoodsValue = dec("990.00") }),
			CategoryB, Rejected, []string{CodeCustomsMismatch}},
		{"B: no declaration", exp, withChain(exportChain, func(c *TradeChain) { c.DeclarationDate = nil }), CategoryB, Rejected, []string{CodeCustomsMismatch}},
		{"C: held", imp, &importChain, CategoryC, Held, []string{CodeCategoryC}},
		{"C with a failure: rejected", with(imp, func(it *Item) { it.Amount = dec("1") }), &importChain, CategoryC, Rejected, []string{CodeAmountMismatch}},
		{"a category the policy should not answer", imp, &importChain, "D", Rejected, []string{CodeCategoryUnknown}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := assess(pc, &tc.item, tc.chain, quotes, tc.cat)
			if v.status != tc.status || !slices.Equal(v.codes, tc.codes) {
				t.Fatalf("%s %v, want %s %v", v.status, v.codes, tc.status, tc.codes)
			}
			if v.status == Verified {
				if _, err := v.transfer.Accounts(); err != nil {
					t.Fatalf("a verified transfer that cannot post: %v", err)
				}
			}
		})
	}
}

func with(it Item, f func(*Item)) Item { f(&it); return it }

func withChain(c TradeChain, f func(*TradeChain)) *TradeChain { f(&c); return &c }
