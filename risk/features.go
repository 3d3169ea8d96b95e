package risk

import (
	"fmt"
	"math/big"
	"time"

	"github.com/shopspring/decimal"
)

// WindowMonths are the windows features are computed over, in window months
// ending at the as-of date. A window month is 30 days, so every month of a
// volatility is equally long and the 12-month window is 360 days.
var WindowMonths = [3]int{3, 6, 12}

const (
	windowMonth = 30 * 24 * time.Hour
	maxMonths   = 12
	// minObservedMonths: a volatility needs at least this many whole window
	// months since registration.
	minObservedMonths = 3
	// maxKeys bounds the distinct platforms, countries and chapters kept;
	// maxValuesPerChain the countries or chapters of one chain.
	maxKeys           = 100_000
	maxValuesPerChain = 64
)

// Counts counts chains by status; Submitted is all of them.
type Counts struct {
	Submitted  int `json:"submitted"`
	Verified   int `json:"verified"`
	Rejected   int `json:"rejected"`
	Incomplete int `json:"incomplete"`
	Cancelled  int `json:"cancelled"`
	Returned   int `json:"returned"`
}

func (c *Counts) plus(d Counts) {
	c.Submitted += d.Submitted
	c.Verified += d.Verified
	c.Rejected += d.Rejected
	c.Incomplete += d.Incomplete
	c.Cancelled += d.Cancelled
	c.Returned += d.Returned
}

// WindowFeatures are the features of one window. Rates are rounded
// half-up to 4 decimals; a rate without a denominator is Unknown.
type WindowFeatures struct {
	Months            int             `json:"months"`
	VerifiedVolumeCNY decimal.Decimal `json:"verified_volume_cny"` // Σ verified amounts, to the fen
	FundsCNY          decimal.Decimal `json:"funds_cny"`           // Σ receipts and payments, to the fen
	Counts            Counts          `json:"counts"`
	Completeness      Figure          `json:"completeness"`      // verified / submitted
	RejectionRate     Figure          `json:"rejection_rate"`    // rejected / submitted
	CancellationRate  Figure          `json:"cancellation_rate"` // cancelled / (verified + cancelled + returned)
	ReturnRate        Figure          `json:"return_rate"`       // returned / (verified + cancelled + returned)
}

// Features describe an enterprise's verified trade for a credit
// assessment. ComputeFeatures (or a FeatureBuilder) makes them; docs/risk.md
// defines each exactly. They depend only on the set of facts, never on
// their order, and Hash names them.
type Features struct {
	Subject
	Windows [3]WindowFeatures `json:"windows"` // 3, 6 and 12 months
	// Growth3m = (L − P) / max(L, P), L the verified volume of months 1-3,
	// P of months 4-6: in [−1, 1], 0 when flat, Unknown when both are 0.
	Growth3m Figure `json:"growth_3m"`
	// Volatility12m is the coefficient of variation of the monthly verified
	// volume over the ObservedMonths months since registration (at most 12,
	// at least 3, else Unknown).
	Volatility12m  Figure `json:"volatility_12m"`
	ObservedMonths int    `json:"observed_months"`
	// AvgMonthlyVolumeCNY is the 12-month verified volume / 12, to the fen.
	AvgMonthlyVolumeCNY decimal.Decimal `json:"avg_monthly_volume_cny"`
	FundGoodsRatio12m   Figure          `json:"fund_goods_ratio_12m"`
	// Concentration of the 12-month verified volume (HHI, 1/n … 1).
	PlatformHHI12m  Figure `json:"platform_hhi_12m"`
	CountryHHI12m   Figure `json:"country_hhi_12m"`
	HSChapterHHI12m Figure `json:"hs_chapter_hhi_12m"`
	TenureMonths    int    `json:"tenure_months"` // whole calendar months since registration
}

// ComputeFeatures computes the features of in in one pass over its facts:
// O(len(Chains) + len(Funds)) time, memory bounded by the distinct
// platforms, countries and chapters. Errors: ErrInputInvalid, naming the
// first bad fact.
//
//	f, err := risk.ComputeFeatures(risk.FeatureInput{Subject: s, Chains: chains, Funds: funds})
func ComputeFeatures(in FeatureInput) (Features, error) {
	b, err := NewFeatureBuilder(in.Subject)
	if err != nil {
		return Features{}, err
	}
	for i := range in.Chains {
		if err := b.AddChain(in.Chains[i]); err != nil {
			return Features{}, fmt.Errorf("chain %d: %w", i, err)
		}
	}
	for i := range in.Funds {
		if err := b.AddFund(in.Funds[i]); err != nil {
			return Features{}, fmt.Errorf("fund flow %d: %w", i, err)
		}
	}
	return b.Features(), nil
}

// FeatureBuilder accumulates facts one at a time, so that the store can
// stream rows from a cursor instead of holding a million of them:
//
//	b, err := risk.NewFeatureBuilder(subject)
//	for rows.Next() { …; if err := b.AddChain(fact); err != nil { … } }
//	features := b.Features()
//
// Every sum is an exact integer, so the order of facts does not matter.
// A FeatureBuilder is not safe for concurrent use.
type FeatureBuilder struct {
	subject Subject
	asOf    int64 // Unix nanoseconds
	volume  [maxMonths]u128
	funds   [maxMonths]u128
	counts  [maxMonths]Counts
	// 12-month verified volume by platform, country and HS chapter.
	platform, country, chapter map[string]*u128
}

