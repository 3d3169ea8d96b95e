package risk

import (
	"time"

	"github.com/shopspring/decimal"
)

// ChainStatus is what became of a trade chain by the as-of date.
type ChainStatus string

// The chain statuses the features count. Only verified chains are real
// trades (DESIGN §5); the others count in the rates.
const (
	ChainVerified   ChainStatus = "verified"   // every document present, every rule holds
	ChainRejected   ChainStatus = "rejected"   // mismatched: a matching rule failed
	ChainIncomplete ChainStatus = "incomplete" // documents still missing
	ChainCancelled  ChainStatus = "cancelled"  // verified, then its declaration was cancelled (CEB623)
	ChainReturned   ChainStatus = "returned"   // verified, then the goods came back (CEB625)
)

// ChainFact is what the features need of one trade chain of the enterprise
// assessed (its seller, trade_chains.ebc_code). The store maps
//
//	trade_chains status verified                   → ChainVerified
//	trade_chains unverified, reason MISMATCHED     → ChainRejected
//	trade_chains unverified, reason INCOMPLETE     → ChainIncomplete
//	trade_chains unverified, reason CANCELLED      → ChainCancelled
//	trade_chains unverified, reason RETURNED       → ChainReturned
//	clearance_chains never verified: mismatched    → ChainRejected, incomplete → ChainIncomplete
//
// AmountCNY is amount_cny, or for a foreign-currency chain its amount
// converted by settlement at the chain's rate: the core never converts.
type ChainFact struct {
	// At places the chain in the windows: the order time (trade_chains.
	// order_time), or when the chain was first seen if it has no order.
	// Every status is placed by this one date, so a window's rates compare
	// chains of the same trades.
	At     time.Time
	Status ChainStatus
	// The rest counts for verified chains only.
	Platform   string          // ebpCode
	Countries  []string        // buyer countries; duplicates ignored
	HSChapters []string        // two-digit HS chapters of the lines; duplicates ignored
	AmountCNY  decimal.Decimal // at most 5 decimals (numeric(19,5)), below MaxAmountCNY
}

// FlowDirection tells a receipt from a payment.
type FlowDirection string

// The fund-flow directions.
const (
	Receipt FlowDirection = "receipt"
	Payment FlowDirection = "payment"
)

// FundFact is one fund flow of the enterprise from the ledger, in CNY.
type FundFact struct {
	At        time.Time
	Direction FlowDirection
	AmountCNY decimal.Decimal
}

// Subject is the enterprise a feature set describes, beyond its chains.
type Subject struct {
	AsOf         time.Time `json:"as_of"`         // the windows end here (inclusive)
	RegisteredAt time.Time `json:"registered_at"` // on or before AsOf
	FXCategory   Category  `json:"fx_category"`   // the category in effect at AsOf
	TaxClass     int       `json:"tax_class"`     // the export-rebate class in effect, 1-4; 0 if none (not an exporter)
}

// FeatureInput is everything ComputeFeatures reads. Chains and Funds may
// come in any order; facts dated after AsOf or more than 12 window months
// before it are skipped.
type FeatureInput struct {
	Subject
	Chains []ChainFact
	Funds  []FundFact
}

// unitScale: amounts are summed as integers of 10^-5 CNY, the scale of the
// store's numeric(19,5), so sums are exact and independent of order.
const unitScale = 5

// maxUnits is MaxAmountCNY in units.
const maxUnits = int64(1e18)

// pow10 holds 10^0 … 10^18.
var pow10 = func() (p [19]int64) {
	p[0] = 1
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1] * 10
	}
	return p
}()

// toUnits converts 0 ≤ d < MaxAmountCNY with at most unitScale decimals to
// units without allocating: it runs once per chain.
func toUnits(d decimal.Decimal) (int64, error) {
	if d.Sign() < 0 || d.NumDigits() > 18 {
		return 0, ErrInputInvalid.With("amount %s is not in [0, %s)", d, MaxAmountCNY)
	}
	coef, shift := d.CoefficientInt64(), int(d.Exponent())+unitScale
	if shift < 0 {
		if -shift > 18 || coef%pow10[-shift] != 0 {
			return 0, ErrInputInvalid.With("amount %s has more than %d decimals", d, unitScale)
		}
		return coef / pow10[-shift], nil
	}
	if shift > 18 || coef > (maxUnits-1)/pow10[shift] {
		if coef == 0 {
			return 0, nil
		}
		return 0, ErrInputInvalid.With("amount %s is not in [0, %s)", d, MaxAmountCNY)
	}
	return coef * pow10[shift], nil
}

// fromUnits converts a sum of units back to CNY.
func fromUnits(u u128) decimal.Decimal { return decimal.NewFromBigInt(u.big(), -unitScale) }
