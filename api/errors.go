package api

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/xbsettle/xbsettle/internal/apperr"
	"github.com/xbsettle/xbsettle/internal/db"
	"github.com/xbsettle/xbsettle/settlement/clearance"
)

// Codes the API itself returns, next to those of the domain packages.
// docs/errors.md lists every code with its status.
var (
	errUnauthenticated   = apperr.New("UNAUTHENTICATED", "a valid API key is required: Authorization: Bearer <key>")
	errForbidden         = apperr.New("FORBIDDEN", "this API key's role may not do this")
	errTenantRequired    = apperr.New("TENANT_REQUIRED", "name the tenant to act for with the X-Tenant-ID header")
	errMalformedJSON     = apperr.New("MALFORMED_JSON", "the request body is not one well-formed JSON object")
	errBodyTooLarge      = apperr.New("BODY_TOO_LARGE", "the request body is too large")
	errUnsupportedMedia  = apperr.New("UNSUPPORTED_MEDIA_TYPE", "send the body as Content-Type: application/json")
	errIdempotencyNeeded = apperr.New("IDEMPOTENCY_KEY_REQUIRED", "this request needs an Idempotency-Key header")
	errBatchTooLarge     = apperr.New("BATCH_TOO_LARGE", "the batch has too many entries")
	errRouteNotFound     = apperr.New("NOT_FOUND", "no such route")
	errMethodNotAllowed  = apperr.New("METHOD_NOT_ALLOWED", "the route does not accept this method")
	errUnavailable       = apperr.New("UNAVAILABLE", "the request was cancelled or timed out; retry it")
	errDatabaseAway      = apperr.New("DATABASE_UNAVAILABLE", "the database cannot be reached just now; retry after the time Retry-After says, with the same Idempotency-Key")
	errNotReady          = apperr.New("NOT_READY", "a dependency is unreachable")
	errInternal          = apperr.New("INTERNAL", "an internal error occurred; quote the request_id to support")
)

