package risk

// SQL fragments shared by the classification figures and the credit
// features, so that both read a chain the same way (docs/risk.md, "Where
// the figures come from"). Each is written for trade_chains aliased t.

// chainStatusAtSQL is what a trade chain was at the instant $N (written
// %[1]s): one character, v verified, r rejected (mismatched), i incomplete
// (not verified, documents missing, or not verified yet at that instant),
// c cancelled, x returned. The row holds the chain's current status and when
// it was verified and unverified last, so a chain verified after the
// instant was not yet verified then, and one unverified after it still was.
const chainStatusAtSQL = `CASE
	WHEN t.verified_at > %[1]s THEN 'i'
	WHEN t.status = 'verified' OR t.unverified_at > %[1]s THEN 'v'
	WHEN t.reason = 'MISMATCHED' THEN 'r'
	WHEN t.reason = 'CANCELLED' THEN 'c'
	WHEN t.reason = 'RETURNED' THEN 'x'
	ELSE 'i' END`

// chainCNYSQL is a trade chain's amount in CNY: amount_cny for a CNY chain
// (every import); a foreign-currency chain (exports) converted at the
// central parity of its currency on the order's Beijing date — the latest
// rate on or before it, else the earliest after — rounded half-up to the
// fen; NULL when no rate of the currency was ever loaded. The parity is the
// neutral reference for goods; the fund flows use what settlement actually
// converted. Evaluated lazily: CNY chains never look up a rate.
const chainCNYSQL = `CASE WHEN t.amount_cny IS NOT NULL THEN t.amount_cny ELSE round(t.amount * coalesce(
	(SELECT r.parity / r.unit FROM fx_rates r WHERE r.base_currency = t.currency AND r.quote_currency = 'CNY'
		AND r.rate_date <= (t.order_time AT TIME ZONE INTERVAL '+08:00')::date ORDER BY r.rate_date DESC, r.version DESC LIMIT 1),
	(SELECT r.parity / r.unit FROM fx_rates r WHERE r.base_currency = t.currency AND r.quote_currency = 'CNY'
		AND r.rate_date > (t.order_time AT TIME ZONE INTERVAL '+08:00')::date ORDER BY r.rate_date, r.version DESC LIMIT 1)), 2) END`

// Status characters of chainStatusAtSQL.
const (
	stVerified   = 'v'
	stRejected   = 'r'
	stIncomplete = 'i'
	stCancelled  = 'c'
	stReturned   = 'x'
)

// statusOf maps a status character to the features' chain status.
func statusOf(c byte) ChainStatus {
	switch c {
	case stVerified:
		return ChainVerified
	case stRejected:
		return ChainRejected
	case stCancelled:
		return ChainCancelled
	case stReturned:
		return ChainReturned
	}
	return ChainIncomplete
}
