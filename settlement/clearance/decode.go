package clearance

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
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
	obj, err := readJSONObject(data, true)
	if err != nil {
		return nil, err
	}
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

// decodeDocument fills doc from obj and validates it.
func decodeDocument(doc Document, obj rawObject) []FieldError {
	var errs []FieldError
	fill(reflect.ValueOf(doc).Elem(), obj, "", &errs)
	return mergeErrors(errs, Validate(doc))
}

// mergeErrors appends the validation errors to the read errors, except for
// fields that could not be read and what lies under them ("lines[1]" covers
// "lines[1].qty"): those are reported once, not again as, say, REQUIRED
// because they stayed empty.
func mergeErrors(readErrs, validationErrs []FieldError) []FieldError {
	out := readErrs
	for _, fe := range validationErrs {
		covered := slices.ContainsFunc(readErrs, func(r FieldError) bool {
			rest, ok := strings.CutPrefix(fe.Field, r.Field)
			return ok && (rest == "" || rest[0] == '.' || rest[0] == '[')
		})
		if !covered {
			out = append(out, fe)
		}
	}
	return out
}

// readJSONObject reads one JSON object into a rawObject. At the top level a
// "lines" member must be an array of objects, read the same way.
func readJSONObject(data []byte, top bool) (rawObject, error) {
	var obj rawObject
	dec := json.NewDecoder(bytes.NewReader(data))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return obj, decodeErr(CodeJSONMalformed, err, "a document is a JSON object")
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return obj, decodeErr(CodeJSONMalformed, err, "read member name")
		}
		name, _ := t.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return obj, decodeErr(CodeJSONMalformed, err, "read member %q", name)
		}
		switch {
		case raw[0] == 'n': // null is absence
		case top && name == "lines":
			if obj.hasLines {
				obj.errs = append(obj.errs, FieldError{"lines", CodeDuplicateField, "field is given more than once"})
				continue
			}
			if err := obj.readJSONLines(raw); err != nil {
				return obj, err
			}
		default:
			v := rawValue{text: string(raw), json: raw[0]}
			if raw[0] == '"' {
				if err := json.Unmarshal(raw, &v.text); err != nil {
					return obj, decodeErr(CodeJSONMalformed, err, "read member %q", name)
				}
				v.text = strings.TrimSpace(v.text)
			}
			obj.add(name, v)
		}
	}
	if _, err := dec.Token(); err != nil {
		return obj, decodeErr(CodeJSONMalformed, err, "unterminated object")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return obj, decodeErr(CodeJSONMalformed, err, "data after the document")
	}
	return obj, nil
}

// readJSONLines reads the "lines" array into o.lines.
func (o *rawObject) readJSONLines(raw json.RawMessage) error {
	o.hasLines = true
	if raw[0] != '[' {
		o.errs = append(o.errs, FieldError{"lines", CodeInvalidType, "must be an array of lines"})
		return nil
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(raw, &elems); err != nil {
		return decodeErr(CodeJSONMalformed, err, "read lines")
	}
	o.lines = make([]rawObject, len(elems))
	for i, e := range elems {
		if e = bytes.TrimSpace(e); len(e) == 0 || e[0] != '{' {
			o.errs = append(o.errs, FieldError{fmt.Sprintf("lines[%d]", i), CodeInvalidType, "a line is a JSON object"})
			continue
		}
		line, err := readJSONObject(e, false)
		if err != nil {
			return err
		}
		o.lines[i] = line
	}
	return nil
}