// statusByCode is the one place where an error code becomes an HTTP status.
// A domain code missing here is answered 422 (a rule the request broke) and
// TestEveryDomainCodeIsMapped fails, so a new code is a conscious choice.
var statusByCode = map[string]int{
	// 400: the request cannot be read as asked.
	"MALFORMED_JSON":           http.StatusBadRequest,
	"IDEMPOTENCY_KEY_REQUIRED": http.StatusBadRequest,
	"TENANT_REQUIRED":          http.StatusBadRequest,
	"BAD_CURSOR":               http.StatusBadRequest,
	// 400, clearance: the body is not a readable document or CEB message.
	"XML_MALFORMED":      http.StatusBadRequest,
	"XML_NAMESPACE":      http.StatusBadRequest,
	"XML_ROOT":           http.StatusBadRequest,
	"XML_STRUCTURE":      http.StatusBadRequest,
	"NO_DOCUMENTS":       http.StatusBadRequest,
	"TOO_MANY_DOCUMENTS": http.StatusBadRequest,
	// 401, 403: who asks.
	"UNAUTHENTICATED": http.StatusUnauthorized,
	"FORBIDDEN":       http.StatusForbidden,
	// 403, risk: the enterprise has not consented to this bank.
	"CONSENT_REQUIRED": http.StatusForbidden,
	// 404: absent, or another tenant's (never told apart).
	"NOT_FOUND":          http.StatusNotFound,
	"ACCOUNT_NOT_FOUND":  http.StatusNotFound,
	"ENTRY_NOT_FOUND":    http.StatusNotFound,
	"HOLD_NOT_FOUND":     http.StatusNotFound,
	"CHAIN_NOT_FOUND":    http.StatusNotFound,
	"DOCUMENT_NOT_FOUND": http.StatusNotFound,
	// 404, clearance: no tariff line of the code.
	"TARIFF_LINE_NOT_FOUND": http.StatusNotFound,
	// 404, settlement.
	"FX_RATE_NOT_FOUND":         http.StatusNotFound,
	"QUOTE_NOT_FOUND":           http.StatusNotFound,
	"SETTLEMENT_NOT_FOUND":      http.StatusNotFound,
	"SETTLEMENT_ITEM_NOT_FOUND": http.StatusNotFound,
	// 404, risk.
	"ENTERPRISE_NOT_FOUND":         http.StatusNotFound,
	"CREDIT_ASSESSMENT_NOT_FOUND":  http.StatusNotFound,
	"CLASSIFICATION_NOT_FOUND":     http.StatusNotFound,
	"CLASSIFICATION_RUN_NOT_FOUND": http.StatusNotFound,
	// 405, 413, 415: transport.
	"METHOD_NOT_ALLOWED":     http.StatusMethodNotAllowed,
	"BODY_TOO_LARGE":         http.StatusRequestEntityTooLarge,
	"UNSUPPORTED_MEDIA_TYPE": http.StatusUnsupportedMediaType,
	// 409: the request is fine but the state it meets is not.
	"IDEMPOTENCY_CONFLICT":     http.StatusConflict,
	"ACCOUNT_EXISTS":           http.StatusConflict,
	"HOLD_ALREADY_RESOLVED":    http.StatusConflict,
	"ALREADY_REVERSED":         http.StatusConflict,
	"INVALID_STATUS_CHANGE":    http.StatusConflict,
	"HOLD_NOT_DUE":             http.StatusConflict, // only the expiry task meets it
	"DOCUMENT_CONFLICT":        http.StatusConflict,
	"CHAIN_DIRECTION_CONFLICT": http.StatusConflict,
	"CHAIN_PARTY_CONFLICT":     http.StatusConflict,
	// 409, clearance: another line of the code is in force on some of the days.
	"TARIFF_LINE_OVERLAP": http.StatusConflict,
	// 409, settlement: an account of a chart code exists with another currency or kind.
	"SETTLEMENT_ACCOUNT_MISMATCH": http.StatusConflict,
	// 409, settlement: only a held item is registered.
	"ITEM_NOT_HELD": http.StatusConflict,
	// 409, risk.
	"ENTERPRISE_EXISTS":          http.StatusConflict,
	"CLASSIFICATION_NOT_PENDING": http.StatusConflict,
	"VIOLATION_EXISTS":           http.StatusConflict,
	// 422: well-formed, but it breaks a rule; nothing was written.
	"VALIDATION_FAILED":        http.StatusUnprocessableEntity,
	"IDEMPOTENCY_KEY_RESERVED": http.StatusUnprocessableEntity,
	"BATCH_TOO_LARGE":          http.StatusUnprocessableEntity,
	"INSUFFICIENT_FUNDS":       http.StatusUnprocessableEntity,
	"UNBALANCED":               http.StatusUnprocessableEntity,
	"TOO_FEW_POSTINGS":         http.StatusUnprocessableEntity,
	"TOO_MANY_POSTINGS":        http.StatusUnprocessableEntity,
	"AMOUNT_PRECISION":         http.StatusUnprocessableEntity,
	"CURRENCY_MISMATCH":        http.StatusUnprocessableEntity,
	"ACCOUNT_FROZEN":           http.StatusUnprocessableEntity,
	"ACCOUNT_CLOSED":           http.StatusUnprocessableEntity,
	"HOLD_AMOUNT":              http.StatusUnprocessableEntity,
	"HOLD_PARTIAL_UNSUPPORTED": http.StatusUnprocessableEntity,
	"NOT_REVERSIBLE":           http.StatusUnprocessableEntity,
	"EFFECTIVE_AT_IN_FUTURE":   http.StatusUnprocessableEntity,
	// 422, FX and settlement (docs/fx.md, docs/settlement.md).
	"QUOTE_EXPIRED":                   http.StatusUnprocessableEntity,
	"FX_RATE_STALE":                   http.StatusUnprocessableEntity,
	"FX_PAIR_INVALID":                 http.StatusUnprocessableEntity,
	"FX_PAIR_MISMATCH":                http.StatusUnprocessableEntity,
	"FX_SIDE_INVALID":                 http.StatusUnprocessableEntity,
	"FX_RATE_INVALID":                 http.StatusUnprocessableEntity,
	"FX_AMOUNT_INVALID":               http.StatusUnprocessableEntity,
	"FX_AMOUNT_TOO_SMALL":             http.StatusUnprocessableEntity,
	"FX_FLOW_MISMATCH":                http.StatusUnprocessableEntity,
	"FEE_TOO_LARGE":                   http.StatusUnprocessableEntity,
	"SETTLEMENT_ACCOUNT_CODE_INVALID": http.StatusUnprocessableEntity,
	"RECONCILIATION_TOO_LARGE":        http.StatusUnprocessableEntity,
	// 5xx: ours.
	"INTERNAL": http.StatusInternalServerError,
	// 500, risk: data or an embedded table the risk core cannot take; a
	// fault to fix on our side (docs/risk.md, "Errors").
	"RISK_INPUT_INVALID":           http.StatusInternalServerError,
	"THRESHOLDS_VERSION_NOT_FOUND": http.StatusInternalServerError,
	"SCORECARD_VERSION_NOT_FOUND":  http.StatusInternalServerError,
	"UNAVAILABLE":                  http.StatusServiceUnavailable,
	"DATABASE_UNAVAILABLE":         http.StatusServiceUnavailable,
	"NOT_READY":                    http.StatusServiceUnavailable,
}

// retryAfter is the Retry-After of a 503, in seconds: about as long as
// PostgreSQL takes to restart.
const retryAfter = "2"

