package risk

import (
	"strconv"
	"time"

	"github.com/shopspring/decimal"
)

// TaxRulesVersion names the rules TaxClass applies: the State Taxation
// Administration's export-rebate classification measures (国家税务总局公告
// 2016年第46号, 出口退(免)税企业分类管理办法). Unlike the FX thresholds these
// are the regulation's own criteria, not tunable numbers, so they live in
// code; a change of regulation is a new version here.
const TaxRulesVersion = "sta-2016-46"

// TaxCreditRating is the enterprise's tax credit rating (纳税信用级别): A,
// B, M (new or income-less taxpayers), C or D; "" when not yet rated.
type TaxCreditRating string

// The tax credit ratings.
const (
	RatingA       TaxCreditRating = "A"
	RatingB       TaxCreditRating = "B"
	RatingM       TaxCreditRating = "M"
	RatingC       TaxCreditRating = "C"
	RatingD       TaxCreditRating = "D"
	RatingUnrated TaxCreditRating = ""
)

// ExporterKind: the regulation sets different class-1 criteria for
// manufacturers (生产企业) and trading companies (外贸企业).
type ExporterKind string

// The exporter kinds.
const (
	Manufacturer ExporterKind = "manufacturer"
	Trader       ExporterKind = "trader"
)

// TaxClassInput is an exporter's record at the time of classification.
type TaxClassInput struct {
	AsOf         time.Time
	Kind         ExporterKind
	Rating       TaxCreditRating
	RegisteredAt time.Time // traders need 5 years of continuous operation for class 1
	// FirstClaimAt is the first export-rebate claim; zero if none yet.
	FirstClaimAt time.Time
	// NetAssetsCNY at the end of last year, and RebatesCNY, the rebates paid
	// to the enterprise last year (exempt-and-offset amounts excluded).
	NetAssetsCNY decimal.Decimal
	RebatesCNY   decimal.Decimal
	FXCategory   Category
	TaxFindings
}

// TaxFindings are what the tax bureau has found about an exporter, as its
// tax profile records them. They default to "nothing found", except the two
// class-1 prerequisites, which default to "not shown": class 1 must be earned.
type TaxFindings struct {
	// Class-1 prerequisites.
	RiskControlSystem bool `json:"risk_control_system"` // an internal export-rebate risk-control system is in place
	CapacityMatched   bool `json:"capacity_matched"`    // manufacturers: capacity matches the rebates claimed

	// Findings that bar class 1.
	FalseInvoices bool `json:"false_invoices"` // issued or received falsely issued VAT invoices in the last 3 years
	// Findings that make class 3.
	MinorRebateViolation bool `json:"minor_rebate_violation"` // broke rebate rules last year, below the penalty threshold
	// Findings that make class 4.
	PenalisedLastYear     bool `json:"penalised_last_year"`     // penalised or prosecuted for rebate violations last year
	RefusedRecords        bool `json:"refused_records"`         // refused to provide books, vouchers or filings last year
	RebateRightsSuspended bool `json:"rebate_rights_suspended"` // rebate rights suspended for fraud, or restored less than 2 years ago
	JointPunishmentList   bool `json:"joint_punishment_list"`   // on the national joint-punishment list of dishonest enterprises
	CustomsDishonest      bool `json:"customs_dishonest"`       // rated a dishonest enterprise by customs
	Class4Representative  bool `json:"class4_representative"`   // new exporter whose legal representative runs a class-4 one
}

// TaxClassResult is the export-rebate class (1 best … 4), the working days
// the tax bureau targets to process a claim, and why.
type TaxClassResult struct {
	Class          int      `json:"class"`
	ProcessingDays int      `json:"processing_days"`
	Reasons        []Reason `json:"reasons"`
	RulesVersion   string   `json:"rules_version"`
}

// processingDays are the targets per class (class 1 at index 1).
var processingDays = [5]int{0, 5, 10, 15, 20}

// Class-1 thresholds of the regulation.
var (
	manufacturerNetAssetShare = decimal.NewFromInt(1) // net assets > 100% of last year's rebates
	traderNetAssetShare       = decimal.RequireFromString("0.6")
)

const (
	traderMinTenureMonths = 60 // 5 years of continuous operation
	newExporterMonths     = 12 // less than 12 months since the first claim → class 3
)

// TaxClass classifies an exporter for export rebates (出口退(免)税分类管理):
// class 4 if any class-4 finding holds (FX category C among them), else
// class 3 if any class-3 finding holds, else class 1 if every class-1
// criterion is met, else class 2. The reasons list every finding of the
// class given (for class 2, every class-1 criterion missed; for class 1,
// CLASS1_CRITERIA_MET). Errors: ErrInputInvalid.
func TaxClass(in TaxClassInput) (TaxClassResult, error) {
	if err := in.validate(); err != nil {
		return TaxClassResult{}, err
	}
	class, reasons := 1, []Reason{{Code: "CLASS1_CRITERIA_MET"}}
	for _, step := range []struct {
		class int
		rules func(TaxClassInput) []Reason
	}{{4, class4Findings}, {3, class3Findings}, {2, class1Misses}} {
		if r := step.rules(in); len(r) > 0 {
			class, reasons = step.class, r
			break
		}
	}
	return TaxClassResult{Class: class, ProcessingDays: processingDays[class], Reasons: reasons, RulesVersion: TaxRulesVersion}, nil
}

