package settlement

import (
	"encoding/json"
	"fmt"

	"github.com/shopspring/decimal"

	"github.com/xbsettle/xbsettle/ledger"
)

// Flow is the direction of a cross-border payment being settled.
type Flow string

// The three flows (DESIGN §6).
const (
	// FlowImport: a domestic buyer's CNY, converted (购汇, the customer buys
	// FX at the sell rate), pays a foreign merchant in its currency.
	FlowImport Flow = "import"
	// FlowExport: an overseas buyer's foreign currency, converted (结汇, the
	// customer sells FX at the buy rate), pays a domestic seller in CNY.
	FlowExport Flow = "export"
	// FlowCIPS: cross-border RMB through CIPS, in either direction; no
	// conversion.
	FlowCIPS Flow = "cips"
)

// Transfer is one settlement to post: funds collected from buyers, in the
// source currency, paid to a merchant in the target currency, converted
// through the FX positions when the two differ, less a fee.
type Transfer struct {
	Flow       Flow
	Enterprise string          // customs code of the enterprise paid
	Conversion *Conversion     // import and export; nil for CIPS
	Amount     decimal.Decimal // CIPS only: the CNY paid; import and export take theirs from Conversion
	// Fee is charged to the merchant, in the currency it is paid in, and
	// kept as fee income; zero for none. It must be less than the amount paid.
	Fee decimal.Decimal
}

// legs are a transfer's figures, read once and checked.
type legs struct {
	src, dst       ledger.Currency
	srcAmt, dstAmt decimal.Decimal
}

// legs checks that the transfer fits its flow and returns what is debited
// from buyer funds and credited to the merchant before the fee.
func (t Transfer) legs() (legs, error) {
	c := t.Conversion
	switch t.Flow {
	case FlowCIPS:
		if c != nil {
			return legs{}, ErrFlowMismatch.With("a CIPS transfer is in CNY and converts nothing")
		}
		if err := checkAmount(t.Amount, CNY); err != nil {
			return legs{}, err
		}
		return legs{CNY, CNY, t.Amount, t.Amount}, nil
	case FlowImport, FlowExport:
		if c == nil {
			return legs{}, ErrFlowMismatch.With("an %s transfer needs a conversion", t.Flow)
		}
		if !t.Amount.IsZero() {
			return legs{}, ErrFlowMismatch.With("an %s transfer takes its amounts from the conversion; leave Amount zero", t.Flow)
		}
		if c.Foreign() == CNY || (c.From != CNY && c.To != CNY) {
			return legs{}, ErrFlowMismatch.With("the conversion %s to %s is not against CNY", c.From, c.To)
		}
		if t.Flow == FlowImport {
			if c.Quotation.Side != CustomerBuysFX {
				return legs{}, ErrFlowMismatch.With("an import is 购汇, %s, not %s", CustomerBuysFX, c.Quotation.Side)
			}
			return legs{CNY, c.Foreign(), c.CNYAmount(), c.ForeignAmount()}, nil
		}
		if c.Quotation.Side != CustomerSellsFX {
			return legs{}, ErrFlowMismatch.With("an export is 结汇, %s, not %s", CustomerSellsFX, c.Quotation.Side)
		}
		return legs{c.Foreign(), CNY, c.ForeignAmount(), c.CNYAmount()}, nil
	}
	return legs{}, ErrFlowMismatch.With("flow %q is not import, export or cips", t.Flow)
}

// Accounts lists the accounts the transfer posts to, for Accounts.Resolve.
// Errors: those of BuildEntry's checks.
func (t Transfer) Accounts() ([]AccountRef, error) {
	l, err := t.legs()
	if err != nil {
		return nil, err
	}
	refs := []AccountRef{AccountOf(BuyerFunds, l.src), MerchantAccount(t.Enterprise, l.dst)}
	if l.src != l.dst {
		refs = append(refs, AccountOf(FXPosition, l.src), AccountOf(FXPosition, l.dst), AccountOf(FXSpreadIncome, CNY))
	}
	if t.Fee.IsPositive() {
		refs = append(refs, AccountOf(FeeIncome, l.dst))
	}
	for _, r := range refs {
		if err := r.Validate(); err != nil {
			return nil, err
		}
	}
	return refs, nil
}

