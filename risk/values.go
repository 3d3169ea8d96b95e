package risk

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// FeatureValue is one named feature, as the scorecard reads it and as the
// canonical form writes it.
type FeatureValue struct {
	Name        string
	Categorical bool
	Number      Figure // numeric features
	Category    string // categorical features
	// Text is the canonical text: amounts to the fen, rates to 4 decimals,
	// counts as integers, "null" for an undefined figure.
	Text string
}

// canonicalHeader starts the canonical form; a change of its layout is a
// new header, so old hashes keep their meaning.
const canonicalHeader = "xbsettle-risk-features/1"

// Values lists every feature by name, sorted: per window w (3m, 6m, 12m)
// verified_volume_w, funds_w, submitted_count_w, verified_count_w,
// rejected_count_w, incomplete_count_w, cancelled_count_w,
// returned_count_w, completeness_w, rejection_rate_w,
// cancellation_rate_w, return_rate_w; then growth_3m, volatility_12m,
// observed_months, avg_monthly_volume_12m, fund_goods_ratio_12m,
// hhi_platform_12m, hhi_country_12m, hhi_hs_chapter_12m, tenure_months,
// fx_category, tax_class ("none" or "1"-"4"), as_of and registered_at.
func (f Features) Values() []FeatureValue {
	var vs []FeatureValue
	for i, w := range f.Windows {
		sfx := "_" + strconv.Itoa(WindowMonths[i]) + "m" // Windows[i] is always WindowMonths[i]
		n := w.Counts
		vs = append(vs,
			amountValue("verified_volume"+sfx, w.VerifiedVolumeCNY),
			amountValue("funds"+sfx, w.FundsCNY),
			countValue("submitted_count"+sfx, n.Submitted),
			countValue("verified_count"+sfx, n.Verified),
			countValue("rejected_count"+sfx, n.Rejected),
			countValue("incomplete_count"+sfx, n.Incomplete),
			countValue("cancelled_count"+sfx, n.Cancelled),
			countValue("returned_count"+sfx, n.Returned),
			ratioValue("completeness"+sfx, w.Completeness),
			ratioValue("rejection_rate"+sfx, w.RejectionRate),
			ratioValue("cancellation_rate"+sfx, w.CancellationRate),
			ratioValue("return_rate"+sfx, w.ReturnRate),
		)
	}
	taxClass := "none"
	if f.TaxClass > 0 {
		taxClass = strconv.Itoa(f.TaxClass)
	}
	vs = append(vs,
		ratioValue("growth_3m", f.Growth3m),
		ratioValue("volatility_12m", f.Volatility12m),
		countValue("observed_months", f.ObservedMonths),
		amountValue("avg_monthly_volume_12m", f.AvgMonthlyVolumeCNY),
		ratioValue("fund_goods_ratio_12m", f.FundGoodsRatio12m),
		ratioValue("hhi_platform_12m", f.PlatformHHI12m),
		ratioValue("hhi_country_12m", f.CountryHHI12m),
		ratioValue("hhi_hs_chapter_12m", f.HSChapterHHI12m),
		countValue("tenure_months", f.TenureMonths),
		categoryValue("fx_category", string(f.FXCategory)),
		categoryValue("tax_class", taxClass),
		categoryValue("as_of", timeText(f.AsOf)),
		categoryValue("registered_at", timeText(f.RegisteredAt)),
	)
	slices.SortFunc(vs, func(a, b FeatureValue) int { return strings.Compare(a.Name, b.Name) })
	return vs
}

// Canonical is the features as text, one "name=value" line per feature in
// Values' order after a header line: what Hash hashes, and what the store
// keeps beside an assessment so that anyone can check it.
func (f Features) Canonical() []byte {
	var b bytes.Buffer
	b.WriteString(canonicalHeader + "\n")
	for _, v := range f.Values() {
		b.WriteString(v.Name + "=" + v.Text + "\n")
	}
	return b.Bytes()
}

// Hash is the hex SHA-256 of Canonical: the same facts give the same hash,
// in whatever order they came.
func (f Features) Hash() string {
	sum := sha256.Sum256(f.Canonical())
	return hex.EncodeToString(sum[:])
}

func amountValue(name string, d decimal.Decimal) FeatureValue {
	return FeatureValue{Name: name, Number: Known(d), Text: fixed2(d)}
}

func countValue(name string, n int) FeatureValue {
	return FeatureValue{Name: name, Number: Known(decimal.NewFromInt(int64(n))), Text: strconv.Itoa(n)}
}

func ratioValue(name string, f Figure) FeatureValue {
	return FeatureValue{Name: name, Number: f, Text: f.String()}
}

func categoryValue(name, c string) FeatureValue {
	return FeatureValue{Name: name, Categorical: true, Category: c, Text: c}
}

// timeText writes t in UTC to the nanosecond, one spelling per instant.
func timeText(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
