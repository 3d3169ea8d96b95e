package clearance

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// The tariff (税率表) gives the rates of a goods code on a day: duty, VAT and
// consumption tax, and the condition that makes the consumption tax due. A
// line applies to a code (the inventory line's 10-digit gcode) or to every
// code starting with a prefix of 2, 4, 6 or 8 digits, or to every code ('*'),
// from ValidFrom to ValidTo inclusive (open when ValidTo is ""). The longest
// code in force on the declaration date wins, so the VAT eras live in the '*'
// lines and the goods with their own rates list their own eras. The table
// shipped is tariff/tariff.json (versioned); operators change it through the
// API (tariff_store.go). docs/clearance.md cites the texts behind each line.

//go:embed tariff/tariff.json
var tariffFile []byte

// Day is a China calendar date "2006-01-02"; days compare as strings.
type Day string

// dayOf is the China date of t.
func dayOf(t time.Time) Day { return Day(t.In(chinaTime).Format(time.DateOnly)) }

// valid reports whether d is a real date in the layout.
func (d Day) valid() bool {
	t, err := time.Parse(time.DateOnly, string(d))
	return err == nil && Day(t.Format(time.DateOnly)) == d
}

// TariffLine is one line of the tariff.
type TariffLine struct {
	Code      string `json:"code" db:"code"`
	ValidFrom Day    `json:"valid_from" db:"valid_from"`
	ValidTo   Day    `json:"valid_to,omitempty" db:"valid_to"` // "" open
	// Duty is the MFN duty rate, levied on goods taxed in full; nil when
	// not known, and such goods cannot be taxed (rule TARIFF).
	Duty        *decimal.Decimal `json:"duty_rate,omitempty" db:"duty_rate"`
	VAT         decimal.Decimal  `json:"vat_rate" db:"vat_rate"`
	Consumption decimal.Decimal  `json:"consumption_rate" db:"consumption_rate"`
	// The consumption tax is due only at or above these taxable prices per
	// ml or g, or per piece, of the legal quantity (qty1/unit1), where set:
	// high-end cosmetics 10 yuan/ml(g) or 15 yuan/piece (财税〔2016〕103号).
	ConsumptionMinPerMlOrG *decimal.Decimal `json:"consumption_min_per_ml_or_g,omitempty" db:"consumption_min_per_ml_or_g"`
	ConsumptionMinPerPiece *decimal.Decimal `json:"consumption_min_per_piece,omitempty" db:"consumption_min_per_piece"`
	Description            string           `json:"description" db:"description"`
	Source                 string           `json:"source" db:"source"`
}

var tariffCode = regexp.MustCompile(`^(\*|[0-9]{2}|[0-9]{4}|[0-9]{6}|[0-9]{8}|[0-9]{10})$`)

// Tariff line validation failures; the API reports them as VALIDATION_FAILED.
var (
	ErrTariffCode    = errors.New("code is '*' or 2, 4, 6, 8 or 10 digits")
	ErrTariffDates   = errors.New("valid_from is a date and valid_to, if given, a date not before it")
	ErrTariffRates   = errors.New("rates are 0 ≤ rate, VAT and consumption rates < 1, duty rate < 1000, thresholds ≥ 0")
	ErrTariffOverlap = errors.New("validity overlaps another line of the code")
)

// Validate checks one line on its own.
func (l TariffLine) Validate() error {
	switch {
	case !tariffCode.MatchString(l.Code):
		return ErrTariffCode
	case !l.ValidFrom.valid() || (l.ValidTo != "" && (!l.ValidTo.valid() || l.ValidTo < l.ValidFrom)):
		return ErrTariffDates
	case !l.rates(nil).Valid() || !l.VAT.LessThan(one) || (l.Duty != nil && !l.Duty.LessThan(maxDutyRate)) ||
		negative(l.ConsumptionMinPerMlOrG) || negative(l.ConsumptionMinPerPiece):
		return ErrTariffRates
	}
	return nil
}

// maxDutyRate bounds what clearance_tariff_lines.duty_rate holds.
var maxDutyRate = decimal.NewFromInt(1000)

func negative(d *decimal.Decimal) bool { return d != nil && d.IsNegative() }

// inForce reports whether the line applies on day d.
func (l TariffLine) inForce(d Day) bool {
	return l.ValidFrom <= d && (l.ValidTo == "" || d <= l.ValidTo)
}

// overlaps reports whether two lines of one code share a day.
func (l TariffLine) overlaps(m TariffLine) bool {
	return (l.ValidTo == "" || m.ValidFrom <= l.ValidTo) && (m.ValidTo == "" || l.ValidFrom <= m.ValidTo)
}

