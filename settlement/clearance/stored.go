package clearance

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
)

// The store keeps a document as its JSON (MarshalJSON: the standard's names,
// personal IDs masked) beside the keyed hash of its one personal ID, if any.
// These two functions are the way there and back.

// StoredID is what the store keeps of a document's personal ID: the keyed
// hash and whether the number's check character was right. The mask is in
// the document's JSON. Hash is "" when the document carries no number.
type StoredID struct {
	Hash  string
	Valid bool
}

// Sealed returns the stored form of d's personal ID. d must have been sealed
// (SealPersonalIDs): a plain number is refused, so that it never reaches
// storage by mistake.
func Sealed(d Document) (StoredID, error) {
	for _, id := range d.personalIDs() {
		switch {
		case id.IsZero():
		case !id.Sealed():
			return StoredID{}, fmt.Errorf("store %s %s: personal ID not sealed", d.Kind(), d.Header().GUID)
		default:
			return StoredID{Hash: id.Hash(), Valid: id.CheckDigitValid()}, nil
		}
	}
	return StoredID{}, nil
}

// Fingerprint is a SHA-256 of a sealed document's JSON and its ID hash: two
// submissions of the same version (same guid, appTime and appType) with the
// same fingerprint are a replay, with different ones a conflict.
func Fingerprint(body []byte, id StoredID) []byte {
	h := sha256.New()
	h.Write(body)
	h.Write([]byte{0})
	h.Write([]byte(id.Hash))
	return h.Sum(nil)
}

// EncodeStored is the JSON the store keeps of a sealed document
// (MarshalJSON), without encoding/json's second pass over it.
func EncodeStored(d Document) ([]byte, error) {
	m, ok := d.(json.Marshaler)
	if !ok {
		return nil, fmt.Errorf("encode %T: not a document", d)
	}
	return m.MarshalJSON()
}

// DecodeStored rebuilds a document from what the store kept: its message
// type, its JSON and its sealed ID. Unlike DecodeJSON it does not validate
// (the document was valid when it was stored, and a masked ID would not
// pass), but it still refuses JSON that does not fit the document.
func DecodeStored(mt MessageType, body []byte, id StoredID) (Document, error) {
	obj, err := readStoredObject(body)
	if err != nil {
		return nil, fmt.Errorf("decode stored %s: %w", mt, err)
	}
	doc, err := NewDocument(mt)
	if err != nil {
		return nil, fmt.Errorf("decode stored document: %w", err)
	}
	var errs []FieldError
	fill(reflect.ValueOf(doc).Elem(), obj, "", &errs)
	if len(errs) > 0 {
		return nil, fmt.Errorf("decode stored %s: %w", mt, &ValidationError{Errors: errs})
	}
	for _, p := range doc.personalIDs() {
		if id.Hash != "" {
			*p = RestorePersonalID(p.Mask(), id.Hash, id.Valid)
		}
	}
	return doc, nil
}

// readStoredObject reads a stored document's JSON into a rawObject. Stored
// JSON was written by MarshalJSON, so it is not checked with json.Valid
// first (the matcher reads every document of every chain it evaluates);
// the scanner still refuses what it cannot split. The "type" member is left
// out: the store's message column is what counts.
func readStoredObject(body []byte) (rawObject, error) {
	s := newJSONScanner(body)
	obj, err := s.object(true)
	if err != nil {
		return rawObject{}, err
	}
	obj.fields = slices.DeleteFunc(obj.fields, func(f rawField) bool { return f.name == "type" })
	return obj, nil
}
