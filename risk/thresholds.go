package risk

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/shopspring/decimal"
	"gopkg.in/yaml.v3"
)

// CurrentThresholdsVersion is the threshold table new FX proposals use.
const CurrentThresholdsVersion = "fx-v1"

// thresholdFiles holds every published table, thresholds/<version>.yaml.
//
//go:embed thresholds/*.yaml
var thresholdFiles embed.FS

// versionPattern is what a table or model version looks like; it is also a
// file name, so it allows no path characters.
var versionPattern = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9.]+)*$`)

// Thresholds is one version of the FX category table: the numbers Classify
// compares an enterprise's figures with. It is data, loaded from an embedded
// YAML file (thresholds/fx-v1.yaml documents every field), never edited in
// place. The zero value is not usable; get one from LoadThresholds.
type Thresholds struct {
	Version     string `yaml:"version"`
	Description string `yaml:"description"`
	// GuidanceMonths: an enterprise registered fewer whole months before the
	// period's end is in its guidance period.
	GuidanceMonths      int              `yaml:"guidance_months"`
	FundGoodsRatio      RatioBands       `yaml:"fund_goods_ratio"`
	TotalDifference     DifferenceLimits `yaml:"total_difference_ratio"`
	RejectedShare       ShareLimits      `yaml:"rejected_share"`
	UnverifiedShare     ShareLimits      `yaml:"unverified_share"`
	MissingReportMonths CountLimits      `yaml:"missing_report_months"`
	LateReports         CountLimits      `yaml:"late_reports"`
	MinorViolations     CountLimits      `yaml:"minor_violations"`
	SeriousViolations   CountLimits      `yaml:"serious_violations"`
}

// Band is a closed interval [Low, High].
type Band struct {
	Low  decimal.Decimal `yaml:"low"`
	High decimal.Decimal `yaml:"high"`
}

// contains reports whether Low ≤ v ≤ High.
func (b Band) contains(v decimal.Decimal) bool {
	return v.GreaterThanOrEqual(b.Low) && v.LessThanOrEqual(b.High)
}

// RatioBands: inside A nothing fires; inside B (but outside A) the figure
// leads to B; outside B to C.
type RatioBands struct {
	A Band `yaml:"a"`
	B Band `yaml:"b"`
}

// DifferenceLimits: a total-difference ratio above B leads to B, above C to
// C, provided the absolute difference is at least MinDifferenceCNY.
type DifferenceLimits struct {
	MinDifferenceCNY decimal.Decimal `yaml:"min_difference_cny"`
	B                decimal.Decimal `yaml:"b"`
	C                decimal.Decimal `yaml:"c"`
}

// ShareLimits: a share above B leads to B, above C to C, judged only when at
// least MinChains chains were submitted.
type ShareLimits struct {
	MinChains int             `yaml:"min_chains"`
	B         decimal.Decimal `yaml:"b"`
	C         decimal.Decimal `yaml:"c"`
}

// CountLimits: a count of at least B leads to B, of at least C to C; 0
// leaves that level unused.
type CountLimits struct {
	B int `yaml:"b"`
	C int `yaml:"c"`
}

// LoadThresholds returns the embedded table of that version, or
// ErrThresholdsNotFound.
//
//	th, err := risk.LoadThresholds(risk.CurrentThresholdsVersion)
func LoadThresholds(version string) (Thresholds, error) {
	if !versionPattern.MatchString(version) {
		return Thresholds{}, ErrThresholdsNotFound.With("no FX threshold table %q", version)
	}
	data, err := thresholdFiles.ReadFile(path.Join("thresholds", version+".yaml"))
	if errors.Is(err, fs.ErrNotExist) {
		return Thresholds{}, ErrThresholdsNotFound.With("no FX threshold table %q (have %s)", version, strings.Join(ThresholdVersions(), ", "))
	}
	if err != nil {
		return Thresholds{}, fmt.Errorf("read FX threshold table %s: %w", version, err)
	}
	th, err := ParseThresholds(data)
	if err != nil {
		return Thresholds{}, err
	}
	if th.Version != version {
		return Thresholds{}, fmt.Errorf("FX threshold table %s.yaml says it is version %q", version, th.Version)
	}
	return th, nil
}

// ThresholdVersions lists the embedded tables' versions, sorted.
func ThresholdVersions() []string {
	names, _ := fs.Glob(thresholdFiles, "thresholds/*.yaml")
	for i, n := range names {
		names[i] = strings.TrimSuffix(path.Base(n), ".yaml")
	}
	slices.Sort(names)
	return names
}

// ParseThresholds reads and checks a table. Unknown keys are refused, and so
// is a table whose numbers do not nest (an A band outside the B band, a C
// threshold milder than its B one): a key left out reads as zero, and these
// checks are what catch that.
func ParseThresholds(data []byte) (Thresholds, error) {
	var th Thresholds
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&th); err != nil {
		return Thresholds{}, fmt.Errorf("parse FX threshold table: %w", err)
	}
	if err := th.validate(); err != nil {
		return Thresholds{}, fmt.Errorf("FX threshold table %q: %w", th.Version, err)
	}
	return th, nil
}

func (th Thresholds) validate() error {
	var problems []string
	check := func(ok bool, format string, args ...any) {
		if !ok {
			problems = append(problems, fmt.Sprintf(format, args...))
		}
	}
	check(versionPattern.MatchString(th.Version), "version %q is not a valid version name", th.Version)
	check(th.GuidanceMonths >= 0, "guidance_months is negative")
	a, b := th.FundGoodsRatio.A, th.FundGoodsRatio.B
	check(a.Low.IsPositive() && a.Low.LessThan(a.High), "fund_goods_ratio.a must be 0 < low < high")
	check(b.Low.IsPositive() && b.Low.LessThan(a.Low) && b.High.GreaterThan(a.High), "fund_goods_ratio.b must lie strictly around a, above 0")
	td := th.TotalDifference
	check(!td.MinDifferenceCNY.IsNegative(), "total_difference_ratio.min_difference_cny is negative")
	check(td.B.IsPositive() && td.B.LessThan(td.C), "total_difference_ratio must be 0 < b < c")
	for name, s := range map[string]ShareLimits{"rejected_share": th.RejectedShare, "unverified_share": th.UnverifiedShare} {
		check(s.MinChains >= 1, "%s.min_chains must be at least 1", name)
		check(s.B.IsPositive() && s.B.LessThan(s.C) && s.C.LessThan(decimal.NewFromInt(1)), "%s must be 0 < b < c < 1", name)
	}
	for name, c := range map[string]CountLimits{
		"missing_report_months": th.MissingReportMonths, "late_reports": th.LateReports,
		"minor_violations": th.MinorViolations, "serious_violations": th.SeriousViolations,
	} {
		check(c.C >= 1 && c.B >= 0 && c.B < c.C, "%s must be 0 ≤ b < c with c ≥ 1", name)
	}
	if len(problems) > 0 {
		slices.Sort(problems) // the maps above iterate in any order
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}
