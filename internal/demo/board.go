package demo

import (
	"github.com/shopspring/decimal"
)

// Rate is one line of the day's FX board: CNY per Unit units of the
// currency, as the bank boards print them (JPY per 100).
type Rate struct {
	Currency          string
	Unit              int
	Buy, Parity, Sell decimal.Decimal
}

// boardBase is a mid-March 2026 board: central parity and the bank's
// half-spread either side of it.
var boardBase = []struct {
	currency       string
	unit           int
	parity, spread string
}{
	{"USD", 1, "7.1234", "0.0222"},
	{"EUR", 1, "7.8090", "0.0235"},
	{"JPY", 100, "4.8456", "0.0156"},
}

// drawBoard moves each parity by up to ±0.3% (in steps of 0.0001), as a
// day's fixing does, and puts buy and sell the spread either side.
func drawBoard(d *dice) []Rate {
	out := make([]Rate, len(boardBase))
	for i, b := range boardBase {
		parity := decimal.RequireFromString(b.parity)
		bound := parity.Mul(decimal.RequireFromString("0.003")).Round(4).Shift(4).IntPart()
		parity = parity.Add(decimal.New(int64(d.between(int(-bound), int(bound))), -4))
		spread := decimal.RequireFromString(b.spread)
		out[i] = Rate{Currency: b.currency, Unit: b.unit, Buy: parity.Sub(spread), Parity: parity, Sell: parity.Add(spread)}
	}
	return out
}
