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
