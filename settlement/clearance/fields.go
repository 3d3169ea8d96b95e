package clearance

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/shopspring/decimal"
	"github.com/xbsettle/xbsettle/ledger"
)

// The JSON and XML decoders first read a body into rawObjects (names and
// texts, nothing interpreted), then one function, fill, turns them into Go
// values. Both formats therefore share every parsing rule, and an XML message
// and its JSON twin decode to identical values by construction.

// rawValue is one field as it arrived.
type rawValue struct {
	text string // trimmed XML character data, a JSON string's content or a JSON literal
	json byte   // JSON only: the value's first byte ('"', '0'-'9', '-', 't', '{', …); 0 for XML
}

// isNumber reports whether the value is a JSON number.
func (v rawValue) isNumber() bool { return v.json == '-' || (v.json >= '0' && v.json <= '9') }

type rawField struct {
	name  string
	value rawValue
}

// rawObject is a head and its lines as read, in the order they came.
type rawObject struct {
	fields    []rawField
	names     map[string]struct{} // the fields' names, once there are more than linearNames
	members   int                 // members read, duplicates and lines included
	truncated bool                // more than MaxFields members: the rest was not read
	lines     []rawObject
	hasLines  bool
	errs      []FieldError // found while reading: duplicate names, lines not an array, …
}

// linearNames is up to how many fields a duplicate is looked for by
// comparing names; beyond, by a set. Either way a field costs a bounded
// amount of work, so that no object makes reading it quadratic.
const linearNames = 48

// admit counts a member about to be read and reports whether it may be:
// once an object has MaxFields members, the next is refused with one
// TOO_MANY_FIELDS and the caller skips the rest of the object.
func (o *rawObject) admit(name string) bool {
	if o.truncated {
		return false
	}
	if o.members == MaxFields {
		o.truncated = true
		o.errs = append(o.errs, FieldError{name, CodeTooManyFields,
			fmt.Sprintf("an object has at most %d fields; reading stopped here", MaxFields)})
		return false
	}
	o.members++
	return true
}

// anyTruncated reports whether o or one of its lines was not read whole.
func (o *rawObject) anyTruncated() bool {
	if o.truncated {
		return true
	}
	for i := range o.lines {
		if o.lines[i].truncated {
			return true
		}
	}
	return false
}

// add appends a field, or records a duplicate: two values for one name are
// refused rather than letting the last one win.
func (o *rawObject) add(name string, v rawValue) {
	if o.has(name) {
		o.errs = append(o.errs, FieldError{name, CodeDuplicateField, "field is given more than once"})
		return
	}
	o.fields = append(o.fields, rawField{name, v})
	switch {
	case o.names != nil:
		o.names[name] = struct{}{}
	case len(o.fields) > linearNames:
		o.names = make(map[string]struct{}, 2*len(o.fields))
		for _, f := range o.fields {
			o.names[f.name] = struct{}{}
		}
	}
}

// refuseControl records CONTROL_CHARACTER for every field of o and of its
// lines whose text holds a control character (Unicode Cc: U+0000–U+001F,
// U+007F–U+009F, tab and newline included): no field of the standard is
// multi-line, and a NUL cannot even be stored. Only what comes in is
// checked, not what the store gives back.
func (o *rawObject) refuseControl() {
	for _, f := range o.fields {
		if strings.ContainsFunc(f.value.text, unicode.IsControl) {
			o.errs = append(o.errs, FieldError{f.name, CodeControlCharacter, "control characters (U+0000–U+001F, U+007F–U+009F) are not accepted, tab and newline included"})
		}
	}
	for i := range o.lines {
		o.lines[i].refuseControl()
	}
}

// has reports whether a field of that name was added.
func (o *rawObject) has(name string) bool {
	if o.names != nil {
		_, ok := o.names[name]
		return ok
	}
	for _, f := range o.fields {
		if f.name == name {
			return true
		}
	}
	return false
}