// BuildEntry turns a transfer into one ledger entry over the resolved
// accounts (DESIGN §4). With F the foreign amount, C the customer's CNY, P
// the foreign amount at parity in CNY and S the spread (Conversion.Spread):
//
//	import 购汇  Dr buyer_funds:CNY C     Cr fx_position:CNY P     Cr fx_spread_income:CNY S
//	            Dr fx_position:FCY F     Cr merchant:E:FCY F−fee  Cr fee_income:FCY fee
//	export 结汇  Dr buyer_funds:FCY F     Cr fx_position:FCY F
//	            Dr fx_position:CNY P     Cr merchant:E:CNY C−fee  Cr fx_spread_income:CNY S  Cr fee_income:CNY fee
//	cips        Dr buyer_funds:CNY A     Cr merchant:E:CNY A−fee  Cr fee_income:CNY fee
//
// A negative spread is a debit to spread income; a zero leg is left out.
// The entry is balanced per currency by construction, and asserted so.
// The metadata records the flow, the enterprise, the fee and the whole
// conversion. Errors: ErrFlowMismatch, ErrAmountInvalid, ErrFeeTooLarge,
// ErrAccountCode, ledger.ErrAccountNotFound (an account missing from the
// set), ledger.ErrCurrencyMismatch, ledger.ErrUnbalanced (a bug).
func BuildEntry(key string, t Transfer, accts AccountSet) (ledger.EntryRequest, error) {
	if key == "" {
		return ledger.EntryRequest{}, fmt.Errorf("build entry: an idempotency key is required")
	}
	l, err := t.legs()
	if err != nil {
		return ledger.EntryRequest{}, err
	}
	if err := checkFee(t.Fee, l.dst, l.dstAmt); err != nil {
		return ledger.EntryRequest{}, err
	}
	if _, err := t.Accounts(); err != nil { // checks the enterprise code, among others
		return ledger.EntryRequest{}, err
	}
	b := &entryBuilder{accts: accts}
	b.add(AccountOf(BuyerFunds, l.src), ledger.Debit, l.srcAmt)
	if c := t.Conversion; c != nil {
		b.add(AccountOf(FXPosition, l.src), ledger.Credit, positionLeg(l.src, c))
		b.add(AccountOf(FXPosition, l.dst), ledger.Debit, positionLeg(l.dst, c))
		b.add(AccountOf(FXSpreadIncome, CNY), ledger.Credit, c.Spread)
	}
	b.add(MerchantAccount(t.Enterprise, l.dst), ledger.Credit, l.dstAmt.Sub(t.Fee))
	b.add(AccountOf(FeeIncome, l.dst), ledger.Credit, t.Fee)
	if b.err != nil {
		return ledger.EntryRequest{}, b.err
	}
	if err := assertBalanced(b.postings); err != nil {
		return ledger.EntryRequest{}, err
	}
	meta, err := json.Marshal(entryMetadata(t, l))
	if err != nil {
		return ledger.EntryRequest{}, fmt.Errorf("build entry %s: metadata: %w", key, err)
	}
	return ledger.EntryRequest{IdempotencyKey: key, Metadata: meta, Postings: b.postings,
		Description: fmt.Sprintf("%s settlement to %s: %s %s → %s %s", t.Flow, t.Enterprise,
			l.src, l.src.Format(l.srcAmt), l.dst, l.dst.Format(l.dstAmt))}, nil
}

// positionLeg is the FX position's amount in cur: the foreign amount in the
// foreign currency, its parity value in CNY, so the position carries every
// conversion at parity and the spread is what remains.
func positionLeg(cur ledger.Currency, c *Conversion) decimal.Decimal {
	if cur == CNY {
		return c.ParityCNY
	}
	return c.ForeignAmount()
}

// checkFee refuses a fee that is negative, finer than the currency allows,
// or not less than the amount paid.
func checkFee(fee decimal.Decimal, cur ledger.Currency, paid decimal.Decimal) error {
	switch {
	case fee.IsNegative():
		return ErrAmountInvalid.With("the fee %s is negative", fee)
	case ledger.CheckMinorUnits(fee, cur) != nil:
		return ErrAmountInvalid.With("the %s fee %s has more than %d decimals", cur, fee, cur.MinorUnits())
	case fee.GreaterThanOrEqual(paid):
		return ErrFeeTooLarge.With("the fee %s %s is not less than the %s paid", cur, cur.Format(fee), cur.Format(paid))
	}
	return nil
}

// entryBuilder collects postings, keeping the first error.
type entryBuilder struct {
	accts    AccountSet
	postings []ledger.PostingRequest
	err      error
}

// add posts amount to the account on the side given; a negative amount goes
// to the other side and a zero one is left out, since the ledger takes only
// positive postings.
func (b *entryBuilder) add(r AccountRef, dir ledger.Direction, amount decimal.Decimal) {
	if b.err != nil || amount.IsZero() {
		return
	}
	if amount.IsNegative() {
		amount, dir = amount.Neg(), opposite(dir)
	}
	acc, ok := b.accts.Get(r)
	switch {
	case !ok:
		b.err = ledger.ErrAccountNotFound.With("account %s was not resolved", r.Code())
	case acc.Currency != r.Currency:
		b.err = ledger.ErrCurrencyMismatch.With("account %s is in %s", r.Code(), acc.Currency)
	default:
		b.postings = append(b.postings, ledger.PostingRequest{AccountID: acc.ID, Direction: dir, Amount: amount, Currency: r.Currency})
	}
}

func opposite(d ledger.Direction) ledger.Direction {
	if d == ledger.Debit {
		return ledger.Credit
	}
	return ledger.Debit
}

// assertBalanced checks that debits equal credits in every currency.
func assertBalanced(ps []ledger.PostingRequest) error {
	net := map[ledger.Currency]decimal.Decimal{}
	for _, p := range ps {
		if p.Direction == ledger.Debit {
			net[p.Currency] = net[p.Currency].Add(p.Amount)
		} else {
			net[p.Currency] = net[p.Currency].Sub(p.Amount)
		}
	}
	for cur, n := range net {
		if !n.IsZero() {
			return ledger.ErrUnbalanced.With("built a settlement entry whose %s debits exceed its credits by %s", cur, n)
		}
	}
	return nil
}

// entryMetadata is what the entry records beyond its postings.
func entryMetadata(t Transfer, l legs) map[string]any {
	m := map[string]any{"flow": t.Flow, "enterprise": t.Enterprise, "fee": l.dst.Format(t.Fee), "fee_currency": l.dst}
	if t.Flow == FlowCIPS {
		m["route"] = "CIPS"
	}
	if t.Conversion != nil {
		m["conversion"] = t.Conversion
	}
	return m
}
