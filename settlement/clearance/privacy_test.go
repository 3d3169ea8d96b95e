package clearance

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestMaskID(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"44030519900101123X": "4403**********123X",
		"110105198512120022": "1101**********0022",
		"E12345678":          "E123*5678",
		"12345678":           "********",
		"":                   "",
	} {
		if got := MaskID(in); got != want {
			t.Errorf("MaskID(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestResidentIDValid(t *testing.T) {
	t.Parallel()
	for _, id := range []string{"44030519900101123X", "110105198512120022"} {
		if !ResidentIDValid(id) {
			t.Errorf("%s: valid fixture ID refused", id)
		}
		// GB 11643 catches every single-digit error: each weight is prime to 11.
		for i := range 17 {
			b := []byte(id)
			b[i] = '0' + (b[i]-'0'+1)%10
			if ResidentIDValid(string(b)) {
				t.Errorf("%s with digit %d changed (%s) accepted", id, i+1, b)
			}
		}
	}
	for _, id := range []string{"44030519900101123", "440305199001011230", "44030519900101123x", "4403051990O101123X", "1101051985121200222"} {
		if ResidentIDValid(id) {
			t.Errorf("%s accepted", id)
		}
	}
}

// rawIDPart is in both fixture ID numbers' hidden middle, never in a mask.
var rawIDParts = []string{"0519900101", "0519851212"}

func assertNoRawID(t *testing.T, what, out string) {
	t.Helper()
	for _, p := range rawIDParts {
		if strings.Contains(out, p) {
			t.Errorf("%s shows an ID number: %s", what, out)
		}
	}
	if !strings.Contains(out, "4403**********123X") && !strings.Contains(out, "1101**********0022") {
		t.Errorf("%s shows no mask: %s", what, out)
	}
}

// TestPersonalIDNeverPrinted prints and logs documents and verdicts every
// way we know and finds the mask only.
func TestPersonalIDNeverPrinted(t *testing.T) {
	t.Parallel()
	c := fixtureChain(t, order1)
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%d", "%x", "%q"} {
		assertNoRawID(t, "fmt "+verb+" order", fmt.Sprintf(verb, c.Order))
		assertNoRawID(t, "fmt "+verb+" inventory", fmt.Sprintf(verb, *c.Inventory))
		assertNoRawID(t, "fmt "+verb+" id", fmt.Sprintf(verb, c.Payment.PayerIDNumber))
	}
	var logs bytes.Buffer
	for _, h := range []slog.Handler{slog.NewJSONHandler(&logs, nil), slog.NewTextHandler(&logs, nil)} {
		slog.New(h).Info("stored", "order", c.Order, "payment", *c.Payment, "id", c.Order.BuyerIDNumber)
	}
	assertNoRawID(t, "slog", logs.String())
	for _, v := range []any{c.Order, c.Payment, c.Inventory, c.Order.BuyerIDNumber} {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		assertNoRawID(t, fmt.Sprintf("JSON of %T", v), string(b))
	}
	type holder struct{ ID PersonalID }
	b, err := xml.Marshal(holder{c.Order.BuyerIDNumber})
	if err != nil {
		t.Fatal(err)
	}
	assertNoRawID(t, "XML", string(b))
	c.Payment.PayerIDNumber = ParsePersonalID("110105198512120022")
	v, _ := json.Marshal(Match(c))
	assertNoRawID(t, "verdict", string(v))
}

func TestSealPersonalID(t *testing.T) {
	t.Parallel()
	key := bytes.Repeat([]byte{7}, MinHashKeyLen)
	other := bytes.Repeat([]byte{8}, MinHashKeyLen)
	good, bad := ParsePersonalID("44030519900101123X"), ParsePersonalID("44030519900101124X")
	sealed, err := good.Seal(key)
	if err != nil {
		t.Fatal(err)
	}
	if sealed.Reveal() != "" || len(sealed.Hash()) != 64 || sealed.Mask() != "4403**********123X" || !sealed.CheckDigitValid() {
		t.Errorf("sealed = reveal %q hash %q mask %q valid %v", sealed.Reveal(), sealed.Hash(), sealed.Mask(), sealed.CheckDigitValid())
	}
	again, _ := ParsePersonalID("44030519900101123x").Seal(key)
	otherKey, _ := good.Seal(other)
	sealedBad, _ := bad.Seal(key)
	resealed, _ := sealed.Seal(other)
	restored := RestorePersonalID(sealed.Mask(), sealed.Hash(), true)
	tests := []struct {
		name string
		a, b PersonalID
		want bool
	}{
		{"same number, same key", sealed, again, true},
		{"restored from the store", sealed, restored, true},
		{"sealing twice changes nothing", sealed, resealed, true},
		{"other key", sealed, otherKey, false},
		{"other number", sealed, sealedBad, false},
		{"plain against sealed", good, sealed, false},
		{"plain against plain", good, ParsePersonalID("44030519900101123X"), true},
	}
	for _, tt := range tests {
		if got := tt.a.Equal(tt.b); got != tt.want {
			t.Errorf("%s: Equal = %v, want %v", tt.name, got, tt.want)
		}
	}
	if sealedBad.CheckDigitValid() {
		t.Error("a sealed ID forgot that its check character was wrong")
	}
	if _, err := good.Seal(key[:31]); !errors.Is(err, ErrHashKeyTooShort) {
		t.Errorf("31-byte key: err %v, want ErrHashKeyTooShort", err)
	}
	if h, _ := HashID(key, "44030519900101123X"); h != sealed.Hash() {
		t.Errorf("HashID %s differs from the sealed hash %s", h, sealed.Hash())
	}
}

func TestSealPersonalIDsOfADocument(t *testing.T) {
	t.Parallel()
	c := fixtureChain(t, order1)
	key := bytes.Repeat([]byte{7}, MinHashKeyLen)
	for _, d := range c.documents() {
		if err := SealPersonalIDs(d, key); err != nil {
			t.Fatal(err)
		}
	}
	if !c.Order.BuyerIDNumber.Sealed() || !c.Payment.PayerIDNumber.Sealed() || !c.Inventory.BuyerIDNumber.Sealed() {
		t.Fatal("an ID was left plain")
	}
	if errs := Validate(c.Order); errs != nil {
		t.Errorf("sealed order refused: %v", errs)
	}
	if v := Match(c); v.Status != StatusVerified {
		t.Errorf("sealed chain: %s %q", v.Status, failures(v.Failed))
	}
}
