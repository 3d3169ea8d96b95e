package settlement

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/xbsettle/xbsettle/internal/apperr"
)

// TestParseBankStatement: the columns are found by their header, in any
// order, extra ones ignored; every bad line is named.
func TestParseBankStatement(t *testing.T) {
	t.Parallel()
	lines, err := ParseBankStatement(strings.NewReader("\ufeffAmount,Direction,Balance,Reference,Date\r\n"+
		"10.50,CREDIT,99,settle:PI:T1,2026-03-16\r\n1200,debit,,payout:4403100001:CNY:2026-03-16,2026-03-17\r\n"), "CNY")
	if err != nil || len(lines) != 2 {
		t.Fatalf("ParseBankStatement: %v, %v", lines, err)
	}
	if l := lines[0]; l.Line != 2 || !l.Amount.Equal(dec("10.50")) || l.Direction != BankCredit || l.Reference != "settle:PI:T1" ||
		l.Date.Format(dateLayout) != "2026-03-16" {
		t.Fatalf("first line %+v", l)
	}
	for _, tc := range []struct {
		name, csv string
		want      []string
	}{
		{"empty", "", []string{"statement:REQUIRED"}},
		{"header without columns", "when,what\n", []string{"header.date:REQUIRED", "header.reference:REQUIRED", "header.amount:REQUIRED", "header.direction:REQUIRED"}},
		{"bad lines", "date,reference,amount,direction\n2026-02-30,r,1,credit\n2026-03-16,,-1,in\n2026-03-16,r,0.001,debit\n",
			[]string{"lines[2].date:DATE_INVALID", "lines[3].reference:REQUIRED", "lines[3].amount:AMOUNT_INVALID",
				"lines[3].direction:DIRECTION_INVALID", "lines[4].amount:AMOUNT_PRECISION"}},
		{"not CSV", "date,reference,amount,direction\n\"2026-03-16,r,1,credit\n", []string{"lines[2]:CSV_INVALID"}},
	} {
		_, err := ParseBankStatement(strings.NewReader(tc.csv), "CNY")
		var ae *apperr.Error
		if !errors.As(err, &ae) {
			t.Errorf("%s: %v, want VALIDATION_FAILED", tc.name, err)
			continue
		}
		var got []string
		for _, f := range ae.Fields {
			got = append(got, f.Field+":"+f.Code)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	big := "date,reference,amount,direction\n" + strings.Repeat("2026-03-16,r,1,credit\n", MaxStatementLines+1)
	if _, err := ParseBankStatement(strings.NewReader(big), "CNY"); !errors.Is(err, ErrStatementTooLarge) {
		t.Fatalf("%d lines: %v, want BATCH_TOO_LARGE", MaxStatementLines+1, err)
	}
}
