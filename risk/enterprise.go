package risk

import (
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/shopspring/decimal"

	"github.com/xbsettle/xbsettle/internal/apperr"
)

// Enterprise kinds (DESIGN §7), as the registry stores them.
const (
	KindSeller             = "seller"
	KindPlatform           = "platform"
	KindCarrier            = "carrier"
	KindPaymentInstitution = "payment_institution"
	KindBank               = "bank"
)

// tradingKinds are the kinds the FX bureau classifies: those whose goods
// and fund flows are compared. Carriers, institutions and banks move no
// goods of their own.
var tradingKinds = []string{KindSeller, KindPlatform}

// Limits of the registry's fields.
const (
	maxNameLen   = 200
	maxRefLen    = 64
	maxReasonLen = 2000
	maxDescLen   = 1000
)

var customsCodeRE = regexp.MustCompile(`^[0-9A-Z]{10}$`)

// ValidCustomsCode reports whether s is a customs registration code: 10
// digits or capital letters, the form documents carry.
func ValidCustomsCode(s string) bool { return customsCodeRE.MatchString(s) }

// NewEnterprise is an enterprise to register. RegisteredAt is the date on
// its business licence (a Beijing date, as midnight UTC); TaxProfile is
// optional (nil: not an exporter).
type NewEnterprise struct {
	CustomsCode  string
	Name         string
	Kind         string
	USCC         string
	RegisteredAt time.Time
	TaxProfile   *TaxProfile
}

// Enterprise is a registered enterprise with its risk fields.
type Enterprise struct {
	CustomsCode string
	Name        string
	Kind        string
	USCC        string // "" for rows clearance registered without one
	// RegisteredAt is the business licence's date (midnight UTC of the
	// Beijing date); zero for rows registered by clearance without one.
	RegisteredAt time.Time
	TaxProfile   *TaxProfile
	CreatedAt    time.Time
	CreatedBy    string
}

// Since is the instant tenure counts from: the registration date's start
// in Beijing, or, for a row registered without one, when it was created.
func (e Enterprise) Since() time.Time {
	if e.RegisteredAt.IsZero() {
		return e.CreatedAt
	}
	return StartOf(e.RegisteredAt)
}

// TaxProfile is what the export-rebate class is computed from (TaxClass),
// kept on the enterprise and replaced as a whole when it changes. Amounts
// are CNY to the fen; net assets may be negative.
type TaxProfile struct {
	ExporterKind ExporterKind    `json:"exporter_kind"`
	Rating       TaxCreditRating `json:"tax_credit_rating"`
	// FirstRebateClaimOn is the date of the first rebate claim (a Beijing
	// date, midnight UTC); nil if none yet.
	FirstRebateClaimOn *time.Time      `json:"first_rebate_claim_on"`
	NetAssetsCNY       decimal.Decimal `json:"net_assets_cny"`
	RebatesCNY         decimal.Decimal `json:"rebates_cny"`
	TaxFindings
}

// input is the tax-class input of p for an enterprise registered since
// (tenure), as of asOf, under category cat.
func (p TaxProfile) input(since, asOf time.Time, cat Category) TaxClassInput {
	in := TaxClassInput{AsOf: asOf, Kind: p.ExporterKind, Rating: p.Rating, RegisteredAt: since,
		NetAssetsCNY: p.NetAssetsCNY, RebatesCNY: p.RebatesCNY, FXCategory: cat, TaxFindings: p.TaxFindings}
	if p.FirstRebateClaimOn != nil {
		in.FirstClaimAt = StartOf(*p.FirstRebateClaimOn)
	}
	return in
}

// fieldErrs collects the invalid fields of one request.
type fieldErrs []apperr.FieldError

func (f *fieldErrs) add(field, code, format string, args ...any) {
	*f = append(*f, apperr.FieldError{Field: field, Code: code, Message: fmt.Sprintf(format, args...)})
}

func (f fieldErrs) err() error {
	if len(f) == 0 {
		return nil
	}
	return apperr.Invalid(f)
}

// validate checks a registration as of now (a registration date may not
// be in the future). The USCC is expected normalised (NormalizeUSCC).
func (e NewEnterprise) validate(now time.Time) error {
	var f fieldErrs
	switch {
	case e.CustomsCode == "":
		f.add("customs_code", FieldRequired, "this field is required")
	case !ValidCustomsCode(e.CustomsCode):
		f.add("customs_code", FieldCustomsCode, "want the 10-character customs registration code (0-9, A-Z)")
	}
	switch {
	case e.Name == "":
		f.add("name", FieldRequired, "this field is required")
	case len([]rune(e.Name)) > maxNameLen:
		f.add("name", FieldTooLong, "at most %d characters", maxNameLen)
	}
	if !validKind(e.Kind) {
		f.add("kind", FieldEnterpriseKind, "want seller, platform, carrier, payment_institution or bank")
	}
	if e.USCC == "" {
		f.add(USCCField, FieldRequired, "this field is required")
	} else if err := ValidateUSCC(e.USCC); err != nil {
		var ae *apperr.Error
		if errors.As(err, &ae) {
			f = append(f, ae.Fields...)
		}
	}
	switch {
	case e.RegisteredAt.IsZero():
		f.add("registered_at", FieldRequired, "the registration date on the business licence is required")
	case e.RegisteredAt.After(DateOf(now)):
		f.add("registered_at", FieldDateInFuture, "the registration date is after today (Beijing)")
	}
	if e.TaxProfile != nil {
		e.TaxProfile.check("tax_profile", now, &f)
	}
	return f.err()
}

// Validate checks a tax profile as of now. Errors: VALIDATION_FAILED.
func (p TaxProfile) Validate(now time.Time) error {
	var f fieldErrs
	p.check("", now, &f)
	return f.err()
}

func (p TaxProfile) check(at string, now time.Time, f *fieldErrs) {
	field := func(name string) string {
		if at == "" {
			return name
		}
		return at + "." + name
	}
	if p.ExporterKind != Manufacturer && p.ExporterKind != Trader {
		f.add(field("exporter_kind"), FieldExporterKind, "want manufacturer or trader")
	}
	if !validRating(p.Rating) {
		f.add(field("tax_credit_rating"), FieldRating, `want A, B, M, C, D, or "" when not yet rated`)
	}
	if d := p.FirstRebateClaimOn; d != nil && d.After(DateOf(now)) {
		f.add(field("first_rebate_claim_on"), FieldDateInFuture, "the first claim is after today (Beijing)")
	}
	for _, a := range []struct {
		name     string
		d        decimal.Decimal
		negative bool
	}{{"net_assets_cny", p.NetAssetsCNY, true}, {"rebates_cny", p.RebatesCNY, false}} {
		switch {
		case !a.d.Equal(a.d.Round(2)):
			f.add(field(a.name), FieldAmountPrecision, "at most 2 decimals (the fen)")
		case a.d.Abs().GreaterThanOrEqual(MaxAmountCNY) || (!a.negative && a.d.IsNegative()):
			f.add(field(a.name), FieldAmountRange, "want an amount in [0, %s)%s", MaxAmountCNY, map[bool]string{true: " or its negative", false: ""}[a.negative])
		}
	}
}

func validKind(k string) bool {
	switch k {
	case KindSeller, KindPlatform, KindCarrier, KindPaymentInstitution, KindBank:
		return true
	}
	return false
}
