package clearance

import (
	"errors"
	"fmt"
	"strings"

	"github.com/xbsettle/xbsettle/internal/apperr"
)

// Codes of DecodeError: a body that cannot be read as a document or a message
// at all. The API answers them with 400 and the code.
const (
	CodeJSONMalformed    = "JSON_MALFORMED"
	CodeXMLMalformed     = "XML_MALFORMED"
	CodeXMLNamespace     = "XML_NAMESPACE"
	CodeXMLRoot          = "XML_ROOT"
	CodeXMLStructure     = "XML_STRUCTURE"
	CodeNoDocuments      = "NO_DOCUMENTS"
	CodeTooManyDocuments = "TOO_MANY_DOCUMENTS"
)

// CodeValidationFailed is the code of a ValidationError (the API answers 422).
const CodeValidationFailed = "VALIDATION_FAILED"

// Codes of FieldError.
const (
	CodeRequired       = "REQUIRED"
	CodeUnknownField   = "UNKNOWN_FIELD"
	CodeDuplicateField = "DUPLICATE_FIELD"
	CodeInvalidType    = "INVALID_TYPE"
	// CodeAmountNotString: money and quantities must be JSON strings ("1.50"),
	// because most clients parse a JSON number into binary floating point.
	CodeAmountNotString = "AMOUNT_NOT_STRING"
	CodeInvalidDecimal  = "INVALID_DECIMAL"
	// CodeDecimalScale and CodeDecimalRange: the value does not fit decimal(19,5),
	// more than 5 decimals or more than 14 integer digits.
	CodeDecimalScale    = "DECIMAL_SCALE"
	CodeDecimalRange    = "DECIMAL_RANGE"
	CodeNegative        = "NEGATIVE"
	CodeNotPositive     = "NOT_POSITIVE"
	CodeTooLong         = "TOO_LONG"
	CodeInvalidValue    = "INVALID_VALUE"
	CodeInvalidTime     = "INVALID_TIME"
	CodeInvalidDate     = "INVALID_DATE"
	CodeInvalidCurrency = "INVALID_CURRENCY"
	CodeInvalidIDNumber = "INVALID_ID_NUMBER"
	CodeInvalidEntCode  = "INVALID_ENTERPRISE_CODE"
	CodeInvalidHSCode   = "INVALID_HS_CODE"
	CodeInvalidGnum     = "INVALID_GNUM"
	CodeDuplicateGnum   = "DUPLICATE_GNUM"
	CodeTooManyLines    = "TOO_MANY_LINES"
	// CodeTooManyFields: a head, line or BaseTransfer with more than
	// MaxFields fields; reading it stopped there.
	CodeTooManyFields = "TOO_MANY_FIELDS"
	// CodeControlCharacter: a text holds a control character (Unicode Cc:
	// U+0000–U+001F, U+007F–U+009F), tab and newline included.
	CodeControlCharacter = "CONTROL_CHARACTER"
	CodeWrongType        = "WRONG_DOCUMENT_TYPE"
	CodeNotAllowed       = "NOT_ALLOWED"
	CodeDiscountTooLarge = "DISCOUNT_EXCEEDS_GOODS"
	// CodeAppTimeFuture: appTime more than MaxAppTimeAhead ahead of now.
	CodeAppTimeFuture = "APP_TIME_FUTURE"
)

// DecodeError reports a body that is not a readable document or message:
// malformed JSON or XML, a foreign namespace, the wrong root for the endpoint,
// no or too many documents. Nothing of such a body may be stored.
//
// Match a code with errors.Is against the sentinels (ErrXMLMalformed, …) or
// read Code after errors.As.
type DecodeError struct {
	Code    string // one of the Code* constants above (JSON_MALFORMED, XML_…, …)
	Message string // what was wrong, for the problem's detail
	Err     error  // the parser's error, if any
}

func (e *DecodeError) Error() string {
	if e.Message == "" {
		return e.Code
	}
	return e.Code + ": " + e.Message
}

// Unwrap returns the parser's error.
func (e *DecodeError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrXMLNamespace) match any DecodeError of that code.
func (e *DecodeError) Is(target error) bool {
	t, ok := target.(*DecodeError)
	return ok && t.Message == "" && t.Err == nil && t.Code == e.Code
}

