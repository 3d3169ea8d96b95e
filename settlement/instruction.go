package settlement

import (
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/xbsettle/xbsettle/internal/apperr"
	"github.com/xbsettle/xbsettle/ledger"
)

// ItemStatus is where a settlement item stands. The happy path is
// Accepted → Verified → Posted → Batched → Settled; an item may instead end
// Rejected (with codes) or Held (awaiting FX bureau registration).
type ItemStatus string

// Item statuses (DESIGN §6).
const (
	Accepted ItemStatus = "accepted" // stored, not looked at yet
	Verified ItemStatus = "verified" // chain, payment, amounts, quote and category agree; the payment is claimed
	Posted   ItemStatus = "posted"   // its ledger entry is written
	Batched  ItemStatus = "batched"  // it is in the net batch of its enterprise, currency and value date
	Settled  ItemStatus = "settled"  // its batch's payout is posted
	Rejected ItemStatus = "rejected" // refused, with codes; nothing posted
	Held     ItemStatus = "held"     // FX category C: waits for FX bureau registration
)

// Active reports whether a worker still has something to do with the item.
func (s ItemStatus) Active() bool { return s == Accepted || s == Verified || s == Posted }

// Codes an item is rejected or held with, next to the FX codes of
// errors.go (QUOTE_NOT_FOUND, QUOTE_EXPIRED, FX_PAIR_MISMATCH,
// FX_FLOW_MISMATCH, FX_AMOUNT_TOO_SMALL, FEE_TOO_LARGE …) and the ledger's
// (INSUFFICIENT_FUNDS, ACCOUNT_FROZEN …) when its entry is refused.
// docs/settlement.md explains each.
const (
	CodeChainNotFound      = "CHAIN_NOT_FOUND"     // no trade chain (ebpCode, orderNo)
	CodeChainNotVerified   = "CHAIN_NOT_VERIFIED"  // the chain is not, or no longer, verified
	CodePaymentNotOwned    = "PAYMENT_NOT_OWNED"   // the chain's payment is another institution's
	CodePaymentMismatch    = "PAYMENT_MISMATCH"    // the chain's payTransactionId is another
	CodeEnterpriseMismatch = "ENTERPRISE_MISMATCH" // the enterprise paid is not the chain's seller (ebcCode)
	CodeCurrencyMismatch   = "CURRENCY_MISMATCH"   // the payment's currency is not the chain's
	CodeAmountMismatch     = "AMOUNT_MISMATCH"     // the payment's amount is not the chain's
	CodeCustomsMismatch    = "CUSTOMS_MISMATCH"    // category B: the amount is not the customs value
	CodeCategoryC          = "FX_CATEGORY_C"       // held: category C settles only once registered
	CodeAlreadySettled     = "ALREADY_SETTLED"     // another item settled, or is settling, this payment
	CodeCategoryUnknown    = "FX_CATEGORY_UNKNOWN" // the policy answered something other than A, B or C
)

// MaxItems bounds the items of one instruction.
const MaxItems = 1000

// maxRefLen bounds ebpCode, orderNo and payTransactionId: the customs
// standard allows 60 characters.
const maxRefLen = 64

// NewItem is one payment an institution asks to settle: which payment, the
// enterprise paid and in which currency, the quote when it converts, and a
// fee charged to the enterprise in the currency it is paid in.
type NewItem struct {
	EbpCode          string // the platform: with OrderNo it names the trade chain
	OrderNo          string
	PayTransactionID string // the payment (export: payNo); one payment settles once
	Enterprise       string // customs code of the enterprise paid: the chain's ebcCode
	Currency         ledger.Currency
	Amount           decimal.Decimal // the payment, in Currency, as on the chain
	PayoutCurrency   ledger.Currency // the enterprise is paid in this
	QuoteID          uuid.UUID       // required when Currency ≠ PayoutCurrency, else uuid.Nil
	Fee              decimal.Decimal // in PayoutCurrency; zero for none
}

// NewInstruction is a settlement instruction as submitted.
type NewInstruction struct {
	IdempotencyKey string
	Items          []NewItem
}

// Instruction is a stored instruction with its items.
type Instruction struct {
	ID             uuid.UUID
	TenantID       string
	IdempotencyKey string
	AcceptedAt     time.Time
	CreatedBy      string
	Items          []Item
}

// Item is a stored item: what was asked, where it stands and, once
// verified, the figures its entry is built from.
type Item struct {
	NewItem
	ID            uuid.UUID
	InstructionID uuid.UUID
	Seq           int
	Status        ItemStatus
	Codes         []string
	Direction     string // import or export, from the chain
	TradeMode     string // 9610, 1210, 9710, 9810, from the chain
	Flow          Flow
	Quotation     *Quotation // the quote's figures; nil for CIPS
	CNYAmount     decimal.NullDecimal
	ForeignAmount decimal.NullDecimal
	SpreadCNY     decimal.NullDecimal
	PayoutGross   decimal.NullDecimal // credited to the enterprise before the fee
	PayoutAmount  decimal.NullDecimal // credited to the enterprise: gross − fee
	EntryID       *uuid.UUID
	BatchID       *uuid.UUID
	ValueDate     *time.Time
	AcceptedAt    time.Time
	UpdatedAt     time.Time
	History       []Event
}

// Event is one status an item reached.
type Event struct {
	From  ItemStatus // "" for accepted
	To    ItemStatus
	Codes []string
	At    time.Time
}

