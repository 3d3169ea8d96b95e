package clearance

import (
	"errors"
	"testing"
)

// TestTariffChangeIsUsedAtOnce: the matcher reads the tariff from memory;
// a line put through the service is used by the next evaluation of this
// process, and the shipped lines are in the table, each change recorded.
func TestTariffChangeIsUsedAtOnce(t *testing.T) {
	t.Parallel()
	b := storeSetup(t)
	const code = "2106909099" // no other test's goods
	taxOf := func(orderNo string, n int) string {
		o, p, w, i := chainDocs(t, orderNo, n)
		i.Lines[1].Gcode = code
		b.submit(o, p, w, i)
		if v := verdictOf(t, b.match(ChainKey{ebp, orderNo})); v.Tax != nil {
			return v.Tax.Total
		}
		return "none"
	}
	// 310 at 13%: 18.81 + 9.40.
	if got := taxOf("TARIFF1", 3001); got != "28.21" {
		t.Fatalf("before: tax %s", got)
	}
	if _, err := b.svc.PutTariffLine(b.ctx, "test", TariffLine{Code: code, ValidFrom: "2025-01-01", VAT: dec("0.09"),
		Consumption: dec("0"), Description: "test", Source: "test"}); err != nil {
		t.Fatal(err)
	}
	// Line 2 at 9%: 103.33·0.063 = 6.50979 → 6.51; total 18.81 + 6.51 = 25.32.
	if got := taxOf("TARIFF2", 3002); got != "25.32" {
		t.Fatalf("after: tax %s", got)
	}
	_, err := b.svc.PutTariffLine(b.ctx, "test", TariffLine{Code: code, ValidFrom: "2026-01-01", VAT: dec("0.13"),
		Consumption: dec("0"), Description: "test", Source: "test"})
	if !errors.Is(err, ErrTariffLineOverlap) {
		t.Fatalf("overlapping line: %v", err)
	}
	lines, changes, err := b.svc.TariffLines(b.ctx, "*")
	if err != nil || len(lines) != 3 || len(changes) < 3 || lines[2].ValidFrom != "2019-04-01" || lines[2].ValidTo != "" {
		t.Fatalf("shipped '*' lines %+v, changes %d, %v", lines, len(changes), err)
	}
}
