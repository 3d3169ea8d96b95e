package clearance

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

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
	fields   []rawField
	lines    []rawObject
	hasLines bool
	errs     []FieldError // found while reading: duplicate names, lines not an array, …
}

// add appends a field, or records a duplicate: two values for one name are
// refused rather than letting the last one win.
func (o *rawObject) add(name string, v rawValue) {
	for _, f := range o.fields {
		if f.name == name {
			o.errs = append(o.errs, FieldError{name, CodeDuplicateField, "field is given more than once"})
			return
		}
	}
	o.fields = append(o.fields, rawField{name, v})
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
	name  string
	index []int
}

var fieldCache sync.Map // reflect.Type → []fieldInfo

// fieldsOf lists t's named fields in declaration order, the embedded Head's
// included.
func fieldsOf(t reflect.Type) []fieldInfo {
	if fs, ok := fieldCache.Load(t); ok {
		return fs.([]fieldInfo)
	}
	var fs []fieldInfo
	for _, f := range reflect.VisibleFields(t) {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Anonymous || !f.IsExported() || name == "" || name == "-" {
			continue
		}
		fs = append(fs, fieldInfo{name, f.Index})
	}
	fieldCache.Store(t, fs)
	return fs
}

// fill sets the fields of the struct dst from obj and appends every problem
// to errs, with paths under prefix. The message type is never taken from the
// body's fields: the caller sets it.
func fill(dst reflect.Value, obj rawObject, prefix string, errs *[]FieldError) {
	for _, fe := range obj.errs {
		fe.Field = prefix + fe.Field
		*errs = append(*errs, fe)
	}
	fields := fieldsOf(dst.Type())
	byName := make(map[string]fieldInfo, len(fields))
	for _, f := range fields {
		byName[f.name] = f
	}
	for _, rf := range obj.fields {
		f, ok := byName[rf.name]
		if !ok || rf.name == "lines" || dst.FieldByIndex(f.index).Type() == messageType {
			*errs = append(*errs, FieldError{prefix + rf.name, CodeUnknownField, "no such field in this document"})
			continue
		}
		if code, msg := setValue(dst.FieldByIndex(f.index), rf.value); code != "" {
			*errs = append(*errs, FieldError{prefix + rf.name, code, msg})
		}
	}
	if !obj.hasLines {
		return
	}
	f, ok := byName["lines"]
	if !ok {
		*errs = append(*errs, FieldError{prefix + "lines", CodeUnknownField, "this document has no lines"})
		return
	}
	lines := dst.FieldByIndex(f.index)
	lines.Set(reflect.MakeSlice(lines.Type(), len(obj.lines), len(obj.lines)))
	for i, l := range obj.lines {
		fill(lines.Index(i), l, fmt.Sprintf("%slines[%d].", prefix, i), errs)
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
		dst.Set(reflect.ValueOf(d))
	case timeType:
		t, err := parseTime(v.text)
		if err != nil {
			return CodeInvalidTime, "not a time: use yyyyMMddHHmmss (China time) or RFC 3339"
		}
		dst.Set(reflect.ValueOf(t))
	case personalIDType:
		dst.Set(reflect.ValueOf(ParsePersonalID(v.text)))
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
// out. The output decodes again with DecodeJSON (masked IDs aside).
func marshalDocument(doc any) ([]byte, error) {
	var b bytes.Buffer
	if err := writeObject(&b, reflect.ValueOf(doc)); err != nil {
		return nil, fmt.Errorf("marshal %T: %w", doc, err)
	}
	return b.Bytes(), nil
}

func writeObject(b *bytes.Buffer, v reflect.Value) error {
	b.WriteByte('{')
	sep := ""
	for _, f := range fieldsOf(v.Type()) {
		fv := v.FieldByIndex(f.index)
		if fv.IsZero() && fv.Type() != decimalType && fv.Kind() != reflect.Slice {
			continue
		}
		b.WriteString(sep)
		sep = ","
		fmt.Fprintf(b, "%q:", f.name)
		if err := writeValue(b, fv); err != nil {
			return fmt.Errorf("field %s: %w", f.name, err)
		}
	}
	b.WriteByte('}')
	return nil
}

func writeValue(b *bytes.Buffer, v reflect.Value) error {
	switch v.Type() {
	case decimalType:
		return writeJSON(b, formatDecimal(v.Interface().(decimal.Decimal)))
	case timeType:
		return writeJSON(b, v.Interface().(time.Time).Format(time.RFC3339))
	case personalIDType:
		return writeJSON(b, v.Interface().(PersonalID).Mask())
	}
	switch v.Kind() {
	case reflect.String:
		return writeJSON(b, v.String())
	case reflect.Int:
		b.WriteString(strconv.FormatInt(v.Int(), 10))
	case reflect.Slice:
		b.WriteByte('[')
		for i := range v.Len() {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeObject(b, v.Index(i)); err != nil {
				return fmt.Errorf("lines[%d]: %w", i, err)
			}
		}
		b.WriteByte(']')
	default:
		return fmt.Errorf("unsupported type %s", v.Type())
	}
	return nil
}

func writeJSON(b *bytes.Buffer, s string) error {
	enc, err := json.Marshal(s)
	b.Write(enc)
	return err
}