func class4Findings(in TaxClassInput) []Reason {
	var r findings
	r.flag(in.Rating == RatingD, Reason{Code: "TAX_CREDIT_D", Value: string(in.Rating)})
	r.flag(in.FXCategory == CategoryC, Reason{Code: "FX_CATEGORY_C", Value: string(in.FXCategory)})
	r.flag(in.PenalisedLastYear, Reason{Code: "REBATE_PENALTY"})
	r.flag(in.RefusedRecords, Reason{Code: "RECORDS_REFUSED"})
	r.flag(in.RebateRightsSuspended, Reason{Code: "REBATE_RIGHTS_SUSPENDED"})
	r.flag(in.JointPunishmentList, Reason{Code: "JOINT_PUNISHMENT_LIST"})
	r.flag(in.CustomsDishonest, Reason{Code: "CUSTOMS_DISHONEST"})
	r.flag(in.Class4Representative, Reason{Code: "CLASS4_REPRESENTATIVE"})
	return r
}

func class3Findings(in TaxClassInput) []Reason {
	var r findings
	months := 0
	if !in.FirstClaimAt.IsZero() {
		months = wholeMonths(in.FirstClaimAt, in.AsOf)
	}
	r.flag(months < newExporterMonths, Reason{Code: "NEW_EXPORTER", Value: strconv.Itoa(months), Op: "<", Threshold: strconv.Itoa(newExporterMonths)})
	r.flag(in.Rating == RatingC, Reason{Code: "TAX_CREDIT_C", Value: string(in.Rating)})
	r.flag(in.Rating == RatingUnrated, Reason{Code: "TAX_CREDIT_UNRATED"})
	r.flag(in.MinorRebateViolation, Reason{Code: "REBATE_VIOLATION"})
	return r
}

// class1Misses lists the class-1 criteria in does not meet.
func class1Misses(in TaxClassInput) []Reason {
	var r findings
	r.flag(in.Rating != RatingA && in.Rating != RatingB, Reason{Code: "TAX_CREDIT_NOT_A_OR_B", Value: string(in.Rating)})
	r.flag(in.FalseInvoices, Reason{Code: "FALSE_INVOICES"})
	r.flag(!in.RiskControlSystem, Reason{Code: "NO_RISK_CONTROL"})
	share := manufacturerNetAssetShare
	if in.Kind == Trader {
		share = traderNetAssetShare
		months := wholeMonths(in.RegisteredAt, in.AsOf)
		r.flag(months < traderMinTenureMonths, Reason{Code: "TENURE_SHORT", Value: strconv.Itoa(months), Op: "<", Threshold: strconv.Itoa(traderMinTenureMonths)})
	} else {
		r.flag(!in.CapacityMatched, Reason{Code: "CAPACITY_NOT_MATCHED"})
	}
	// Net assets must exceed the share of rebates: at or below it misses.
	need := in.RebatesCNY.Mul(share).Round(2)
	r.flag(!in.NetAssetsCNY.GreaterThan(need), Reason{Code: "NET_ASSETS_LOW", Value: fixed2(in.NetAssetsCNY), Op: "<=", Threshold: fixed2(need)})
	return r
}

// findings collects the reasons whose condition holds, in rule order.
type findings []Reason

func (f *findings) flag(cond bool, r Reason) {
	if cond {
		*f = append(*f, r)
	}
}

func (in TaxClassInput) validate() error {
	switch {
	case in.AsOf.IsZero():
		return ErrInputInvalid.With("tax class input has no as-of date")
	case in.Kind != Manufacturer && in.Kind != Trader:
		return ErrInputInvalid.With("exporter kind %q is not manufacturer or trader", in.Kind)
	case !validRating(in.Rating):
		return ErrInputInvalid.With("tax credit rating %q is not A, B, M, C, D or unrated", in.Rating)
	case !in.FXCategory.Valid():
		return ErrInputInvalid.With("FX category %q is not A, B or C", in.FXCategory)
	case in.RegisteredAt.IsZero() || in.RegisteredAt.After(in.AsOf):
		return ErrInputInvalid.With("registration date %s is not on or before the as-of date", in.RegisteredAt)
	case in.FirstClaimAt.After(in.AsOf):
		return ErrInputInvalid.With("first rebate claim %s is after the as-of date", in.FirstClaimAt)
	}
	if err := checkAmount(in.NetAssetsCNY.Abs()); err != nil { // net assets may be negative
		return ErrInputInvalid.With("net assets: %v", err)
	}
	if err := checkAmount(in.RebatesCNY); err != nil {
		return ErrInputInvalid.With("rebates: %v", err)
	}
	return nil
}

func validRating(r TaxCreditRating) bool {
	switch r {
	case RatingA, RatingB, RatingM, RatingC, RatingD, RatingUnrated:
		return true
	}
	return false
}