// Problem is an RFC 9457 problem detail, the body of every error response.
type Problem struct {
	Type   string              `json:"type"`
	Title  string              `json:"title"`
	Status int                 `json:"status"`
	Detail string              `json:"detail"`
	Code   string              `json:"code"`
	Errors []apperr.FieldError `json:"errors,omitempty"`
	// ErrorsTotal counts every invalid field, also those beyond the first
	// apperr.MaxFields that errors lists (docs/errors.md).
	ErrorsTotal int    `json:"errors_total,omitempty"`
	RequestID   string `json:"request_id,omitempty"`
	// Checks names each readiness check and its state (GET /readyz only).
	Checks map[string]string `json:"checks,omitempty"`
}

// problemOf turns an application error into a problem. Errors it cannot
// classify become INTERNAL with a generic detail: internals are logged,
// never sent.
func problemOf(err error) Problem {
	var ae *apperr.Error
	if !errors.As(err, &ae) {
		ae = classify(err)
	}
	status, ok := statusByCode[ae.Code]
	if !ok {
		status = http.StatusUnprocessableEntity
	}
	p := Problem{
		Type:   "urn:xbsettle:error:" + strings.ToLower(ae.Code),
		Title:  title(ae.Code),
		Status: status,
		Detail: ae.Detail,
		Code:   ae.Code,
		Errors: ae.Fields,
	}
	if len(p.Errors) > 0 {
		// A domain package may have built the list itself: cap it here too.
		p.Errors = p.Errors[:min(len(p.Errors), apperr.MaxFields)]
		p.ErrorsTotal = max(ae.FieldsTotal, len(ae.Fields))
	}
	return p
}

// classify names the errors that do not come from a domain package: Echo's
// routing errors, body limits, cancellations and a database that is away.
func classify(err error) *apperr.Error {
	var he *echo.HTTPError
	var tooBig *http.MaxBytesError
	var decodeErr *clearance.DecodeError
	var invalid *clearance.ValidationError
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		// First: a decoder stopped by the deadline reports it wrapped.
		return errUnavailable
	case errors.As(err, &decodeErr) && decodeErr.Code == clearance.CodeJSONMalformed:
		return errMalformedJSON.With("%s", decodeErr.Message)
	case errors.As(err, &decodeErr):
		return &apperr.Error{Code: decodeErr.Code, Detail: decodeErr.Message}
	case errors.As(err, &invalid):
		return apperr.InvalidOf(fieldErrors(invalid), invalid.Count())
	case errors.As(err, &tooBig):
		return errBodyTooLarge
	case db.Unavailable(err):
		return errDatabaseAway
	case errors.As(err, &he):
		switch he.Code {
		case http.StatusNotFound:
			return errRouteNotFound
		case http.StatusMethodNotAllowed:
			return errMethodNotAllowed
		case http.StatusRequestEntityTooLarge:
			return errBodyTooLarge
		case http.StatusUnsupportedMediaType:
			return errUnsupportedMedia
		case http.StatusUnauthorized:
			return errUnauthenticated
		case http.StatusForbidden:
			return errForbidden
		}
	}
	return errInternal
}

// fieldErrors turns the clearance's field errors into the API's.
func fieldErrors(ve *clearance.ValidationError) []apperr.FieldError {
	out := make([]apperr.FieldError, len(ve.Errors))
	for i, fe := range ve.Errors {
		out[i] = apperr.FieldError{Field: fe.Field, Code: fe.Code, Message: fe.Message}
	}
	return out
}

// title is the code in words: INSUFFICIENT_FUNDS → "Insufficient funds".
func title(code string) string {
	s := strings.ToLower(strings.ReplaceAll(code, "_", " "))
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// handleError is Echo's HTTPErrorHandler: every error leaves as problem+json.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	p := problemOf(err)
	p.RequestID = requestID(c)
	ctx := c.Request().Context()
	switch {
	case p.Code == errDatabaseAway.Code:
		s.log.WarnContext(ctx, "request failed: database unavailable", "err", err)
	case p.Status >= 500 && p.Code != errUnavailable.Code:
		s.log.ErrorContext(ctx, "request failed", "err", err)
	case p.Status >= 500:
		s.log.WarnContext(ctx, "request cancelled", "err", err)
	}
	if err := writeProblem(c, p); err != nil {
		s.log.WarnContext(ctx, "write error response", "err", err)
	}
}

// writeProblem sends p with its media type. A 401 also says how to
// authenticate and a 503 when to try again, as RFC 9110 asks.
func writeProblem(c echo.Context, p Problem) error {
	switch p.Status {
	case http.StatusUnauthorized:
		c.Response().Header().Set("WWW-Authenticate", `Bearer realm="xbsettle"`)
	case http.StatusServiceUnavailable:
		c.Response().Header().Set("Retry-After", retryAfter)
	}
	if c.Request().Method == http.MethodHead {
		return c.NoContent(p.Status)
	}
	c.Response().Header().Set(echo.HeaderContentType, "application/problem+json")
	return c.JSON(p.Status, p)
}