var (
	decimalType    = reflect.TypeFor[decimal.Decimal]()
	timeType       = reflect.TypeFor[time.Time]()
	personalIDType = reflect.TypeFor[PersonalID]()
	currencyType   = reflect.TypeFor[ledger.Currency]()
	messageType    = reflect.TypeFor[MessageType]()
)

// fieldInfo is one JSON/XML field of a document struct.
type fieldInfo struct {
	name    string
	index   []int
	typ     reflect.Type
	key     []byte // `"name":`, as the encoder writes it
	message bool   // the head's message type: never read from a body
}

// structInfo is what the decoder and the encoder need of a document type,
// worked out once per type.
type structInfo struct {
	fields []fieldInfo // in declaration order, the embedded Head's included
	byName map[string]int
}

var fieldCache sync.Map // reflect.Type → *structInfo

// infoOf returns t's named fields (see structInfo).
func infoOf(t reflect.Type) *structInfo {
	if si, ok := fieldCache.Load(t); ok {
		return si.(*structInfo)
	}
	si := &structInfo{byName: map[string]int{}}
	for _, f := range reflect.VisibleFields(t) {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Anonymous || !f.IsExported() || name == "" || name == "-" {
			continue
		}
		key := append(appendJSONString(nil, name), ':')
		si.byName[name] = len(si.fields)
		si.fields = append(si.fields, fieldInfo{name, f.Index, f.Type, key, f.Type == messageType})
	}
	fieldCache.Store(t, si)
	return si
}

// fill sets the fields of the struct dst from obj and appends every problem
// to errs, with paths under prefix. The message type is never taken from the
// body's fields: the caller sets it.
func fill(dst reflect.Value, obj rawObject, prefix string, errs *[]FieldError) {
	for _, fe := range obj.errs {
		fe.Field = prefix + fe.Field
		*errs = append(*errs, fe)
	}
	si := infoOf(dst.Type())
	for _, rf := range obj.fields {
		i, ok := si.byName[rf.name]
		if !ok || rf.name == "lines" || si.fields[i].message {
			*errs = append(*errs, FieldError{prefix + rf.name, CodeUnknownField, "no such field in this document"})
			continue
		}
		if code, msg := setValue(dst.FieldByIndex(si.fields[i].index), rf.value); code != "" {
			*errs = append(*errs, FieldError{prefix + rf.name, code, msg})
		}
	}
	if !obj.hasLines {
		return
	}
	i, ok := si.byName["lines"]
	if !ok {
		*errs = append(*errs, FieldError{prefix + "lines", CodeUnknownField, "this document has no lines"})
		return
	}
	lines := dst.FieldByIndex(si.fields[i].index)
	lines.Set(reflect.MakeSlice(lines.Type(), len(obj.lines), len(obj.lines)))
	for i, l := range obj.lines {
		fill(lines.Index(i), l, prefix+"lines["+strconv.Itoa(i)+"].", errs)
	}
}

// setValue parses v's text into dst and returns a FieldError code and message
// when it cannot.
func setValue(dst reflect.Value, v rawValue) (code, msg string) {
	if code, msg := checkJSONType(dst, v); code != "" {
		return code, msg
	}
	switch dst.Type() {
	case decimalType:
		d, err := parseDecimal(v.text)
		if err != nil {
			return CodeInvalidDecimal, "not a decimal number like 12.50"
		}
		*dst.Addr().Interface().(*decimal.Decimal) = d
	case timeType:
		t, err := parseTime(v.text)
		if err != nil {
			return CodeInvalidTime, "not a time: use yyyyMMddHHmmss (China time) or RFC 3339"
		}
		*dst.Addr().Interface().(*time.Time) = t
	case personalIDType:
		*dst.Addr().Interface().(*PersonalID) = ParsePersonalID(v.text)
	case currencyType:
		c, err := ParseCurrency(v.text)
		if err != nil {
			return CodeInvalidCurrency, "unknown currency: use an ISO 4217 code or a customs code such as 142"
		}
		dst.SetString(string(c))
	default:
		switch dst.Kind() {
		case reflect.String:
			dst.SetString(v.text)
		case reflect.Int:
			n, err := strconv.ParseInt(v.text, 10, 32)
			if err != nil {
				return CodeInvalidType, "must be an integer"
			}
			dst.SetInt(n)
		default:
			panic(fmt.Sprintf("clearance: field of unsupported type %s", dst.Type()))
		}
	}
	return "", ""
}

