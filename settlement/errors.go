package settlement

import "github.com/xbsettle/xbsettle/internal/apperr"

// Errors of the FX part of settlement. Each has a stable code (docs/fx.md
// lists them); compare with errors.Is, since the returned value carries a
// more specific message. Validation failures of a rate load are
// apperr.Invalid (VALIDATION_FAILED) with the field codes below.
var (
	ErrRateNotFound   = apperr.New("FX_RATE_NOT_FOUND", "no FX rate is loaded for this pair and date")
	ErrRateStale      = apperr.New("FX_RATE_STALE", "the latest FX rate for this pair is too old to quote")
	ErrQuoteNotFound  = apperr.New("QUOTE_NOT_FOUND", "no such quote")
	ErrQuoteExpired   = apperr.New("QUOTE_EXPIRED", "the quote has expired")
	ErrPairInvalid    = apperr.New("FX_PAIR_INVALID", "a pair is two known currencies, foreign/CNY, such as USD/CNY")
	ErrPairMismatch   = apperr.New("FX_PAIR_MISMATCH", "the currencies converted are not those of the rate's pair")
	ErrSideInvalid    = apperr.New("FX_SIDE_INVALID", "the side is customer_buys_fx (购汇) or customer_sells_fx (结汇)")
	ErrRateInvalid    = apperr.New("FX_RATE_INVALID", "the rate is not positive, not per 1 or 100, or on the wrong side of parity")
	ErrAmountInvalid  = apperr.New("FX_AMOUNT_INVALID", "the amount is not positive, too large, or has more decimals than its currency allows")
	ErrAmountTooSmall = apperr.New("FX_AMOUNT_TOO_SMALL", "the amount converts to less than half a minor unit of the target currency")
	ErrFlowMismatch   = apperr.New("FX_FLOW_MISMATCH", "the conversion does not fit the settlement flow")
	ErrFeeTooLarge    = apperr.New("FEE_TOO_LARGE", "the fee is not less than the amount paid to the merchant")
	ErrAccountCode    = apperr.New("SETTLEMENT_ACCOUNT_CODE_INVALID", "not a settlement account of the chart (docs/fx.md)")
	ErrAccountChart   = apperr.New("SETTLEMENT_ACCOUNT_MISMATCH", "an existing account's currency or kind is not the one its code implies")
	ErrTooManyRates   = apperr.New("BATCH_TOO_LARGE", "a rate load has too many rates")
)

// Errors of settlement instructions, batches, reports and reconciliation
// (docs/settlement.md). An item's own rejection is not an error of the
// request: it is recorded on the item with its codes (instruction.go).
var (
	ErrInstructionNotFound = apperr.New("SETTLEMENT_NOT_FOUND", "no such settlement instruction")
	ErrTooManyItems        = apperr.New("BATCH_TOO_LARGE", "an instruction has too many items")
	ErrStatementTooLarge   = apperr.New("BATCH_TOO_LARGE", "the bank statement has too many lines")
	ErrReconcileWindow     = apperr.New("RECONCILIATION_TOO_LARGE", "the statement's dates span more ledger postings than one reconciliation matches")
)

// Field codes of the VALIDATION_FAILED error LoadRates returns, next to the
// API's own (REQUIRED, CURRENCY_INVALID, AMOUNT_NOT_POSITIVE,
// AMOUNT_OUT_OF_RANGE, TOO_LONG) which keep their meaning.
const (
	FieldRequired      = "REQUIRED"
	FieldCurrency      = "CURRENCY_INVALID"
	FieldPair          = "PAIR_INVALID"        // not foreign/CNY
	FieldNotPositive   = "AMOUNT_NOT_POSITIVE" // a rate of zero or less
	FieldOutOfRange    = "AMOUNT_OUT_OF_RANGE" // a rate of MaxRate or more
	FieldRatePrecision = "RATE_PRECISION"      // more than MaxRateDecimals decimals
	FieldRateOrder     = "RATE_ORDER"          // not buy ≤ parity ≤ sell
	FieldUnit          = "UNIT_INVALID"        // not 1 or 100
	FieldDateInFuture  = "DATE_IN_FUTURE"      // more than a day ahead of Beijing time
	FieldDuplicate     = "DUPLICATE"           // the same pair and date twice in one load
	FieldTooLong       = "TOO_LONG"
)