// rates are the line's rates; duty 0 when not known (it matters only for
// goods taxed in full, which the matcher refuses without a duty rate), and
// the consumption tax left out when ct is false.
func (l TariffLine) rates(ct *bool) Rates {
	r := Rates{VAT: l.VAT, Consumption: l.Consumption}
	if l.Duty != nil {
		r.Duty = *l.Duty
	}
	if ct != nil && !*ct {
		r.Consumption = decimal.Zero
	}
	return r
}

// Legal units (法定计量单位, customs codes) by what the consumption-tax
// thresholds count: grams and millilitres (kilograms and litres convert),
// and pieces.
var (
	unitsMlOrG = map[string]decimal.Decimal{
		"035": decimal.NewFromInt(1000), // 千克 kg
		"036": decimal.NewFromInt(1),    // 克 g
		"095": decimal.NewFromInt(1000), // 升 l
		"096": decimal.NewFromInt(1),    // 毫升 ml
	}
	unitsPiece = map[string]bool{"007": true, "008": true, "010": true, "011": true, "020": true} // 个 只 张 件 片
)

// consumptionDue reports whether the line's consumption tax is due for an
// inventory line of taxable price p: always without a threshold; else when
// p per ml or g (or per piece) of the legal quantity reaches the threshold
// for that kind of unit. A legal quantity in another unit, or not positive,
// cannot show the goods below the threshold: the tax is due.
func (l TariffLine) consumptionDue(il InventoryLine, p decimal.Decimal) bool {
	if l.Consumption.IsZero() || (l.ConsumptionMinPerMlOrG == nil && l.ConsumptionMinPerPiece == nil) {
		return true
	}
	if !il.Qty1.IsPositive() {
		return true
	}
	if per, ok := unitsMlOrG[il.Unit1]; ok && l.ConsumptionMinPerMlOrG != nil {
		return p.GreaterThanOrEqual(l.ConsumptionMinPerMlOrG.Mul(il.Qty1).Mul(per))
	}
	if unitsPiece[il.Unit1] && l.ConsumptionMinPerPiece != nil {
		return p.GreaterThanOrEqual(l.ConsumptionMinPerPiece.Mul(il.Qty1))
	}
	return true
}

// Tariff is the tariff in memory, read by every evaluation.
type Tariff struct {
	Version string
	byCode  map[string][]TariffLine // by ValidFrom
}

// NewTariff checks the lines (each valid, no two of one code in force on
// the same day) and indexes them.
func NewTariff(version string, lines []TariffLine) (*Tariff, error) {
	t := &Tariff{Version: version, byCode: map[string][]TariffLine{}}
	for _, l := range lines {
		if err := l.Validate(); err != nil {
			return nil, fmt.Errorf("tariff %s: line %s from %s: %w", version, l.Code, l.ValidFrom, err)
		}
		for _, m := range t.byCode[l.Code] {
			if l.overlaps(m) {
				return nil, fmt.Errorf("tariff %s: line %s from %s and from %s: %w", version, l.Code, l.ValidFrom, m.ValidFrom, ErrTariffOverlap)
			}
		}
		t.byCode[l.Code] = append(t.byCode[l.Code], l)
	}
	for _, ls := range t.byCode {
		slices.SortFunc(ls, func(a, b TariffLine) int { return strings.Compare(string(a.ValidFrom), string(b.ValidFrom)) })
	}
	return t, nil
}

// Line returns the line for goods code gcode on day d: the longest code in
// force that gcode starts with, '*' last.
func (t *Tariff) Line(gcode string, d Day) (TariffLine, bool) {
	if t == nil {
		return TariffLine{}, false
	}
	for n := min(len(gcode), 10) &^ 1; n >= 0; n -= 2 {
		code := gcode[:n]
		if n == 0 {
			code = "*"
		}
		for _, l := range t.byCode[code] {
			if l.inForce(d) {
				return l, true
			}
		}
	}
	return TariffLine{}, false
}

// Lines lists the tariff's lines by code, then date.
func (t *Tariff) Lines() []TariffLine {
	var out []TariffLine
	for _, code := range slices.Sorted(maps.Keys(t.byCode)) {
		out = append(out, t.byCode[code]...)
	}
	return out
}

// tariffFileBody is the layout of tariff/tariff.json.
type tariffFileBody struct {
	Version string       `json:"version"`
	Lines   []TariffLine `json:"lines"`
}

// ShippedTariff is the tariff of tariff/tariff.json.
func ShippedTariff() (*Tariff, error) {
	var f tariffFileBody
	if err := json.Unmarshal(tariffFile, &f); err != nil {
		return nil, fmt.Errorf("read tariff/tariff.json: %w", err)
	}
	return NewTariff(f.Version, f.Lines)
}
