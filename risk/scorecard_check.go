package risk

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/shopspring/decimal"
)

// validate checks a parsed model (see ParseScorecard) and reports every
// problem at once, in model order.
func (m *Scorecard) validate() error {
	var problems []string
	check := func(ok bool, format string, args ...any) {
		if !ok {
			problems = append(problems, fmt.Sprintf(format, args...))
		}
	}
	s := m.Scaling
	check(versionPattern.MatchString(m.Version), "version %q is not a valid version name", m.Version)
	check(s.BaseScore > 0 && s.BaseOdds > 0 && s.PDO > 0, "scaling needs positive base_score, base_odds and pdo")
	check(m.PointsDecimals >= 0 && m.PointsDecimals <= 4, "points_decimals must be 0-4")
	check(len(m.Features) > 0, "no features")
	check(m.TopReasons >= 1 && m.TopReasons <= len(m.Features), "top_reasons must be 1 to the number of features")

	catalogue := map[string]FeatureValue{}
	for _, v := range (Features{}).Values() {
		catalogue[v.Name] = v
	}
	seen := map[string]bool{}
	for i, f := range m.Features {
		where := fmt.Sprintf("features[%d] %s", i, f.Name)
		known, ok := catalogue[f.Name]
		check(ok, "%s: no such feature", where)
		check(!seen[f.Name] && !seen[f.ReasonCode], "%s: name or reason code used twice", where)
		seen[f.Name], seen[f.ReasonCode] = true, true
		check(reasonCodePattern.MatchString(f.ReasonCode), "%s: reason code %q is not UPPER_SNAKE", where, f.ReasonCode)
		check(f.Beta > 0, "%s: beta must be positive", where)
		check(len(f.Bins) > 0, "%s: no bins", where)
		if ok && known.Categorical {
			problems = append(problems, f.checkCategorical(where)...)
		} else if ok {
			problems = append(problems, f.checkNumeric(where)...)
		}
		for j, b := range append([]BinScore{f.Missing}, binScores(f.Bins)...) {
			// Points are stated rounded to PointsDecimals; float64 is fine
			// for this check, which only has to tell a stale file.
			want := m.pointsFor(f.Beta, b.WoE)
			tolerance := 0.5*math.Pow10(-int(m.PointsDecimals)) + 1e-9
			bin := "missing"
			if j > 0 {
				bin = fmt.Sprintf("bins[%d]", j-1)
			}
			check(math.Abs(b.Points.InexactFloat64()-want) <= tolerance && b.Points.Equal(b.Points.Truncate(m.PointsDecimals)),
				"%s: %s has %s points, its woe %g gives %.*f", where, bin, b.Points, b.WoE, m.PointsDecimals, want)
		}
	}
	problems = append(problems, m.checkGrades(catalogue)...)
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// pointsFor is factor · beta · woe + (offset + factor · intercept) / n.
func (m *Scorecard) pointsFor(beta, woe float64) float64 {
	factor := m.Scaling.Factor()
	return factor*beta*woe + (m.Scaling.Offset()+factor*m.Intercept)/float64(len(m.Features))
}

func (f ScoredFeature) checkCategorical(where string) (problems []string) {
	if f.Direction != Unordered {
		problems = append(problems, where+": a categorical feature has direction \"none\"")
	}
	values := map[string]bool{}
	for j, b := range f.Bins {
		if b.Min != nil || b.Max != nil || len(b.Values) == 0 {
			problems = append(problems, fmt.Sprintf("%s: bin %d of a categorical feature needs values and no range", where, j))
		}
		for _, v := range b.Values {
			if values[v] {
				problems = append(problems, fmt.Sprintf("%s: value %q in two bins", where, v))
			}
			values[v] = true
		}
	}
	return problems
}

func (f ScoredFeature) checkNumeric(where string) (problems []string) {
	add := func(format string, args ...any) { problems = append(problems, where+": "+fmt.Sprintf(format, args...)) }
	last := len(f.Bins) - 1
	for j, b := range f.Bins {
		switch {
		case len(b.Values) > 0:
			add("bin %d of a numeric feature has values", j)
		case (j == 0) != (b.Min == nil) || (j == last) != (b.Max == nil):
			add("only the first bin is open below and only the last open above")
		case b.Min != nil && b.Max != nil && !b.Min.LessThan(*b.Max):
			add("bin %d is empty", j)
		case j > 0 && f.Bins[j-1].Max != nil && b.Min != nil && !b.Min.Equal(*f.Bins[j-1].Max):
			add("bin %d does not start where bin %d ends", j, j-1)
		}
	}
	points := make([]decimal.Decimal, len(f.Bins))
	for j, b := range f.Bins {
		points[j] = b.Points
	}
	worst := slices.MinFunc(points, decimal.Decimal.Cmp)
	switch f.Direction {
	case Increasing, Decreasing:
		for j := 1; j < len(points); j++ {
			if c := points[j].Cmp(points[j-1]); c < 0 && f.Direction == Increasing || c > 0 && f.Direction == Decreasing {
				add("points are not %s from bin %d to %d", f.Direction, j-1, j)
			}
		}
		if !f.Missing.Points.Equal(worst) {
			add("missing scores %s, not the worst bin's %s", f.Missing.Points, worst)
		}
	case Unordered:
	default:
		add("direction %q is not increasing, decreasing or none", f.Direction)
	}
	return problems
}

func (m *Scorecard) checkGrades(catalogue map[string]FeatureValue) (problems []string) {
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if len(m.Grades) == 0 {
		return []string{"no grades"}
	}
	for i, g := range m.Grades {
		if g.Grade == "" || g.LimitMultiple.IsNegative() {
			add("grades[%d]: a grade needs a name and a multiple ≥ 0", i)
		}
		if i > 0 && (g.MinScore >= m.Grades[i-1].MinScore || g.LimitMultiple.GreaterThan(m.Grades[i-1].LimitMultiple)) {
			add("grades[%d] %s: scores must fall and multiples never rise down the list", i, g.Grade)
		}
	}
	lowest := decimal.Zero
	for _, f := range m.Features {
		worst := f.Missing.Points
		for _, b := range f.Bins {
			worst = decimal.Min(worst, b.Points)
		}
		lowest = lowest.Add(worst)
	}
	if low := m.Grades[len(m.Grades)-1]; decimal.NewFromInt(int64(low.MinScore)).GreaterThan(lowest) {
		add("the lowest grade %s starts at %d, above the lowest possible score %s", low.Grade, low.MinScore, lowest)
	}
	if v, ok := catalogue[m.Limit.Basis]; !ok || v.Categorical || !strings.Contains(v.Name, "volume") {
		add("limit.basis %q is not a volume feature", m.Limit.Basis)
	}
	if !m.Limit.CapCNY.IsPositive() || !m.Limit.UnitCNY.IsPositive() {
		add("limit needs a positive cap_cny and unit_cny")
	}
	return problems
}

func binScores(bins []Bin) []BinScore {
	out := make([]BinScore, len(bins))
	for i, b := range bins {
		out[i] = b.BinScore
	}
	return out
}
