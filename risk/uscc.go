package risk

import (
	"fmt"
	"strings"

	"github.com/xbsettle/xbsettle/internal/apperr"
)

// usccCharset is the code's alphabet (GB 32100-2015 §4): digits and the
// capital letters without I, O, S, V and Z. A character's value in the
// check computation is its index here.
const usccCharset = "0123456789ABCDEFGHJKLMNPQRTUWXY"

// usccWeights are the check weights of positions 1-17: 3^(i-1) mod 31.
var usccWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// usccOrgTypes maps each registration-authority code (1st character) to the
// organisation-type codes (2nd character) it assigns: GB 32100-2015
// appendix A as amended for the authorities added since (civil affairs 4
// and 5: villagers' and residents' committees).
var usccOrgTypes = map[byte]string{
	'1': "1239",   // institutional establishment: organs, public institutions, mass organisations
	'2': "19",     // foreign affairs: resident foreign news agencies
	'3': "123459", // justice: law firms, notaries, legal services, forensic appraisal, arbitration
	'4': "19",     // culture: foreign cultural centres
	'5': "123459", // civil affairs: social organisations, private non-enterprises, foundations, committees
	'6': "129",    // tourism: foreign tourism offices
	'7': "129",    // religion: venues, colleges
	'8': "19",     // trade unions
	'9': "123",    // market regulation: enterprises, individual businesses, farmers' cooperatives
	'A': "19",     // military establishment
	'N': "1239",   // agriculture: rural collective economic organisations
	'Y': "1",      // other
}

// usccProvinces are the first two digits of a GB/T 2260 division code;
// "10" is the national level (organisations registered centrally). Tokens
// are two digits apart, so a two-digit substring match is a whole token.
const usccProvinces = "10 11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65 71 81 82"

// NormalizeUSCC trims spaces and upper-cases s, the only liberties taken
// with a code someone typed. ValidateUSCC itself accepts exactly the
// canonical form, so what is stored is what was validated.
func NormalizeUSCC(s string) string { return strings.ToUpper(strings.TrimSpace(s)) }

// ValidateUSCC checks a unified social credit code (统一社会信用代码, GB
// 32100-2015): 18 characters of usccCharset; a registration authority and
// an organisation type it assigns; six digits of an administrative division
// code; and the check character, 31 − (Σ value·weight mod 31) with 31 → 0.
//
// It returns nil or a VALIDATION_FAILED *apperr.Error naming USCCField with
// the first failed check's field code (FieldUSCCLength … FieldUSCCCheck).
//
//	err := risk.ValidateUSCC(risk.NormalizeUSCC(body.USCC))
func ValidateUSCC(s string) error {
	if n := len(s); n != 18 {
		return usccInvalid(FieldUSCCLength, "has %d bytes, not 18 characters", n)
	}
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(usccCharset, s[i]) < 0 {
			return usccInvalid(FieldUSCCCharacter, "character %d %q is not one of %s", i+1, s[i], usccCharset)
		}
	}
	types, ok := usccOrgTypes[s[0]]
	if !ok {
		return usccInvalid(FieldUSCCAuthority, "registration authority %q is not one of 1-9, A, N, Y", s[0])
	}
	if strings.IndexByte(types, s[1]) < 0 {
		return usccInvalid(FieldUSCCOrgType, "organisation type %q is not one authority %q assigns (%s)", s[1], s[0], types)
	}
	division := s[2:8]
	for i := 0; i < len(division); i++ {
		if division[i] < '0' || division[i] > '9' {
			return usccInvalid(FieldUSCCDivision, "division code %q is not six digits", division)
		}
	}
	if !strings.Contains(usccProvinces, division[:2]) {
		return usccInvalid(FieldUSCCDivision, "division code %q names no province", division)
	}
	if want := usccCheckChar(s[:17]); s[17] != want {
		return usccInvalid(FieldUSCCCheck, "check character is %q, the first 17 characters give %q", s[17], want)
	}
	return nil
}

// usccCheckChar computes the 18th character of body, 17 characters of
// usccCharset.
func usccCheckChar(body string) byte {
	sum := 0
	for i := 0; i < 17; i++ {
		sum += strings.IndexByte(usccCharset, body[i]) * usccWeights[i]
	}
	return usccCharset[(31-sum%31)%31]
}

func usccInvalid(code, format string, args ...any) error {
	return apperr.Invalid([]apperr.FieldError{{Field: USCCField, Code: code, Message: fmt.Sprintf(format, args...)}})
}
