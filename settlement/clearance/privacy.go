package clearance

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// PersonalID is a buyer's or payer's ID number. It is personal data: every
// way of printing it (String, %v, %#v, %d …, slog, JSON, XML, text) gives the
// mask "4403**********123X", never the number. The number itself is read only
// through Reveal, for hashing and check-digit validation.
//
// An ID is either plain (just decoded) or sealed: Seal replaces the number by
// its keyed hash, keeping the mask and whether its GB 11643 check character
// was right, which is all matching needs. The store keeps sealed IDs
// (RestorePersonalID rebuilds one), so the number is never at rest.
type PersonalID struct {
	raw    string
	mask   string
	hash   string
	sealed bool
	checks bool // sealed only: the GB 11643 check character was right
}

// ParsePersonalID takes an ID number as received; surrounding spaces are
// dropped and a final check character x becomes X.
func ParsePersonalID(s string) PersonalID {
	raw := strings.ToUpper(strings.TrimSpace(s))
	return PersonalID{raw: raw, mask: MaskID(raw)}
}

// RestorePersonalID rebuilds a sealed ID from what the store kept: its mask,
// its hash (from Seal or HashID) and whether its check character was right.
func RestorePersonalID(mask, hash string, checkDigitValid bool) PersonalID {
	return PersonalID{mask: mask, hash: hash, sealed: true, checks: checkDigitValid}
}

// MinHashKeyLen is the shortest key HashID accepts (256 bits).
const MinHashKeyLen = 32

// HashID is the keyed hash the store keeps instead of an ID number:
// hex(HMAC-SHA256(key, number)). ID numbers are few and structured enough to
// be guessed, so an unkeyed hash would not protect them; the key must stay
// secret and the same for every ID that is ever compared.
func HashID(key []byte, number string) (string, error) {
	if len(key) < MinHashKeyLen {
		return "", ErrHashKeyTooShort
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(number))
	return hex.EncodeToString(mac.Sum(nil)), nil
}

// Seal returns the ID with its number replaced by HashID(key, number). A
// sealed or empty ID is returned as it is.
func (p PersonalID) Seal(key []byte) (PersonalID, error) {
	if p.sealed || p.IsZero() {
		return p, nil
	}
	h, err := HashID(key, p.raw)
	if err != nil {
		return PersonalID{}, fmt.Errorf("seal personal ID: %w", err)
	}
	return PersonalID{mask: p.mask, hash: h, sealed: true, checks: ResidentIDValid(p.raw)}, nil
}

// SealPersonalIDs seals every personal ID of d in place (see PersonalID.Seal).
// Call it before a document is stored or logged.
func SealPersonalIDs(d Document, key []byte) error {
	for _, id := range d.personalIDs() {
		s, err := id.Seal(key)
		if err != nil {
			return err
		}
		*id = s
	}
	return nil
}

// IsZero reports whether no ID was given.
func (p PersonalID) IsZero() bool { return p.raw == "" && !p.sealed }

// Sealed reports whether the number was replaced by its hash.
func (p PersonalID) Sealed() bool { return p.sealed }

// Mask is the printable form: first 4 and last 4 characters kept.
func (p PersonalID) Mask() string { return p.mask }

// Hash is the keyed hash of a sealed ID, "" for a plain one.
func (p PersonalID) Hash() string { return p.hash }

// Reveal returns the ID number, "" once sealed. Use it only to hash or
// validate the number; never print, log or return it.
func (p PersonalID) Reveal() string { return p.raw }

// Equal reports whether p and q are the same number. Both must be plain or
// both sealed with the same key: a plain and a sealed ID never compare equal,
// so a chain is matched with all its IDs in one form.
func (p PersonalID) Equal(q PersonalID) bool {
	if p.sealed != q.sealed {
		return false
	}
	if p.sealed {
		return p.hash == q.hash
	}
	return p.raw == q.raw
}

// CheckDigitValid reports whether the number is a resident ID number with a
// right GB 11643 check character.
func (p PersonalID) CheckDigitValid() bool {
	if p.sealed {
		return p.checks
	}
	return ResidentIDValid(p.raw)
}

// String returns the mask.
func (p PersonalID) String() string { return p.mask }

// Format prints the mask whatever the verb, so that %v, %+v, %#v, %s or %d of
// a document never show the number.
func (p PersonalID) Format(f fmt.State, _ rune) { io.WriteString(f, p.mask) }

// LogValue logs the mask.
func (p PersonalID) LogValue() slog.Value { return slog.StringValue(p.mask) }

// MarshalText writes the mask; encoding/json and encoding/xml use it.
func (p PersonalID) MarshalText() ([]byte, error) { return []byte(p.mask), nil }

// MaskID keeps the first and last four characters and stars the rest:
// MaskID("44030519900101123X") == "4403**********123X". A value of eight
// characters or fewer is starred entirely, since keeping 4+4 would show it all.
func MaskID(s string) string {
	r := []rune(s)
	if len(r) <= 8 {
		return strings.Repeat("*", len(r))
	}
	return string(r[:4]) + strings.Repeat("*", len(r)-8) + string(r[len(r)-4:])
}

// gb11643Weights and gb11643Check are the GB 11643-1999 check character
// table: the weighted sum of the first 17 digits modulo 11 indexes the check.
var gb11643Weights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

const gb11643Check = "10X98765432"

// residentIDShape reports whether s looks like a resident ID number: 17
// digits and a digit or X. It does not check the check character.
func residentIDShape(s string) bool {
	if len(s) != 18 || !allDigits(s[:17]) {
		return false
	}
	last := s[17]
	return last == 'X' || last >= '0' && last <= '9'
}

// ResidentIDValid reports whether s is a resident ID number (18 characters)
// whose check character is right under GB 11643-1999.
func ResidentIDValid(s string) bool {
	if !residentIDShape(s) {
		return false
	}
	sum := 0
	for i, w := range gb11643Weights {
		sum += int(s[i]-'0') * w
	}
	return s[17] == gb11643Check[sum%11]
}
