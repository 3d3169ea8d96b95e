// Package apperr is the one error type domain packages return for failures a
// client can act on. Each carries a stable UPPER_SNAKE code; the API maps codes
// to HTTP statuses in one place (api/errors.go) and docs/errors.md lists them.
package apperr

import "fmt"

// Error is a domain failure with a stable code and a message for a person.
type Error struct {
	Code   string
	Detail string
	Fields []FieldError // per-field problems, for validation failures: at most MaxFields
	// FieldsTotal counts every field problem found, also those beyond
	// MaxFields that Fields leaves out.
	FieldsTotal int
}

// MaxFields bounds the field problems one error carries: a hostile body can
// hold hundreds of thousands, and answering them all would cost more than
// the body did. The rest are only counted (FieldsTotal).
const MaxFields = 100

// FieldError names one invalid field of a request.
type FieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// New declares a sentinel error; compare with errors.Is.
func New(code, detail string) *Error { return &Error{Code: code, Detail: detail} }

func (e *Error) Error() string { return e.Code + ": " + e.Detail }

// Is matches any error of the same code, so a detailed error made by With
// still satisfies errors.Is(err, sentinel).
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// With returns an error of the same code with a more specific message.
func (e *Error) With(format string, args ...any) *Error {
	return &Error{Code: e.Code, Detail: fmt.Sprintf(format, args...)}
}

// Invalid is a validation failure listing the bad fields: the first
// MaxFields of them, and how many there are.
func Invalid(fields []FieldError) *Error { return InvalidOf(fields, len(fields)) }

// InvalidOf is Invalid for a list that was cut short while it was
// collected: fields are the first of total.
func InvalidOf(fields []FieldError, total int) *Error {
	total = max(total, len(fields))
	fields = fields[:min(len(fields), MaxFields)]
	detail := "the request has invalid fields"
	if len(fields) > 0 {
		detail = fields[0].Field + ": " + fields[0].Message
		if total > 1 {
			detail += fmt.Sprintf(" (and %d more)", total-1)
		}
	}
	return &Error{Code: "VALIDATION_FAILED", Detail: detail, Fields: fields, FieldsTotal: total}
}
