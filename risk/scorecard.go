package risk

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/shopspring/decimal"
)

// CurrentScorecardVersion is the model new assessments use.
const CurrentScorecardVersion = "scorecard-v1"

// modelFiles holds every published model, models/<version>.json.
//
//go:embed models/*.json
var modelFiles embed.FS

// Scorecard is one version of the credit scorecard: per feature, bins with
// points; grades by score; the credit-limit rule. It is loaded from an
// embedded JSON file and never edited in place (docs/risk.md, "Scorecard").
//
// Points follow the PDO scaling. With factor = PDO / ln 2 and
// offset = BaseScore − factor · ln(BaseOdds), a model of log-odds
// ln(odds) = Intercept + Σ_j Beta_j · WoE_j(bin) scores
//
//	score = offset + factor · ln(odds) = Σ_j points_j
//	points_j(bin) = factor · Beta_j · WoE_j(bin) + (offset + factor · Intercept) / n
//
// for n features. The file states WoE, Beta and the points; the loader
// recomputes every point and refuses a file where they disagree, so the
// points in the file are the scaled log-odds and nothing else.
type Scorecard struct {
	Version        string          `json:"version"`
	Description    string          `json:"description"`
	Scaling        Scaling         `json:"scaling"`
	Intercept      float64         `json:"intercept"`
	PointsDecimals int32           `json:"points_decimals"`
	Features       []ScoredFeature `json:"features"`
	Grades         []Grade         `json:"grades"` // best first
	Limit          LimitRule       `json:"limit"`
	TopReasons     int             `json:"top_reasons"`
}

// Scaling fixes what a score means: BaseScore at BaseOdds good:bad odds,
// and PDO more points to double the odds.
type Scaling struct {
	BaseScore float64 `json:"base_score"`
	BaseOdds  float64 `json:"base_odds"`
	PDO       float64 `json:"pdo"`
}

// Factor is PDO / ln 2.
func (s Scaling) Factor() float64 { return s.PDO / math.Ln2 }

// Offset is BaseScore − Factor · ln(BaseOdds).
func (s Scaling) Offset() float64 { return s.BaseScore - s.Factor()*math.Log(s.BaseOdds) }

// Feature directions: how a numeric feature's points move as it grows.
const (
	Increasing = "increasing" // more is better: points never fall from bin to bin
	Decreasing = "decreasing" // less is better: points never rise
	Unordered  = "none"
)

// ScoredFeature is one characteristic of the scorecard. Numeric features
// have contiguous bins [Min, Max) covering every value, in ascending order;
// categorical ones list their values. Missing is what an undefined figure,
// or a category not listed, scores: for a directed feature it must equal the
// worst bin, so that no evidence never beats bad evidence.
type ScoredFeature struct {
	Name       string   `json:"name"`
	ReasonCode string   `json:"reason_code"`
	Direction  string   `json:"direction"`
	Beta       float64  `json:"beta"`
	Missing    BinScore `json:"missing"`
	Bins       []Bin    `json:"bins"`
}

// BinScore is a bin's weight of evidence and points.
type BinScore struct {
	WoE    float64         `json:"woe"`
	Points decimal.Decimal `json:"points"`
}

// Bin is a range [Min, Max) of a numeric feature (nil = unbounded) or a
// set of Values of a categorical one.
type Bin struct {
	Min    *decimal.Decimal `json:"min,omitempty"`
	Max    *decimal.Decimal `json:"max,omitempty"`
	Values []string         `json:"values,omitempty"`
	BinScore
}

// Grade is a score band: scores from MinScore up, down to the next grade.
// LimitMultiple times the average monthly verified volume is the limit.
type Grade struct {
	Grade         string          `json:"grade"`
	MinScore      int             `json:"min_score"`
	LimitMultiple decimal.Decimal `json:"limit_multiple"`
}

// LimitRule caps the recommended limit and rounds it down to a multiple of
// UnitCNY. Basis names the feature the grade multiple applies to.
type LimitRule struct {
	Basis   string          `json:"basis"`
	CapCNY  decimal.Decimal `json:"cap_cny"`
	UnitCNY decimal.Decimal `json:"unit_cny"`
}

var reasonCodePattern = regexp.MustCompile(`^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$`)

// LoadScorecard returns the embedded model of that version, or
// ErrScorecardNotFound.
//
//	model, err := risk.LoadScorecard(risk.CurrentScorecardVersion)
//	a := model.Score(features)
func LoadScorecard(version string) (*Scorecard, error) {
	if !versionPattern.MatchString(version) {
		return nil, ErrScorecardNotFound.With("no scorecard %q", version)
	}
	data, err := modelFiles.ReadFile(path.Join("models", version+".json"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrScorecardNotFound.With("no scorecard %q (have %s)", version, strings.Join(ScorecardVersions(), ", "))
	}
	if err != nil {
		return nil, fmt.Errorf("read scorecard %s: %w", version, err)
	}
	m, err := ParseScorecard(data)
	if err != nil {
		return nil, err
	}
	if m.Version != version {
		return nil, fmt.Errorf("scorecard %s.json says it is version %q", version, m.Version)
	}
	return m, nil
}

// ScorecardVersions lists the embedded models' versions, sorted.
func ScorecardVersions() []string {
	names, _ := fs.Glob(modelFiles, "models/*.json")
	for i, n := range names {
		names[i] = strings.TrimSuffix(path.Base(n), ".json")
	}
	slices.Sort(names)
	return names
}

// ParseScorecard reads and checks a model: unknown fields are refused, every
// feature must be one Features.Values names, bins must cover every value in
// order, points must be the PDO-scaled log-odds of their WoE, directed
// features monotone, grades descending with non-increasing multiples, and
// the lowest grade must hold the lowest possible score.
func ParseScorecard(data []byte) (*Scorecard, error) {
	var m Scorecard
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("parse scorecard: %w", err)
	}
	if err := m.validate(); err != nil {
		return nil, fmt.Errorf("scorecard %q: %w", m.Version, err)
	}
	return &m, nil
}
