package settlement

import (
	"errors"
	"slices"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/xbsettle/xbsettle/internal/apperr"
)

// verdict is what verification decides for one item: Verified with the
// transfer to post, Rejected with every code that failed, or Held.
type verdict struct {
	status    ItemStatus
	codes     []string
	direction string
	tradeMode string
	transfer  Transfer // Verified only
}

func (v *verdict) fail(code string) {
	if !slices.Contains(v.codes, code) {
		v.codes = append(v.codes, code)
	}
}

// assess checks one item against its chain, its quote and its enterprise's
// category, and lists every rule that fails, the way a chain's verdict does.
// It is pure: the caller reads the chain, the quotes and the category first
// (chain nil: not found; quotes: the tenant's, keyed by id). Quotes are
// judged at the instruction's acceptance, so a retry decides the same.
func assess(tenant string, it *Item, chain *TradeChain, quotes map[uuid.UUID]Quote, cat Category) verdict {
	var v verdict
	switch {
	case chain == nil:
		return verdict{status: Rejected, codes: []string{CodeChainNotFound}}
	case chain.PayCode != tenant:
		// Another institution's payment: say nothing more about its chain.
		return verdict{status: Rejected, codes: []string{CodePaymentNotOwned}}
	}
	v.direction, v.tradeMode = chain.Direction, chain.TradeMode
	if chain.PayTransactionID != it.PayTransactionID {
		v.fail(CodePaymentMismatch)
	}
	if !chain.Verified {
		v.fail(CodeChainNotVerified)
	}
	if chain.EbcCode != it.Enterprise {
		v.fail(CodeEnterpriseMismatch)
	}
	if chain.Currency != it.Currency {
		v.fail(CodeCurrencyMismatch)
	} else if !chain.Amount.Equal(it.Amount) {
		v.fail(CodeAmountMismatch)
	}
	flow, _ := flowOf(it.Currency, it.PayoutCurrency) // checked when submitted
	if (flow == FlowImport && chain.Direction != "import") || (flow == FlowExport && chain.Direction != "export") {
		v.fail(ErrFlowMismatch.Code)
	}
	t := Transfer{Flow: flow, Enterprise: it.Enterprise, Fee: it.Fee}
	if flow == FlowCIPS {
		t.Amount = it.Amount
	} else if c, code := convertItem(it, flow, quotes); code != "" {
		v.fail(code)
	} else {
		t.Conversion = &c
	}
	if len(v.codes) == 0 {
		if code := transferProblem(t); code != "" {
			v.fail(code)
		}
	}
	if len(v.codes) > 0 {
		v.status = Rejected
		return v
	}
	switch cat {
	case CategoryA:
	case CategoryB:
		if code := customsAgreement(it, chain); code != "" {
			v.fail(code)
			v.status = Rejected
			return v
		}
	case CategoryC:
		v.status, v.codes = Held, []string{CodeCategoryC}
		return v
	default:
		v.status, v.codes = Rejected, []string{CodeCategoryUnknown}
		return v
	}
	v.status, v.transfer = Verified, t
	return v
}

// convertItem converts the item's payment at its quote, as of the
// instruction's acceptance. It returns the code of what stops it.
func convertItem(it *Item, flow Flow, quotes map[uuid.UUID]Quote) (Conversion, string) {
	q, ok := quotes[it.QuoteID]
	switch {
	case !ok:
		return Conversion{}, ErrQuoteNotFound.Code
	case !q.Live(it.AcceptedAt):
		return Conversion{}, ErrQuoteExpired.Code
	}
	foreign, side := it.PayoutCurrency, CustomerBuysFX
	if flow == FlowExport {
		foreign, side = it.Currency, CustomerSellsFX
	}
	switch {
	case q.Quotation.Pair != PairOf(foreign):
		return Conversion{}, ErrPairMismatch.Code
	case q.Quotation.Side != side:
		return Conversion{}, ErrFlowMismatch.Code
	}
	c, err := Convert(it.Amount, it.Currency, it.PayoutCurrency, q.Quotation)
	if err != nil {
		return Conversion{}, codeOf(err)
	}
	return c, ""
}

// transferProblem is the code of what BuildEntry would refuse in the
// transfer, found before any account is touched.
func transferProblem(t Transfer) string {
	l, err := t.legs()
	if err == nil {
		err = checkFee(t.Fee, l.dst, l.dstAmt)
	}
	if err == nil {
		_, err = t.Accounts()
	}
	return codeOf(err)
}

// codeOf is the stable code of a domain error, "" for nil. An error without
// one is reported as INTERNAL: it is a bug, never the client's doing.
func codeOf(err error) string {
	if err == nil {
		return ""
	}
	var ae *apperr.Error
	if errors.As(err, &ae) {
		return ae.Code
	}
	return "INTERNAL"
}

// figures are what an item's verification fixes and its report shows.
type figures struct {
	cny, foreign, spread, gross, net decimal.NullDecimal
}

// figuresOf reads the amounts of a verified transfer.
func figuresOf(t Transfer) figures {
	l, _ := t.legs() // verified: cannot fail
	var f figures
	f.gross = decimal.NewNullDecimal(l.dstAmt)
	f.net = decimal.NewNullDecimal(l.dstAmt.Sub(t.Fee))
	if c := t.Conversion; c != nil {
		f.cny, f.foreign, f.spread = decimal.NewNullDecimal(c.CNYAmount()), decimal.NewNullDecimal(c.ForeignAmount()), decimal.NewNullDecimal(c.Spread)
	} else {
		f.cny = decimal.NewNullDecimal(t.Amount)
	}
	return f
}