// checkJSONType refuses a JSON value of the wrong type: integers are JSON
// numbers, everything else is a JSON string. XML text passes.
func checkJSONType(dst reflect.Value, v rawValue) (code, msg string) {
	switch {
	case v.json == 0:
		return "", ""
	case dst.Type() == decimalType && v.isNumber():
		return CodeAmountNotString, `amounts and quantities are decimal strings, e.g. "12.50"`
	case dst.Kind() == reflect.Int && !v.isNumber():
		return CodeInvalidType, "must be a JSON number"
	case dst.Kind() != reflect.Int && v.json != '"':
		return CodeInvalidType, "must be a JSON string"
	}
	return "", ""
}

// marshalDocument writes a document struct as JSON with the standard's field
// names: amounts as canonical decimal strings ("300.00"), times in RFC 3339,
// personal IDs masked; empty strings, zero integers and zero times are left
// out. The output decodes again with DecodeJSON (masked IDs aside). It is
// byte for byte what encoding/json would write for the same members, without
// its reflection per value.
//
// doc is a pointer to the struct: its fields are read in place.
func marshalDocument(doc any) ([]byte, error) {
	b, err := appendObject(make([]byte, 0, 1024), reflect.ValueOf(doc).Elem())
	if err != nil {
		return nil, fmt.Errorf("marshal %T: %w", doc, err)
	}
	return b, nil
}

func appendObject(b []byte, v reflect.Value) ([]byte, error) {
	b = append(b, '{')
	sep := false
	for _, f := range infoOf(v.Type()).fields {
		fv := v.FieldByIndex(f.index)
		if fv.IsZero() && f.typ != decimalType && fv.Kind() != reflect.Slice {
			continue
		}
		if sep {
			b = append(b, ',')
		}
		sep = true
		b = append(b, f.key...)
		var err error
		if b, err = appendValue(b, fv); err != nil {
			return nil, fmt.Errorf("field %s: %w", f.name, err)
		}
	}
	return append(b, '}'), nil
}

func appendValue(b []byte, v reflect.Value) ([]byte, error) {
	switch v.Type() {
	case decimalType:
		d := v.Addr().Interface().(*decimal.Decimal)
		return appendJSONString(b, formatDecimal(*d)), nil
	case timeType:
		t := v.Addr().Interface().(*time.Time)
		b = append(b, '"')
		return append(t.AppendFormat(b, time.RFC3339), '"'), nil
	case personalIDType:
		return appendJSONString(b, v.Addr().Interface().(*PersonalID).Mask()), nil
	}
	switch v.Kind() {
	case reflect.String:
		return appendJSONString(b, v.String()), nil
	case reflect.Int:
		return strconv.AppendInt(b, v.Int(), 10), nil
	case reflect.Slice:
		b = append(b, '[')
		for i := range v.Len() {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendObject(b, v.Index(i)); err != nil {
				return nil, fmt.Errorf("lines[%d]: %w", i, err)
			}
		}
		return append(b, ']'), nil
	}
	return nil, fmt.Errorf("unsupported type %s", v.Type())
}

// appendJSONString appends s as a JSON string exactly as encoding/json
// writes it: HTML-sensitive characters, control characters, U+2028 and
// U+2029 escaped, invalid UTF-8 replaced by U+FFFD. Stored bodies are
// fingerprinted, so the bytes must not depend on which encoder wrote them.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
