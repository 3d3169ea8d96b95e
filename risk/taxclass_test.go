package risk

import (
	"errors"
	"reflect"
	"testing"
)

// classOne is a manufacturer meeting every class-1 criterion.
func classOne() TaxClassInput {
	return TaxClassInput{
		AsOf: day(2025, 3, 1), Kind: Manufacturer, Rating: RatingA,
		RegisteredAt: day(2015, 1, 1), FirstClaimAt: day(2016, 6, 1),
		NetAssetsCNY: dec("5000000.00"), RebatesCNY: dec("1200000.00"),
		FXCategory: CategoryA, TaxFindings: TaxFindings{RiskControlSystem: true, CapacityMatched: true},
	}
}

func TestTaxClass(t *testing.T) {
	t.Parallel()
	codes := func(rs []Reason) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.Code)
		}
		return out
	}
	for _, tc := range []struct {
		name  string
		edit  func(*TaxClassInput)
		class int
		codes []string
	}{
		{"manufacturer meeting every criterion", func(*TaxClassInput) {}, 1, []string{"CLASS1_CRITERIA_MET"}},
		{"trader: 60% of rebates and 5 years", func(in *TaxClassInput) {
			in.Kind, in.CapacityMatched = Trader, false
			in.RegisteredAt = day(2020, 3, 1) // exactly 60 months
			in.NetAssetsCNY, in.RebatesCNY = dec("600000.01"), dec("1000000.00")
		}, 1, []string{"CLASS1_CRITERIA_MET"}},
		// Class 2: the class-1 criteria missed, each alone.
		{"rating B is still class 1", func(in *TaxClassInput) { in.Rating = RatingB }, 1, []string{"CLASS1_CRITERIA_MET"}},
		{"rating M", func(in *TaxClassInput) { in.Rating = RatingM }, 2, []string{"TAX_CREDIT_NOT_A_OR_B"}},
		{"false invoices", func(in *TaxClassInput) { in.FalseInvoices = true }, 2, []string{"FALSE_INVOICES"}},
		{"no risk control", func(in *TaxClassInput) { in.RiskControlSystem = false }, 2, []string{"NO_RISK_CONTROL"}},
		{"capacity not matched", func(in *TaxClassInput) { in.CapacityMatched = false }, 2, []string{"CAPACITY_NOT_MATCHED"}},
		{"net assets equal to rebates", func(in *TaxClassInput) { in.NetAssetsCNY = in.RebatesCNY }, 2, []string{"NET_ASSETS_LOW"}},
		{"negative net assets", func(in *TaxClassInput) { in.NetAssetsCNY = dec("-10.00") }, 2, []string{"NET_ASSETS_LOW"}},
		{"trader at exactly 60%", func(in *TaxClassInput) {
			in.Kind = Trader
			in.NetAssetsCNY, in.RebatesCNY = dec("600000.00"), dec("1000000.00")
		}, 2, []string{"NET_ASSETS_LOW"}},
		{"trader a day short of 5 years", func(in *TaxClassInput) {
			in.Kind, in.RegisteredAt = Trader, day(2020, 3, 2)
		}, 2, []string{"TENURE_SHORT"}},
		{"every class-1 miss listed", func(in *TaxClassInput) {
			in.Rating, in.FalseInvoices, in.RiskControlSystem = RatingM, true, false
		}, 2, []string{"TAX_CREDIT_NOT_A_OR_B", "FALSE_INVOICES", "NO_RISK_CONTROL"}},
		// Class 3.
		{"first claim 11 months ago", func(in *TaxClassInput) { in.FirstClaimAt = day(2024, 3, 2) }, 3, []string{"NEW_EXPORTER"}},
		{"first claim 12 months ago", func(in *TaxClassInput) { in.FirstClaimAt = day(2024, 3, 1) }, 1, []string{"CLASS1_CRITERIA_MET"}},
		{"never claimed", func(in *TaxClassInput) { in.FirstClaimAt = zeroTime }, 3, []string{"NEW_EXPORTER"}},
		{"rating C", func(in *TaxClassInput) { in.Rating = RatingC }, 3, []string{"TAX_CREDIT_C"}},
		{"not rated", func(in *TaxClassInput) { in.Rating = RatingUnrated }, 3, []string{"TAX_CREDIT_UNRATED"}},
		{"minor rebate violation", func(in *TaxClassInput) { in.MinorRebateViolation = true }, 3, []string{"REBATE_VIOLATION"}},
		// Class 4, each finding alone on an otherwise class-1 exporter.
		{"rating D", func(in *TaxClassInput) { in.Rating = RatingD }, 4, []string{"TAX_CREDIT_D"}},
		{"FX category C forces class 4", func(in *TaxClassInput) { in.FXCategory = CategoryC }, 4, []string{"FX_CATEGORY_C"}},
		{"FX category B does not", func(in *TaxClassInput) { in.FXCategory = CategoryB }, 1, []string{"CLASS1_CRITERIA_MET"}},
		{"penalised", func(in *TaxClassInput) { in.PenalisedLastYear = true }, 4, []string{"REBATE_PENALTY"}},
		{"records refused", func(in *TaxClassInput) { in.RefusedRecords = true }, 4, []string{"RECORDS_REFUSED"}},
		{"rights suspended", func(in *TaxClassInput) { in.RebateRightsSuspended = true }, 4, []string{"REBATE_RIGHTS_SUSPENDED"}},
		{"joint punishment", func(in *TaxClassInput) { in.JointPunishmentList = true }, 4, []string{"JOINT_PUNISHMENT_LIST"}},
		{"customs dishonest", func(in *TaxClassInput) { in.CustomsDishonest = true }, 4, []string{"CUSTOMS_DISHONEST"}},
		{"class-4 representative", func(in *TaxClassInput) { in.Class4Representative = true }, 4, []string{"CLASS4_REPRESENTATIVE"}},
		{"class 4 outranks class 3", func(in *TaxClassInput) {
			in.FXCategory, in.Rating, in.FirstClaimAt = CategoryC, RatingC, day(2025, 1, 1)
		}, 4, []string{"FX_CATEGORY_C"}},
	} {
		in := classOne()
		tc.edit(&in)
		got, err := TaxClass(in)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got.Class != tc.class || !reflect.DeepEqual(codes(got.Reasons), tc.codes) {
			t.Errorf("%s: class %d %v, want %d %v", tc.name, got.Class, codes(got.Reasons), tc.class, tc.codes)
		}
		if want := 5 * tc.class; got.ProcessingDays != want || got.RulesVersion != TaxRulesVersion {
			t.Errorf("%s: %d processing days (want %d), rules %q", tc.name, got.ProcessingDays, want, got.RulesVersion)
		}
	}
}

