package clearance

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
)

// DecodeJSON reads one document: a JSON object with the head's fields at the
// top level under the standard's names and, for orders and inventories,
// "lines": [{"gnum": 1, …}]. The optional member "type" names the message
// ("order", "export_receipt", "CEB303", …); without it the import message of
// kind want is meant. Pass want "" for a batch item, whose "type" is required.
//
// Decoding is strict: unknown or repeated fields are refused, amounts and
// quantities must be decimal strings ("12.50", never 12.5), integers (appType,
// gnum, packNo) JSON numbers. Currencies may be customs codes ("142") and
// come back as ISO codes; times may be RFC 3339 or the customs
// yyyyMMddHHmmss in China time, and come back in UTC. The document is then
// validated (see Validate).
//
// Errors: a *DecodeError (JSON_MALFORMED) when data is not one JSON object,
// or a *ValidationError listing every field error. On error the document is
// nil: nothing of a refused document may be stored.
func DecodeJSON(data []byte, want Kind) (Document, error) {
	obj, err := readJSONObject(data)
	if err != nil {
		return nil, err
	}
	return decodeObject(obj, want)
}

// DecodeJSONBatch reads the body of a JSON batch, exactly
// {"documents": [document, …]}, each document as DecodeJSON(document, "")
// reads it, but the JSON checked once for the whole body and its text
// copied once. errs[i] is document i's error, if any. ok is false when the
// body is anything else (not JSON, another or a repeated member, documents
// not an array, nothing at all): the caller reads it the long way, which
// says what is wrong.
func DecodeJSONBatch(data []byte) (docs []Document, errs []error, ok bool) {
	if !json.Valid(data) {
		return nil, nil, false
	}
	s := newJSONScanner(data)
	if s.next() != '{' {
		return nil, nil, false
	}
	s.pos++
	if s.next() != '"' || !bytes.HasPrefix(s.data[s.pos:], []byte(`"documents"`)) {
		return nil, nil, false
	}
	s.pos += len(`"documents"`)
	if s.next() != ':' {
		return nil, nil, false
	}
	s.pos++
	if s.next() != '[' {
		return nil, nil, false
	}
	s.pos++
	for s.next() != ']' {
		if len(docs) == MaxBatch {
			// One more than a batch may hold: the caller's long way
			// stops at the same element and says so.
			return nil, nil, false
		}
		if len(docs) > 0 {
			s.pos++ // the comma, which json.Valid vouched for
		}
		var doc Document
		var err error
		if s.next() == '{' {
			var obj rawObject
			if obj, err = s.object(true); err != nil {
				return nil, nil, false
			}
			doc, err = decodeObject(obj, "")
		} else {
			if _, err := s.value(); err != nil {
				return nil, nil, false
			}
			err = decodeErr(CodeJSONMalformed, nil, "a document is a JSON object")
		}
		docs, errs = append(docs, doc), append(errs, err)
	}
	s.pos++
	if s.next() != '}' {
		return nil, nil, false
	}
	return docs, errs, true
}

// decodeObject turns a document read as names and texts into a Document
// and validates it.
func decodeObject(obj rawObject, want Kind) (Document, error) {
	mt, fe := documentType(&obj, want)
	if fe != nil {
		return nil, &ValidationError{Errors: []FieldError{*fe}}
	}
	doc, err := NewDocument(mt)
	if err != nil {
		return nil, fmt.Errorf("decode JSON: %w", err)
	}
	if errs := decodeDocument(doc, obj); len(errs) > 0 {
		return nil, &ValidationError{Errors: errs}
	}
	return doc, nil
}

// documentType takes the "type" member out of obj and resolves it against
// the kind the caller expects.
func documentType(obj *rawObject, want Kind) (MessageType, *FieldError) {
	var typ *rawValue
	for i, f := range obj.fields {
		if f.name == "type" {
			typ = &f.value
			obj.fields = append(obj.fields[:i:i], obj.fields[i+1:]...)
			break
		}
	}
	switch {
	case typ == nil && want == "":
		return "", &FieldError{"type", CodeRequired, "name the document type"}
	case typ == nil:
		return messageFor(want, Import), nil
	case typ.json != '"':
		return "", &FieldError{"type", CodeInvalidType, "must be a JSON string"}
	}
	mt, err := ParseMessageType(typ.text)
	if err != nil {
		return "", &FieldError{"type", CodeInvalidValue, err.Error()}
	}
	if want != "" && mt.Kind() != want {
		return "", &FieldError{"type", CodeWrongType, fmt.Sprintf("%s carries a %s, expected a %s", mt, mt.Kind(), want)}
	}
	return mt, nil
}

// decodeDocument fills doc from obj and validates it. A document that was
// not read whole (too many fields) is refused with TOO_MANY_FIELDS alone:
// what was read of it, and what was left unread and would come back as
// REQUIRED, would only bury the one error that matters.
func decodeDocument(doc Document, obj rawObject) []FieldError {
	obj.refuseControl()
	var errs []FieldError
	fill(reflect.ValueOf(doc).Elem(), obj, "", &errs)
	if obj.anyTruncated() {
		return slices.DeleteFunc(errs, func(fe FieldError) bool { return fe.Code != CodeTooManyFields })
	}
	return mergeErrors(errs, Validate(doc))
}

// mergeErrors appends the validation errors to the read errors, except for
// fields that could not be read and what lies under them ("lines[1]" covers
// "lines[1].qty"): those are reported once, not again as, say, REQUIRED
// because they stayed empty. Each error costs a look-up per level of its
// path, so that many errors of both kinds do not make it quadratic.
func mergeErrors(readErrs, validationErrs []FieldError) []FieldError {
	if len(readErrs) == 0 {
		return validationErrs
	}
	unread := make(map[string]bool, len(readErrs))
	for _, r := range readErrs {
		unread[r.Field] = true
	}
	out := readErrs
	for _, fe := range validationErrs {
		if !coveredBy(unread, fe.Field) {
			out = append(out, fe)
		}
	}
	return out
}

// coveredBy reports whether field or a field it lies under is in unread.
func coveredBy(unread map[string]bool, field string) bool {
	for i := 0; i < len(field); i++ {
		if (field[i] == '.' || field[i] == '[') && unread[field[:i]] {
			return true
		}
	}
	return unread[field]
}

// readJSONObject reads one JSON object into a rawObject (jsonScanner.object):
// a "lines" member must be an array of objects, read the same way.
func readJSONObject(data []byte) (rawObject, error) {
	if !json.Valid(data) {
		// Only for the message: encoding/json says what is wrong where.
		err := json.Unmarshal(data, new(any))
		return rawObject{}, decodeErr(CodeJSONMalformed, err, "a document is one JSON object")
	}
	s := newJSONScanner(data)
	if s.next() != '{' {
		return rawObject{}, decodeErr(CodeJSONMalformed, nil, "a document is a JSON object")
	}
	obj, err := s.object(true)
	if err != nil {
		return rawObject{}, decodeErr(CodeJSONMalformed, err, "read the document")
	}
	return obj, nil
}
