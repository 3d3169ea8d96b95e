package risk

import (
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// Values are indexes in 0123456789ABCDEFGHJKLMNPQRTUWXY (A=10 … H=17, J=18,
// K=19, L=20, M=21, N=22, P=23, Q=24, R=25, T=26, U=27, W=28, X=29, Y=30);
// weights 1 3 9 27 19 26 16 17 20 29 25 13 8 24 10 30 28.
func TestValidateUSCCAcceptsHandComputedCodes(t *testing.T) {
	t.Parallel()
	for _, code := range []string{
		// 9 1 3 5 0 1 0 0 M 0 0 0 1 0 0 Y 4:
		// 9·1 + 1·3 + 3·9 + 5·27 + 0 + 1·26 + 0 + 0 + 21·20 + 0 + 0 + 0 + 1·8 + 0 + 0 + 30·30 + 4·28
		// = 9 + 3 + 27 + 135 + 26 + 420 + 8 + 900 + 112 = 1640; 1640 mod 31 = 28; 31 − 28 = 3.
		"91350100M000100Y43",
		// 9 1 4 4 0 3 0 0 M A 5 F 0 0 0 0 1:
		// 9 + 3 + 36 + 108 + 0 + 78 + 0 + 0 + 420 + 10·29 + 5·25 + 15·13 + 0 + 0 + 0 + 0 + 28
		// = 9 + 3 + 36 + 108 + 78 + 420 + 290 + 125 + 195 + 28 = 1292; mod 31 = 21; 31 − 21 = 10 → A.
		"91440300MA5F00001A",
		// The same with 8 last: 1292 − 28 + 8·28 = 1488 = 48·31; mod 31 = 0; 31 − 0 = 31 → 0.
		"91440300MA5F000080",
		// Civil affairs (5), social organisation (1): 5 1 4 4 0 3 0 0 M J L 0 0 0 0 1 7:
		// 5 + 3 + 36 + 108 + 0 + 78 + 0 + 0 + 420 + 18·29 + 20·25 + 0 + 0 + 0 + 0 + 1·30 + 7·28
		// = 5 + 3 + 36 + 108 + 78 + 420 + 522 + 500 + 30 + 196 = 1898; mod 31 = 7; 31 − 7 = 24 → Q.
		"51440300MJL000017Q",
		// Institutional establishment (1), public institution (2), national division 100000:
		// 1 2 1 0 0 0 0 0 4 0 0 0 0 0 6 2 4: 1 + 6 + 9 + 4·20 + 6·10 + 2·30 + 4·28
		// = 1 + 6 + 9 + 80 + 60 + 60 + 112 = 328; mod 31 = 18; 31 − 18 = 13 → D.
		"12100000400000624D",
		// Other (Y), type 1: 30·1 + 1·3 + 1·9 + 1·27 = 69; mod 31 = 7; 31 − 7 = 24 → Q.
		"Y1110000000000000Q",
	} {
		if err := ValidateUSCC(code); err != nil {
			t.Errorf("ValidateUSCC(%s) = %v, want nil", code, err)
		}
	}
}

func TestValidateUSCCNamesEachCorruption(t *testing.T) {
	t.Parallel()
	const valid = "91440300MA5F00001A"
	for _, tc := range []struct {
		name, code, want string
	}{
		{"empty", "", FieldUSCCLength},
		{"17 characters", valid[:17], FieldUSCCLength},
		{"19 characters", valid + "0", FieldUSCCLength},
		{"multi-byte character", "91440300MA5F0000统", FieldUSCCLength}, // 20 bytes
		{"lower case", strings.ToLower(valid), FieldUSCCCharacter},
		{"letter I", "91440300MI5F00001A", FieldUSCCCharacter},
		{"letter O", "91440300MO5F00001A", FieldUSCCCharacter},
		{"letter S", "91440300MS5F00001A", FieldUSCCCharacter},
		{"letter V", "91440300MV5F00001A", FieldUSCCCharacter},
		{"letter Z", "91440300MZ5F00001A", FieldUSCCCharacter},
		{"space", "91440300MA5F 0001A", FieldUSCCCharacter},
		{"check character Z", "91440300MA5F00001Z", FieldUSCCCharacter},
		{"no authority 0", "01440300MA5F00001A", FieldUSCCAuthority},
		{"no authority B", "B1440300MA5F00001A", FieldUSCCAuthority},
		{"market regulation has no type 9", "99440300MA5F00001A", FieldUSCCOrgType},
		{"other has no type 2", "Y2440300MA5F00001A", FieldUSCCOrgType},
		{"type letter", "9A440300MA5F00001A", FieldUSCCOrgType},
		{"letter in division", "9144A300MA5F00001A", FieldUSCCDivision},
		{"no province 99", "91990300MA5F00001A", FieldUSCCDivision},
		{"no province 00", "91000000MA5F00001A", FieldUSCCDivision},
		{"wrong check character", "91440300MA5F00001B", FieldUSCCCheck},
		{"check of another body", "91440300MA5F000013", FieldUSCCCheck},
		{"subject digit changed", "91440300MA5F00002A", FieldUSCCCheck},
		{"adjacent transposition", "91440300AM5F00001A", FieldUSCCCheck},
	} {
		if got := fieldCode(t, ValidateUSCC(tc.code)); got != tc.want {
			t.Errorf("%s: ValidateUSCC(%q) field code %s, want %s", tc.name, tc.code, got, tc.want)
		}
	}
}

func TestNormalizeUSCC(t *testing.T) {
	t.Parallel()
	if got := NormalizeUSCC(" 91440300ma5f00001a\n"); got != "91440300MA5F00001A" || ValidateUSCC(got) != nil {
		t.Errorf("NormalizeUSCC = %q", got)
	}
}

// genUSCC draws a well-formed code with its check character.
func genUSCC(t *rapid.T) string {
	authorities := "123456789ANY"
	a := authorities[rapid.IntRange(0, len(authorities)-1).Draw(t, "authority")]
	types := usccOrgTypes[a]
	provinces := strings.Fields(usccProvinces)
	body := string(a) + string(types[rapid.IntRange(0, len(types)-1).Draw(t, "type")]) +
		rapid.SampledFrom(provinces).Draw(t, "province") +
		rapid.StringMatching(`[0-9]{4}`).Draw(t, "division") +
		rapid.StringMatching(`[0-9A-HJ-NPQRTUWXY]{9}`).Draw(t, "subject")
	return body + string(usccCheckChar(body))
}

// Any single substitution and any transposition of two different adjacent
// characters is refused: the weights are distinct and non-zero mod 31.
func TestValidateUSCCCatchesEverySubstitutionAndTransposition(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		code := genUSCC(t)
		if err := ValidateUSCC(code); err != nil {
			t.Fatalf("generated %s: %v", code, err)
		}
		i := rapid.IntRange(0, 17).Draw(t, "position")
		c := usccCharset[rapid.IntRange(0, len(usccCharset)-1).Draw(t, "char")]
		if c != code[i] {
			if bad := code[:i] + string(c) + code[i+1:]; ValidateUSCC(bad) == nil {
				t.Fatalf("substitution %s → %s accepted", code, bad)
			}
		}
		if j := rapid.IntRange(0, 16).Draw(t, "swap"); code[j] != code[j+1] {
			swapped := code[:j] + string(code[j+1]) + string(code[j]) + code[j+2:]
			if ValidateUSCC(swapped) == nil {
				t.Fatalf("transposition %s → %s accepted", code, swapped)
			}
		}
	})
}