// NewFeatureBuilder starts the features of s. Errors: ErrInputInvalid when
// s has no as-of date, registers after it, or has an invalid FX category
// or tax class.
func NewFeatureBuilder(s Subject) (*FeatureBuilder, error) {
	switch {
	case s.AsOf.IsZero():
		return nil, ErrInputInvalid.With("features need an as-of date")
	case s.RegisteredAt.IsZero() || s.RegisteredAt.After(s.AsOf):
		return nil, ErrInputInvalid.With("registration date %s is not on or before the as-of date %s", s.RegisteredAt, s.AsOf)
	case !s.FXCategory.Valid():
		return nil, ErrInputInvalid.With("FX category %q is not A, B or C", s.FXCategory)
	case s.TaxClass < 0 || s.TaxClass > 4:
		return nil, ErrInputInvalid.With("tax class %d is not 1-4, or 0 for none", s.TaxClass)
	}
	return &FeatureBuilder{
		subject: s, asOf: s.AsOf.UnixNano(),
		platform: map[string]*u128{}, country: map[string]*u128{}, chapter: map[string]*u128{},
	}, nil
}

// month is the window month t falls in (0 is the latest), or -1 when t is
// after the as-of date or more than 12 window months before it.
func (b *FeatureBuilder) month(t time.Time) int {
	d := b.asOf - t.UnixNano()
	if d < 0 || d >= int64(maxMonths*windowMonth) {
		return -1
	}
	return int(d / int64(windowMonth))
}

// AddChain adds one chain. Errors (ErrInputInvalid): an unknown status; for a verified chain
// in the windows, an amount out of range or with more than 5 decimals, a
// missing platform, too many countries or chapters.
func (b *FeatureBuilder) AddChain(c ChainFact) error {
	m := b.month(c.At)
	if m < 0 {
		if !validStatus(c.Status) {
			return ErrInputInvalid.With("status %q is not one of verified, rejected, incomplete, cancelled, returned", c.Status)
		}
		return nil
	}
	n := &b.counts[m]
	n.Submitted++
	switch c.Status {
	case ChainVerified:
		n.Verified++
		return b.addVerified(m, c)
	case ChainRejected:
		n.Rejected++
	case ChainIncomplete:
		n.Incomplete++
	case ChainCancelled:
		n.Cancelled++
	case ChainReturned:
		n.Returned++
	default:
		n.Submitted--
		return ErrInputInvalid.With("status %q is not one of verified, rejected, incomplete, cancelled, returned", c.Status)
	}
	return nil
}

func (b *FeatureBuilder) addVerified(m int, c ChainFact) error {
	units, err := toUnits(c.AmountCNY)
	if err != nil {
		return err
	}
	return b.addVerifiedUnits(m, c, units)
}

// addChainUnits is AddChain for a verified chain whose amount the caller
// already holds in units (the store's scanner, which reads integers off the
// wire and need not build a decimal per chain); c.AmountCNY is ignored.
func (b *FeatureBuilder) addChainUnits(c ChainFact, units int64) error {
	if c.Status != ChainVerified {
		return b.AddChain(c)
	}
	if units < 0 || units >= maxUnits {
		return ErrInputInvalid.With("amount of %d units is not in [0, %s)", units, MaxAmountCNY)
	}
	m := b.month(c.At)
	if m < 0 {
		return nil
	}
	b.counts[m].Submitted++
	b.counts[m].Verified++
	return b.addVerifiedUnits(m, c, units)
}

func (b *FeatureBuilder) addVerifiedUnits(m int, c ChainFact, units int64) error {
	switch {
	case c.Platform == "":
		return ErrInputInvalid.With("verified chain without a platform")
	case len(c.Countries) > maxValuesPerChain || len(c.HSChapters) > maxValuesPerChain:
		return ErrInputInvalid.With("more than %d countries or HS chapters", maxValuesPerChain)
	}
	if err := addTo(b.platform, c.Platform, units); err != nil {
		return err
	}
	for _, set := range []struct {
		values []string
		sums   map[string]*u128
	}{{c.Countries, b.country}, {c.HSChapters, b.chapter}} {
		for i, v := range set.values {
			if firstOccurrence(set.values, i) {
				if err := addTo(set.sums, v, units); err != nil {
					return err
				}
			}
		}
	}
	b.volume[m].add(units)
	return nil
}

// AddFund adds one fund flow. Errors (ErrInputInvalid): an unknown direction, an amount out
// of range or with more than 5 decimals.
func (b *FeatureBuilder) AddFund(f FundFact) error {
	if f.Direction != Receipt && f.Direction != Payment {
		return ErrInputInvalid.With("direction %q is not receipt or payment", f.Direction)
	}
	units, err := toUnits(f.AmountCNY)
	if err != nil {
		return err
	}
	if m := b.month(f.At); m >= 0 {
		b.funds[m].add(units)
	}
	return nil
}

