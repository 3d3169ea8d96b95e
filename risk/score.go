package risk

import (
	"cmp"
	"slices"
	"time"

	"github.com/shopspring/decimal"
)

// Assessment is a scorecard's verdict on one feature set.
type Assessment struct {
	ModelVersion string    `json:"model_version"`
	AsOf         time.Time `json:"as_of"`
	// Score is Points rounded half-up to an integer (RoundHalfUp).
	Score  int             `json:"score"`
	Points decimal.Decimal `json:"points"` // the exact sum of the features' points
	Grade  string          `json:"grade"`
	// RecommendedLimitCNY is the grade's multiple of the limit basis (the
	// average monthly verified volume), rounded down to the model's unit and
	// capped.
	RecommendedLimitCNY decimal.Decimal `json:"recommended_limit_cny"`
	// Reasons are the features that cost the most points against their best
	// bin, most first (ties in model order), at most the model's TopReasons;
	// a feature in its best bin is never a reason.
	Reasons   []ScoreReason   `json:"reasons"`
	Breakdown []FeaturePoints `json:"breakdown"` // every feature, in model order
	// InputHash is Features.Hash: the features scored, whatever the model.
	InputHash string `json:"input_hash"`
}

// FeaturePoints is what one feature scored.
type FeaturePoints struct {
	Feature   string          `json:"feature"`
	Value     string          `json:"value"` // canonical text (FeatureValue.Text)
	Bin       string          `json:"bin"`   // "[0.9000, 0.9700)", "A", "missing"
	Points    decimal.Decimal `json:"points"`
	MaxPoints decimal.Decimal `json:"max_points"`
}

// ScoreReason is a feature that cost points.
type ScoreReason struct {
	Code       string          `json:"code"`
	Feature    string          `json:"feature"`
	Value      string          `json:"value"`
	Bin        string          `json:"bin"`
	PointsLost decimal.Decimal `json:"points_lost"`
}

// Score scores f. It cannot fail: the model was checked when it was loaded,
// and every feature it names is in every feature set. The same f gives the
// same assessment, bit for bit: points are decimals and the only rounding is
// RoundHalfUp.
func (m *Scorecard) Score(f Features) Assessment {
	values := map[string]FeatureValue{}
	for _, v := range f.Values() {
		values[v.Name] = v
	}
	a := Assessment{ModelVersion: m.Version, AsOf: f.AsOf, Points: decimal.Zero, InputHash: f.Hash()}
	for _, feat := range m.Features {
		v := values[feat.Name]
		score, label := feat.score(v)
		best := feat.Missing.Points
		for _, b := range feat.Bins {
			best = decimal.Max(best, b.Points)
		}
		a.Points = a.Points.Add(score)
		a.Breakdown = append(a.Breakdown, FeaturePoints{Feature: feat.Name, Value: v.Text, Bin: label, Points: score, MaxPoints: best})
	}
	a.Score = RoundHalfUp(a.Points)
	grade := m.grade(a.Score)
	a.Grade = grade.Grade
	a.RecommendedLimitCNY = m.limit(grade, values[m.Limit.Basis])
	a.Reasons = m.reasons(a.Breakdown)
	return a
}

// RoundHalfUp rounds d to the nearest integer, halves up (612.5 → 613,
// −0.5 → 0): the one rounding between points and a score.
func RoundHalfUp(d decimal.Decimal) int {
	return int(d.Add(decimal.New(5, -1)).Floor().IntPart())
}

// score finds v's bin: its points and label.
func (f ScoredFeature) score(v FeatureValue) (decimal.Decimal, string) {
	for _, b := range f.Bins {
		if b.holds(v) {
			return b.Points, b.label()
		}
	}
	return f.Missing.Points, "missing"
}

func (b Bin) holds(v FeatureValue) bool {
	if v.Categorical {
		return slices.Contains(b.Values, v.Category)
	}
	x, ok := v.Number.Value()
	return ok && (b.Min == nil || x.GreaterThanOrEqual(*b.Min)) && (b.Max == nil || x.LessThan(*b.Max))
}

func (b Bin) label() string {
	if len(b.Values) > 0 {
		s := b.Values[0]
		for _, v := range b.Values[1:] {
			s += "|" + v
		}
		return s
	}
	lo, hi := "-inf", "+inf"
	if b.Min != nil {
		lo = b.Min.String()
	}
	if b.Max != nil {
		hi = b.Max.String()
	}
	return "[" + lo + ", " + hi + ")"
}

// grade is the first grade whose MinScore the score reaches; the lowest
// grade holds every possible score (checked at load).
func (m *Scorecard) grade(score int) Grade {
	for _, g := range m.Grades {
		if score >= g.MinScore {
			return g
		}
	}
	return m.Grades[len(m.Grades)-1]
}

// limit is min(cap, multiple · basis) rounded down to a multiple of the unit.
func (m *Scorecard) limit(g Grade, basis FeatureValue) decimal.Decimal {
	x, ok := basis.Number.Value()
	if !ok {
		return decimal.Zero
	}
	units, _ := g.LimitMultiple.Mul(x).QuoRem(m.Limit.UnitCNY, 0) // truncates: rounds down
	return decimal.Min(units.Mul(m.Limit.UnitCNY), m.Limit.CapCNY)
}

func (m *Scorecard) reasons(breakdown []FeaturePoints) []ScoreReason {
	var rs []ScoreReason
	for i, p := range breakdown {
		if lost := p.MaxPoints.Sub(p.Points); lost.IsPositive() {
			rs = append(rs, ScoreReason{Code: m.Features[i].ReasonCode, Feature: p.Feature, Value: p.Value, Bin: p.Bin, PointsLost: lost})
		}
	}
	// Stable: equal losses keep model order.
	slices.SortStableFunc(rs, func(a, b ScoreReason) int { return cmp.Compare(0, a.PointsLost.Cmp(b.PointsLost)) })
	if len(rs) > m.TopReasons {
		rs = rs[:m.TopReasons]
	}
	if rs == nil {
		rs = []ScoreReason{}
	}
	return rs
}
