package ledger

import "github.com/xbsettle/xbsettle/internal/apperr"

// Errors the ledger returns. Each has a stable code (docs/errors.md); compare
// with errors.Is, since the returned value carries a more specific message.
var (
	ErrAccountNotFound     = apperr.New("ACCOUNT_NOT_FOUND", "no such account")
	ErrAccountExists       = apperr.New("ACCOUNT_EXISTS", "an account with this code already exists")
	ErrAccountFrozen       = apperr.New("ACCOUNT_FROZEN", "the account is frozen")
	ErrAccountClosed       = apperr.New("ACCOUNT_CLOSED", "the account is closed")
	ErrEntryNotFound       = apperr.New("ENTRY_NOT_FOUND", "no such entry")
	ErrHoldNotFound        = apperr.New("HOLD_NOT_FOUND", "no such hold")
	ErrInsufficientFunds   = apperr.New("INSUFFICIENT_FUNDS", "the account's balance does not cover the amount")
	ErrUnbalanced          = apperr.New("UNBALANCED", "debits and credits differ")
	ErrTooFewPostings      = apperr.New("TOO_FEW_POSTINGS", "an entry needs at least two postings")
	ErrTooManyPostings     = apperr.New("TOO_MANY_POSTINGS", "an entry has too many postings")
	ErrAmountPrecision     = apperr.New("AMOUNT_PRECISION", "the amount has more decimals than its currency allows")
	ErrCurrencyMismatch    = apperr.New("CURRENCY_MISMATCH", "the posting's currency is not its account's")
	ErrIdempotencyReused   = apperr.New("IDEMPOTENCY_CONFLICT", "the idempotency key was used with a different request")
	ErrKeyReserved         = apperr.New("IDEMPOTENCY_KEY_RESERVED", "the idempotency key starts with a prefix the service reserves for its own keys")
	ErrHoldResolved        = apperr.New("HOLD_ALREADY_RESOLVED", "the hold was already posted, voided or expired")
	ErrHoldNotDue          = apperr.New("HOLD_NOT_DUE", "the hold's deadline has not passed")
	ErrHoldAmount          = apperr.New("HOLD_AMOUNT", "the amount to post exceeds the hold")
	ErrHoldPartial         = apperr.New("HOLD_PARTIAL_UNSUPPORTED", "only a hold of one debit and one credit can be posted in part")
	ErrAlreadyReversed     = apperr.New("ALREADY_REVERSED", "the entry was already reversed")
	ErrNotReversible       = apperr.New("NOT_REVERSIBLE", "only posted entries can be reversed; void a hold instead")
	ErrEffectiveInFuture   = apperr.New("EFFECTIVE_AT_IN_FUTURE", "effective_at may not be in the future")
	ErrBadCursor           = apperr.New("BAD_CURSOR", "the cursor is not one this list returned")
	ErrInvalidStatusChange = apperr.New("INVALID_STATUS_CHANGE", "the account cannot move to that status")
)
