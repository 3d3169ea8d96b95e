package demo

import (
	"math/rand/v2"
	"time"

	"github.com/shopspring/decimal"
)

// dice is the generator's only source of randomness: a PCG stream seeded by
// the day's seed, so the same seed draws the same day. Every draw goes
// through it in a fixed order; nothing reads a map's iteration order or the
// clock while drawing.
type dice struct{ r *rand.Rand }

func newDice(seed uint64) *dice {
	// The second PCG word is a constant: one seed, one stream.
	return &dice{r: rand.New(rand.NewPCG(seed, 0x78627365_74746c65))}
}

// intn is uniform in [0, n).
func (d *dice) intn(n int) int { return d.r.IntN(n) }

// between is uniform in [lo, hi].
func (d *dice) between(lo, hi int) int { return lo + d.r.IntN(hi-lo+1) }

// chance is true with probability p.
func (d *dice) chance(p float64) bool { return d.r.Float64() < p }

// pick is a uniform element of xs.
func pick[T any](d *dice, xs []T) T { return xs[d.r.IntN(len(xs))] }

// weighted is an index drawn with the given relative weights.
func (d *dice) weighted(weights []int) int {
	total := 0
	for _, w := range weights {
		total += w
	}
	n := d.r.IntN(total)
	for i, w := range weights {
		if n < w {
			return i
		}
		n -= w
	}
	return len(weights) - 1
}

// cents is a uniform amount in [lo, hi] with two decimals, drawn as an
// integer number of cents so that no float touches money.
func (d *dice) cents(lo, hi int64) decimal.Decimal {
	return decimal.New(lo+d.r.Int64N(hi-lo+1), -2)
}

// seconds is a uniform duration in [lo, hi] whole seconds.
func (d *dice) seconds(lo, hi int) time.Duration {
	return time.Duration(d.between(lo, hi)) * time.Second
}

// shuffle permutes xs in place.
func shuffle[T any](d *dice, xs []T) {
	d.r.Shuffle(len(xs), func(i, j int) { xs[i], xs[j] = xs[j], xs[i] })
}
