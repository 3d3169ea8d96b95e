package risk

import "github.com/xbsettle/xbsettle/internal/apperr"

// Errors of the risk core. Each has a stable code (docs/risk.md lists them);
// compare with errors.Is, since the returned value carries a more specific
// message. A malformed unified social credit code is apperr.Invalid
// (VALIDATION_FAILED) with one of the USCC field codes below.
var (
	// ErrInputInvalid: a classification, tax-class or feature input breaks
	// its contract (a negative amount, counts that do not add up, an unknown
	// status). The storage layer built it, so it is a fault to fix there,
	// not something an API client can correct.
	ErrInputInvalid = apperr.New("RISK_INPUT_INVALID", "the risk input is inconsistent")
	// ErrThresholdsNotFound: no FX threshold table of that version is embedded.
	ErrThresholdsNotFound = apperr.New("THRESHOLDS_VERSION_NOT_FOUND", "no FX category threshold table has this version")
	// ErrScorecardNotFound: no scorecard model of that version is embedded.
	ErrScorecardNotFound = apperr.New("SCORECARD_VERSION_NOT_FOUND", "no scorecard model has this version")
)

// USCCField is the field a unified social credit code is reported under,
// the enterprise's column and JSON name (DESIGN §7).
const USCCField = "unified_social_credit_code"

// Field codes of the VALIDATION_FAILED error ValidateUSCC returns, one per
// way a code can be wrong, checked in this order.
const (
	FieldUSCCLength    = "USCC_LENGTH"     // not 18 characters
	FieldUSCCCharacter = "USCC_CHARACTER"  // a character outside 0-9 and A-Y without I, O, S, V, Z
	FieldUSCCAuthority = "USCC_AUTHORITY"  // 1st character: no such registration authority
	FieldUSCCOrgType   = "USCC_ORG_TYPE"   // 2nd character: not a type that authority registers
	FieldUSCCDivision  = "USCC_DIVISION"   // characters 3-8: not an administrative division code
	FieldUSCCCheck     = "USCC_CHECK_CHAR" // 18th character: not the check character of the first 17
)

// Errors of the risk service (enterprises, consents, classifications and
// credit assessments). docs/risk.md and docs/errors.md list each code with
// its HTTP status.
var (
	// ErrEnterpriseNotFound: no enterprise has this customs code, or the
	// caller may not see it.
	ErrEnterpriseNotFound = apperr.New("ENTERPRISE_NOT_FOUND", "no such enterprise")
	// ErrEnterpriseExists: the customs code is registered with other data.
	ErrEnterpriseExists = apperr.New("ENTERPRISE_EXISTS", "an enterprise with this customs code is registered with other data")
	// ErrConsentRequired: the enterprise has not consented to be assessed
	// by this bank, or its consent has lapsed.
	ErrConsentRequired = apperr.New("CONSENT_REQUIRED", "the enterprise has no valid consent for this bank")
	// ErrAssessmentNotFound: no such credit assessment for this bank.
	ErrAssessmentNotFound = apperr.New("CREDIT_ASSESSMENT_NOT_FOUND", "no such credit assessment")
	// ErrClassificationNotFound: no such FX category proposal.
	ErrClassificationNotFound = apperr.New("CLASSIFICATION_NOT_FOUND", "no such classification proposal")
	// ErrRunNotFound: no such classification run.
	ErrRunNotFound = apperr.New("CLASSIFICATION_RUN_NOT_FOUND", "no such classification run")
	// ErrNotPending: the proposal was already decided or superseded.
	ErrNotPending = apperr.New("CLASSIFICATION_NOT_PENDING", "the proposal is no longer pending: it was decided or superseded")
	// ErrViolationExists: the violation reference is recorded with other data.
	ErrViolationExists = apperr.New("VIOLATION_EXISTS", "a violation with this reference is recorded with other data")
)

// Field codes of the VALIDATION_FAILED errors of the risk service, next to
// the API's own (REQUIRED, TOO_LONG, DATE_INVALID, AMOUNT_*).
const (
	FieldRequired          = "REQUIRED"
	FieldTooLong           = "TOO_LONG"
	FieldCustomsCode       = "CUSTOMS_CODE_INVALID"    // not 10 of 0-9 A-Z
	FieldEnterpriseKind    = "ENTERPRISE_KIND_INVALID" // not seller, platform, carrier, payment_institution or bank
	FieldDateInFuture      = "DATE_IN_FUTURE"
	FieldDateInPast        = "DATE_IN_PAST"
	FieldExporterKind      = "EXPORTER_KIND_INVALID" // not manufacturer or trader
	FieldRating            = "RATING_INVALID"        // not A, B, M, C, D or ""
	FieldAmountRange       = "AMOUNT_OUT_OF_RANGE"
	FieldAmountPrecision   = "AMOUNT_PRECISION"
	FieldBankUnknown       = "BANK_UNKNOWN"        // not a registered enterprise of kind bank
	FieldSeverity          = "SEVERITY_INVALID"    // not minor or serious
	FieldGapKind           = "GAP_KIND_INVALID"    // not missing or late
	FieldCategory          = "CATEGORY_INVALID"    // not A, B or C
	FieldAction            = "ACTION_INVALID"      // not approve or override
	FieldStatus            = "STATUS_INVALID"      // not a proposal status
	FieldPeriod            = "PERIOD_INVALID"      // an empty, too long or future review period
	FieldTooMany           = "TOO_MANY"            // a list over its bound
	FieldCategoryRedundant = "CATEGORY_UNEXPECTED" // a category sent with approve
)
