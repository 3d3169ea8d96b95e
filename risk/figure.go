package risk

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/shopspring/decimal"
)

// Figure is a number that may be undefined: a rate of no chains, the
// volatility of no volume. An undefined figure scores as its feature's
// worst bin (docs/risk.md). In JSON it is a decimal string or null.
type Figure struct {
	value decimal.Decimal
	known bool
}

// Known returns the defined figure v.
func Known(v decimal.Decimal) Figure { return Figure{value: v, known: true} }

// Unknown is the undefined figure.
var Unknown = Figure{}

func figureOf(v decimal.Decimal, ok bool) Figure { return Figure{value: v, known: ok} }

// Value returns the number and whether it is defined.
func (f Figure) Value() (decimal.Decimal, bool) { return f.value, f.known }

// String is the figure to ratioScale decimals, or "null".
func (f Figure) String() string {
	if !f.known {
		return "null"
	}
	return fixed4(f.value)
}

// MarshalJSON writes "0.1234" or null.
func (f Figure) MarshalJSON() ([]byte, error) {
	if !f.known {
		return []byte("null"), nil
	}
	return json.Marshal(f.String())
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (f *Figure) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		*f = Unknown
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("figure: %w", err)
	}
	v, err := decimal.NewFromString(s)
	if err != nil {
		return fmt.Errorf("figure %q: %w", s, err)
	}
	*f = Known(v)
	return nil
}