func TestTaxClassReasonsCarryFigures(t *testing.T) {
	t.Parallel()
	in := classOne()
	in.Kind, in.RegisteredAt = Trader, day(2022, 1, 15)
	in.NetAssetsCNY, in.RebatesCNY = dec("500000"), dec("1000000.005")
	got, err := TaxClass(in)
	if err != nil {
		t.Fatal(err)
	}
	want := []Reason{
		{Code: "TENURE_SHORT", Value: "37", Op: "<", Threshold: "60"},
		// 60% of 1,000,000.005 = 600,000.003, half-up to the fen.
		{Code: "NET_ASSETS_LOW", Value: "500000.00", Op: "<=", Threshold: "600000.00"},
	}
	if got.Class != 2 || !reflect.DeepEqual(got.Reasons, want) {
		t.Errorf("got %d %+v, want 2 %+v", got.Class, got.Reasons, want)
	}
}

func TestTaxClassRefusesBadInput(t *testing.T) {
	t.Parallel()
	for name, edit := range map[string]func(*TaxClassInput){
		"no as-of":         func(in *TaxClassInput) { in.AsOf = zeroTime },
		"unknown kind":     func(in *TaxClassInput) { in.Kind = "retailer" },
		"unknown rating":   func(in *TaxClassInput) { in.Rating = "AA" },
		"no FX category":   func(in *TaxClassInput) { in.FXCategory = "" },
		"registered later": func(in *TaxClassInput) { in.RegisteredAt = day(2026, 1, 1) },
		"claim in future":  func(in *TaxClassInput) { in.FirstClaimAt = day(2026, 1, 1) },
		"negative rebates": func(in *TaxClassInput) { in.RebatesCNY = dec("-1") },
		"huge net assets":  func(in *TaxClassInput) { in.NetAssetsCNY = dec("1e13") },
	} {
		in := classOne()
		edit(&in)
		if _, err := TaxClass(in); !errors.Is(err, ErrInputInvalid) {
			t.Errorf("%s: err = %v, want RISK_INPUT_INVALID", name, err)
		}
	}
}