// flowOf is the flow a payment in cur paid out in payout takes: CNY to a
// foreign currency is an import (购汇), a foreign currency to CNY an export
// (结汇), CNY to CNY cross-border RMB through CIPS. Foreign to foreign is not
// a flow this service settles.
func flowOf(cur, payout ledger.Currency) (Flow, bool) {
	switch {
	case cur == CNY && payout == CNY:
		return FlowCIPS, true
	case cur == CNY && payout != CNY:
		return FlowImport, true
	case cur != CNY && payout == CNY:
		return FlowExport, true
	}
	return "", false
}

// settleKey is the ledger idempotency key of a payment's entry: derived from
// the payment alone, so the same payment posts once whatever instruction,
// worker or retry carries it. It lies in a space the ledger reserves, so no
// client key can take it.
func settleKey(payCode, payTransactionID string) string {
	return ledger.ServiceKey(ledger.KeysSettle, payCode, payTransactionID)
}

// payoutKey is the ledger idempotency key of a batch's payout.
func payoutKey(enterprise string, cur ledger.Currency, valueDate time.Time) string {
	return ledger.ServiceKey(ledger.KeysPayout, enterprise, string(cur), valueDate.Format(dateLayout))
}

// Field codes of the VALIDATION_FAILED error Submit returns, beyond those
// of errors.go.
const (
	FieldRefInvalid      = "REF_INVALID"        // ebpCode, orderNo, payTransactionId: spaces or control characters
	FieldEnterprise      = "ENTERPRISE_INVALID" // not 1 to 32 of A-Z 0-9
	FieldAmountPrecision = "AMOUNT_PRECISION"   // more decimals than the currency allows
	FieldFlowUnsupported = "FLOW_UNSUPPORTED"   // neither currency is CNY
	FieldQuoteRequired   = "QUOTE_REQUIRED"     // a conversion without quote_id
	FieldQuoteUnexpected = "QUOTE_UNEXPECTED"   // quote_id on a CNY → CNY (CIPS) item
)

// validateItems checks an instruction's items and lists every bad field.
func validateItems(items []NewItem) error {
	if len(items) == 0 {
		return apperr.Invalid([]apperr.FieldError{{Field: "items", Code: FieldRequired, Message: "an instruction needs at least one item"}})
	}
	if len(items) > MaxItems {
		return ErrTooManyItems.With("an instruction has %d items; at most %d", len(items), MaxItems)
	}
	var bad []apperr.FieldError
	seen := make(map[string]int, len(items))
	for i, it := range items {
		at := func(field, code, msg string, args ...any) {
			bad = append(bad, apperr.FieldError{Field: fmt.Sprintf("items[%d].%s", i, field), Code: code, Message: fmt.Sprintf(msg, args...)})
		}
		for _, ref := range []struct{ name, v string }{{"ebpCode", it.EbpCode}, {"orderNo", it.OrderNo}, {"payTransactionId", it.PayTransactionID}} {
			switch {
			case ref.v == "":
				at(ref.name, FieldRequired, "this field is required")
			case len(ref.v) > maxRefLen:
				at(ref.name, FieldTooLong, "at most %d bytes", maxRefLen)
			case strings.IndexFunc(ref.v, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0:
				at(ref.name, FieldRefInvalid, "no spaces or control characters")
			}
		}
		if it.Enterprise == "" {
			at("enterprise", FieldRequired, "this field is required")
		} else if !validEnterprise(it.Enterprise) {
			at("enterprise", FieldEnterprise, "a customs code: 1 to %d of A-Z 0-9", maxEnterpriseLen)
		}
		checkItemAmount := func(field string, v decimal.Decimal, cur ledger.Currency, zeroOK bool) {
			switch {
			case v.IsNegative() || (!zeroOK && v.IsZero()):
				at(field, FieldNotPositive, "must be greater than zero")
			case cur.Valid() && ledger.CheckMinorUnits(v, cur) != nil:
				at(field, FieldAmountPrecision, "%s allows %d decimals", cur, cur.MinorUnits())
			}
		}
		for _, c := range []struct {
			name string
			v    ledger.Currency
		}{{"currency", it.Currency}, {"payout_currency", it.PayoutCurrency}} {
			if !c.v.Valid() {
				at(c.name, FieldCurrency, "%q is not an ISO 4217 currency xbsettle supports", c.v)
			}
		}
		checkItemAmount("amount", it.Amount, it.Currency, false)
		checkItemAmount("fee", it.Fee, it.PayoutCurrency, true)
		if it.Currency.Valid() && it.PayoutCurrency.Valid() {
			flow, ok := flowOf(it.Currency, it.PayoutCurrency)
			switch {
			case !ok:
				at("payout_currency", FieldFlowUnsupported, "%s paid out in %s: one side of a settlement is CNY", it.Currency, it.PayoutCurrency)
			case flow != FlowCIPS && it.QuoteID == uuid.Nil:
				at("quote_id", FieldQuoteRequired, "%s paid out in %s converts: name the quote", it.Currency, it.PayoutCurrency)
			case flow == FlowCIPS && it.QuoteID != uuid.Nil:
				at("quote_id", FieldQuoteUnexpected, "CNY paid out in CNY (CIPS) converts nothing")
			}
		}
		if it.PayTransactionID != "" {
			if j, dup := seen[it.PayTransactionID]; dup {
				at("payTransactionId", FieldDuplicate, "also items[%d]: a payment settles once", j)
			} else {
				seen[it.PayTransactionID] = i
			}
		}
	}
	if len(bad) > 0 {
		return apperr.Invalid(bad)
	}
	return nil
}
