package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/xbsettle/xbsettle/internal/apperr"
)

// Body size caps. A batch of ledger.MaxBatch entries of a few postings fits
// in the larger one; anything else is small.
const (
	maxBody      = 1 << 20
	maxBatchBody = 8 << 20
)

// decodeBody reads the request's JSON object into dst, strictly: at most
// limit bytes, Content-Type application/json, the input rules of guardJSON
// (no duplicate member, no control character, plain numbers, bounded
// nesting, members and elements), no unknown fields, nothing after the
// object. With optional set an empty body leaves dst as it is. Every JSON
// body the API takes comes through here; clearance documents through their
// own decoder, which keeps the same rules.
func decodeBody(c echo.Context, dst any, limit int64, optional bool) error {
	r := c.Request()
	raw, err := io.ReadAll(http.MaxBytesReader(c.Response(), r.Body, limit))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return errBodyTooLarge.With("the body exceeds %d bytes", limit)
		}
		return fmt.Errorf("read request body: %w", err)
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		if optional {
			return nil
		}
		return errMalformedJSON.With("the request body is empty")
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType)); err != nil || mt != echo.MIMEApplicationJSON {
		return errUnsupportedMedia
	}
	if json.Valid(raw) {
		if err := guardJSON(r.Context(), raw); err != nil {
			return err
		}
	}
	// Invalid JSON goes to the decoder too, which says what is wrong where.
	return decodeStrict(raw, dst)
}

// decodeStrict decodes one JSON value into dst, refusing unknown fields and
// anything after the value.
func decodeStrict(raw []byte, dst any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errMalformedJSON.With("the body holds more than one JSON value")
	}
	return nil
}

// tooManyElements reports whether err is the guard stopping at list's
// element maxJSONElements+1, for an endpoint that names that limit itself.
func tooManyElements(err error, list string) bool {
	var ae *apperr.Error
	return errors.As(err, &ae) && len(ae.Fields) == 1 && ae.Fields[0].Code == codeTooManyElements &&
		ae.Fields[0].Field == list
}

// decodeError explains why a body did not decode: broken JSON is a 400, a
// well-formed body with a wrong or unknown field a 422 naming it.
func decodeError(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return errMalformedJSON.With("the JSON ends too early (truncated?)")
	case errors.As(err, &syntax):
		return errMalformedJSON.With("invalid JSON at byte %d: %v", syntax.Offset, err)
	case errors.As(err, &typ) && typ.Field == "":
		return errMalformedJSON.With("the body must be a JSON object, not %s", typ.Value)
	case errors.As(err, &typ):
		return apperr.Invalid([]apperr.FieldError{{Field: typ.Field, Code: "TYPE_INVALID",
			Message: fmt.Sprintf("want %s, got a JSON %s", jsonKind(typ.Type.Kind().String()), typ.Value)}})
	}
	// encoding/json has no type for this one; its message is stable.
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return apperr.Invalid([]apperr.FieldError{{Field: strings.Trim(name, `"`), Code: "UNKNOWN_FIELD",
			Message: "this field is not part of the request; check its spelling"}})
	}
	return errMalformedJSON.With("%v", err)
}

// jsonKind names a Go kind the way a JSON client thinks of it.
func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a JSON string"
	case "slice", "array":
		return "a JSON array"
	case "struct", "map":
		return "a JSON object"
	case "bool":
		return "true or false"
	}
	return "a JSON " + goKind
}

// fields collects a request's invalid fields, so that one response lists
// every problem instead of the first.
type fields []apperr.FieldError

func (f *fields) add(field, code, format string, args ...any) {
	*f = append(*f, apperr.FieldError{Field: field, Code: code, Message: fmt.Sprintf(format, args...)})
}

// err is nil when no field was bad, else VALIDATION_FAILED listing them.
func (f fields) err() error {
	if len(f) == 0 {
		return nil
	}
	return apperr.Invalid(f)
}

// indexed names an element of a list field: indexed("postings", 2) is "postings[2]".
func indexed(field string, i int) string { return field + "[" + strconv.Itoa(i) + "]" }

// nested names a field inside another: nested("postings[2]", "amount").
func nested(parent, field string) string {
	if parent == "" {
		return field
	}
	return parent + "." + field
}

// ctxReader reads r until ctx ends: a decoder reading from it stops at the
// request's deadline, at its next read.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
