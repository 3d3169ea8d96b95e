package risk

import (
	"math/big"
	"math/bits"

	"github.com/shopspring/decimal"
)

// u128 is an unsigned 128-bit sum. Amounts are below 10^18 units, so even
// 10^19 of them cannot overflow it; an int64 could after nine.
type u128 struct{ hi, lo uint64 }

func (u *u128) add(v int64) {
	var carry uint64
	u.lo, carry = bits.Add64(u.lo, uint64(v), 0)
	u.hi += carry
}

func (u *u128) addU(v u128) {
	var carry uint64
	u.lo, carry = bits.Add64(u.lo, v.lo, 0)
	u.hi += v.hi + carry
}

func (u u128) isZero() bool { return u.hi == 0 && u.lo == 0 }

func (u u128) big() *big.Int {
	b := new(big.Int).SetUint64(u.hi)
	b.Lsh(b, 64)
	return b.Or(b, new(big.Int).SetUint64(u.lo))
}

// ratioOf is num / den rounded half-up to ratioScale decimals, exactly.
func ratioOf(num, den *big.Int) decimal.Decimal {
	return decimal.NewFromBigInt(num, 0).DivRound(decimal.NewFromBigInt(den, 0), ratioScale)
}

// hhi is the Herfindahl-Hirschman index of the volumes by key,
// Σ (v_i / Σv)², computed exactly and rounded half-up to ratioScale
// decimals; it is 1 for a single key and 1/n for n equal ones. Unknown
// (ok false) without volume.
func hhi(byKey map[string]*u128) (decimal.Decimal, bool) {
	total, squares := new(big.Int), new(big.Int)
	for _, v := range byKey { // integer sums: the order of keys does not matter
		b := v.big()
		total.Add(total, b)
		squares.Add(squares, b.Mul(b, b))
	}
	if total.Sign() == 0 {
		return decimal.Decimal{}, false
	}
	return ratioOf(squares, total.Mul(total, total)), true
}

// coefficientOfVariation is the population standard deviation of xs over
// their mean, rounded half-up to ratioScale decimals, computed with
// integers only so that every platform gets the same digits:
//
//	CV = √(n·Σx² − (Σx)²) / Σx
//
// and the rounding of √z to 4 decimals is decided by comparing squares.
// Unknown (ok false) when Σx = 0.
func coefficientOfVariation(xs []u128) (decimal.Decimal, bool) {
	n := big.NewInt(int64(len(xs)))
	s1, s2 := new(big.Int), new(big.Int)
	for _, x := range xs {
		b := x.big()
		s1.Add(s1, b)
		s2.Add(s2, b.Mul(b, b))
	}
	if s1.Sign() == 0 {
		return decimal.Decimal{}, false
	}
	// CV·10^4 = √z with z = 10^8·(n·s2 − s1²) / s1².
	num := new(big.Int).Mul(n, s2)
	num.Sub(num, new(big.Int).Mul(s1, s1))
	num.Mul(num, big.NewInt(1e8))
	den := new(big.Int).Mul(s1, s1)
	// r = ⌊√⌊z⌋⌋ = ⌊√z⌋; round up when √z ≥ r + ½, i.e. 4·num ≥ (2r+1)²·den.
	r := new(big.Int).Quo(num, den)
	r.Sqrt(r)
	half := new(big.Int).Lsh(r, 1)
	half.Add(half, big.NewInt(1))
	half.Mul(half, half).Mul(half, den)
	if new(big.Int).Lsh(num, 2).Cmp(half) >= 0 {
		r.Add(r, big.NewInt(1))
	}
	return decimal.NewFromBigInt(r, -ratioScale), true
}