// addTo adds units to sums[key], refusing a key beyond maxKeys.
func addTo(sums map[string]*u128, key string, units int64) error {
	s := sums[key]
	if s == nil {
		if len(sums) >= maxKeys {
			return ErrInputInvalid.With("more than %d distinct platforms, countries or chapters", maxKeys)
		}
		s = new(u128)
		sums[key] = s
	}
	s.add(units)
	return nil
}

// firstOccurrence reports whether values[i] does not occur before i; the
// lists are a few items long, so a scan beats a set.
func firstOccurrence(values []string, i int) bool {
	for _, v := range values[:i] {
		if v == values[i] {
			return false
		}
	}
	return true
}

// Merge adds the facts of o to b, as if they had been added to b one by
// one: every sum is an exact integer, so the features of the merged builder
// are those of all the facts, in whatever order and however split. The
// store streams partitions of an enterprise's chains concurrently, one
// builder each, and merges them. Errors (ErrInputInvalid): o describes
// another subject, or the merged keys exceed their bound.
func (b *FeatureBuilder) Merge(o *FeatureBuilder) error {
	if b.subject != o.subject {
		return ErrInputInvalid.With("cannot merge the features of different subjects")
	}
	for m := range maxMonths {
		b.volume[m].addU(o.volume[m])
		b.funds[m].addU(o.funds[m])
		b.counts[m].plus(o.counts[m])
	}
	for _, set := range []struct{ dst, src map[string]*u128 }{{b.platform, o.platform}, {b.country, o.country}, {b.chapter, o.chapter}} {
		for k, v := range set.src {
			s := set.dst[k]
			if s == nil {
				if len(set.dst) >= maxKeys {
					return ErrInputInvalid.With("more than %d distinct platforms, countries or chapters", maxKeys)
				}
				s = new(u128)
				set.dst[k] = s
			}
			s.addU(*v)
		}
	}
	return nil
}

// Features returns the features of the facts added so far.
func (b *FeatureBuilder) Features() Features {
	f := Features{Subject: b.subject, TenureMonths: wholeMonths(b.subject.RegisteredAt, b.subject.AsOf)}
	for i, months := range WindowMonths {
		f.Windows[i] = b.window(months)
	}
	last, prev := sumUnits(b.volume[0:3]), sumUnits(b.volume[3:6])
	f.Growth3m = growth(last.big(), prev.big())
	f.ObservedMonths = min(maxMonths, int(b.subject.AsOf.Sub(b.subject.RegisteredAt)/windowMonth))
	if f.ObservedMonths >= minObservedMonths {
		f.Volatility12m = figureOf(coefficientOfVariation(b.volume[:f.ObservedMonths]))
	}
	year := sumUnits(b.volume[:])
	f.AvgMonthlyVolumeCNY = fromUnits(year).DivRound(decimal.NewFromInt(maxMonths), 2)
	if !year.isZero() {
		f.FundGoodsRatio12m = Known(ratioOf(sumUnits(b.funds[:]).big(), year.big()))
	}
	f.PlatformHHI12m = figureOf(hhi(b.platform))
	f.CountryHHI12m = figureOf(hhi(b.country))
	f.HSChapterHHI12m = figureOf(hhi(b.chapter))
	return f
}

func (b *FeatureBuilder) window(months int) WindowFeatures {
	w := WindowFeatures{Months: months}
	for m := range months {
		w.Counts.plus(b.counts[m])
	}
	w.VerifiedVolumeCNY = fromUnits(sumUnits(b.volume[:months])).Round(2)
	w.FundsCNY = fromUnits(sumUnits(b.funds[:months])).Round(2)
	n := w.Counts
	w.Completeness = countRatio(n.Verified, n.Submitted)
	w.RejectionRate = countRatio(n.Rejected, n.Submitted)
	// Cancellations and returns happen to chains that passed verification:
	// measured against those, a rejected chain does not dilute them.
	cleared := n.Verified + n.Cancelled + n.Returned
	w.CancellationRate = countRatio(n.Cancelled, cleared)
	w.ReturnRate = countRatio(n.Returned, cleared)
	return w
}

// growth is (last − prev) / max(last, prev), rounded half away from zero to
// ratioScale decimals; Unknown when both are 0.
func growth(last, prev *big.Int) Figure {
	den := last
	if prev.Cmp(last) > 0 {
		den = prev
	}
	if den.Sign() == 0 {
		return Unknown
	}
	return Known(ratioOf(new(big.Int).Sub(last, prev), den))
}

func countRatio(part, whole int) Figure {
	if whole == 0 {
		return Unknown
	}
	return Known(share(part, whole))
}

func sumUnits(us []u128) u128 {
	var s u128
	for _, u := range us {
		s.addU(u)
	}
	return s
}

func validStatus(s ChainStatus) bool {
	switch s {
	case ChainVerified, ChainRejected, ChainIncomplete, ChainCancelled, ChainReturned:
		return true
	}
	return false
}