// Sentinels for errors.Is; each matches every DecodeError with its code.
var (
	ErrJSONMalformed    = &DecodeError{Code: CodeJSONMalformed}
	ErrXMLMalformed     = &DecodeError{Code: CodeXMLMalformed}
	ErrXMLNamespace     = &DecodeError{Code: CodeXMLNamespace}
	ErrXMLRoot          = &DecodeError{Code: CodeXMLRoot}
	ErrXMLStructure     = &DecodeError{Code: CodeXMLStructure}
	ErrNoDocuments      = &DecodeError{Code: CodeNoDocuments}
	ErrTooManyDocuments = &DecodeError{Code: CodeTooManyDocuments}
)

// decodeErr builds a DecodeError; err may be nil.
func decodeErr(code string, err error, format string, args ...any) *DecodeError {
	return &DecodeError{Code: code, Message: fmt.Sprintf(format, args...), Err: err}
}

// FieldError is one refused field. Field is a path into the submitted body:
// "orderNo", "lines[1].price" (0-based index in the array as sent),
// "documents[2].lines[0].qty" inside an XML message.
type FieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// ValidationError carries the field errors of a refused document or message:
// every one, or for a message the first MaxErrors and how many there are.
// Messages never quote a personal ID number.
type ValidationError struct {
	Errors []FieldError
	// Total counts every field error found, when Errors was cut short; 0
	// means Errors holds them all.
	Total int
}

// MaxErrors is how many field errors a message's ValidationError keeps; the
// rest are counted in Total. It is apperr.MaxFields, what the API answers.
const MaxErrors = apperr.MaxFields

// Count is the number of field errors found, listed or not.
func (e *ValidationError) Count() int { return max(e.Total, len(e.Errors)) }

func (e *ValidationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d field error(s)", CodeValidationFailed, e.Count())
	for i, fe := range e.Errors {
		if i == 3 {
			b.WriteString("; …")
			break
		}
		fmt.Fprintf(&b, "; %s %s", fe.Field, fe.Code)
	}
	return b.String()
}

// Prefix returns the errors with prefix put before every field path, e.g.
// "documents[3]." when one document of a batch is refused.
func (e *ValidationError) Prefix(prefix string) *ValidationError {
	out := make([]FieldError, len(e.Errors))
	for i, fe := range e.Errors {
		fe.Field = prefix + fe.Field
		out[i] = fe
	}
	return &ValidationError{Errors: out, Total: e.Total}
}

// Errors returned by ChainState.Apply and PersonalID.Seal.
var (
	ErrChainKeyMismatch  = errors.New("document belongs to another chain")
	ErrDirectionConflict = errors.New("document direction differs from the chain's")
	ErrHashKeyTooShort   = errors.New("personal ID hash key is shorter than 32 bytes")
)

// Errors of the Service (storage and reads). Each has a stable code
// (docs/errors.md); compare with errors.Is.
var (
	ErrDocumentNotFound = apperr.New("DOCUMENT_NOT_FOUND", "no such document")
	ErrChainNotFound    = apperr.New("CHAIN_NOT_FOUND", "no such chain")
	// ErrDocumentConflict: a version (guid, appTime, appType) already stored
	// with other content. The same content again is a replay, not an error.
	ErrDocumentConflict = apperr.New("DOCUMENT_CONFLICT", "this document version was already stored with other content")
	// ErrChainDirection: an import document for an export chain or the reverse.
	ErrChainDirection = apperr.New("CHAIN_DIRECTION_CONFLICT", "the chain's documents are of the other direction")
	ErrBatchTooLarge  = apperr.New("BATCH_TOO_LARGE", "too many documents in one request")
	// ErrNotDeclarant: the key is not the party the document names as its
	// declarant, in that role (a payment whose payCode is another's).
	ErrNotDeclarant = apperr.New("FORBIDDEN", "this API key may not declare this document")
	// ErrChainPartyConflict: the chain's document of this kind is another
	// party's to declare (docs/clearance.md, "Who may declare, supersede
	// and read"). Nothing of the request is stored.
	ErrChainPartyConflict = apperr.New("CHAIN_PARTY_CONFLICT", "another party declares this document of the chain")
)
