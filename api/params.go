package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	"github.com/shopspring/decimal"

	"github.com/xbsettle/xbsettle/ledger"
)

// Limits of the values a client names.
const (
	maxKeyLen         = 255      // Idempotency-Key and idempotency_key
	maxCodeLen        = 128      // account code
	maxDescriptionLen = 1000     // entry description
	maxMetadataLen    = 16 << 10 // metadata, as sent
	maxMetadataDepth  = 4        // objects and arrays nested in metadata, itself included
	maxMetadataKeys   = 64       // members of all of metadata's objects together
	maxMetadataString = 500      // characters of one of its strings or member names
	defaultPageSize   = 50       // list limit when none is asked
	maxPageSize       = 500      // largest list page
	headerIdempotency = "Idempotency-Key"
	headerReplayed    = "Idempotent-Replayed"
)

// pathID parses the :id path parameter; a malformed one is a field error,
// not a 404, so the client learns it sent something that is never an id.
func pathID(c echo.Context) (uuid.UUID, error) {
	var f fields
	id := parseUUID(c.Param("id"), "id", &f)
	return id, f.err()
}

// parseUUID parses a uuid, noting a missing or malformed one in f.
func parseUUID(s, field string, f *fields) uuid.UUID {
	if s == "" {
		f.add(field, "REQUIRED", "this field is required")
		return uuid.Nil
	}
	id, err := uuid.Parse(s)
	if err != nil || len(s) != 36 {
		f.add(field, "UUID_INVALID", "want a UUID such as 0190c1a8-7b2e-7c3d-9e4f-a1b2c3d4e5f6")
		return uuid.Nil
	}
	return id
}

// parseTime parses an optional RFC 3339 instant; empty is the zero time.
func parseTime(s, field string, f *fields) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		f.add(field, "TIME_INVALID", "want an RFC 3339 time such as 2025-01-31T08:00:00Z")
		return time.Time{}
	}
	return t.UTC()
}

// parseAmount parses an amount sent as a JSON string ("10.50"). A JSON
// number is refused: it would pass through binary floating point in most
// clients before it reached us.
func parseAmount(raw json.RawMessage, field string, f *fields) decimal.Decimal {
	if len(raw) == 0 || string(raw) == "null" {
		f.add(field, "REQUIRED", "this field is required")
		return decimal.Decimal{}
	}
	var s string
	if raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		f.add(field, "AMOUNT_NOT_STRING", `send amounts as JSON strings, such as "10.50"`)
		return decimal.Decimal{}
	}
	d, err := ledger.ParseAmount(s)
	switch {
	case err == nil:
		return d
	case errors.Is(err, ledger.ErrAmountNotPositive):
		f.add(field, "AMOUNT_NOT_POSITIVE", "the amount must be greater than zero")
	case errors.Is(err, ledger.ErrAmountRange):
		f.add(field, "AMOUNT_OUT_OF_RANGE", "the amount must be below %s", ledger.MaxAmount)
	default:
		f.add(field, "AMOUNT_INVALID", `want a plain decimal such as "10.50" (no sign, exponent or spaces)`)
	}
	return decimal.Decimal{}
}

// parseCurrency parses an optional ISO 4217 code.
func parseCurrency(s, field string, f *fields) ledger.Currency {
	if s == "" {
		return ""
	}
	cur, err := ledger.ParseCurrency(s)
	if err != nil {
		f.add(field, "CURRENCY_INVALID", "%q is not an ISO 4217 currency xbsettle supports", s)
	}
	return cur
}

// parseDirection parses "debit" or "credit".
func parseDirection(s, field string, f *fields) ledger.Direction {
	switch d := ledger.Direction(s); d {
	case ledger.Debit, ledger.Credit:
		return d
	case "":
		f.add(field, "REQUIRED", "this field is required")
	default:
		f.add(field, "DIRECTION_INVALID", `want "debit" or "credit"`)
	}
	return ""
}

// checkKey checks an idempotency key: 1 to 255 printable ASCII characters.
func checkKey(key, field string, f *fields) {
	if len(key) > maxKeyLen {
		f.add(field, "TOO_LONG", "at most %d characters", maxKeyLen)
		return
	}
	for _, r := range key {
		if r < 0x21 || r > 0x7e {
			f.add(field, "KEY_INVALID", "use printable ASCII without spaces")
			return
		}
	}
	if ledger.IsServiceKey(key) {
		f.add(field, ledger.ErrKeyReserved.Code, "the prefix is reserved for keys the service derives; choose another key")
	}
}

// idempotencyKey reads the Idempotency-Key header, required or not.
func idempotencyKey(c echo.Context, required bool) (string, error) {
	key := c.Request().Header.Get(headerIdempotency)
	if key == "" {
		if required {
			return "", errIdempotencyNeeded
		}
		return "", nil
	}
	if err := ledger.CheckClientKey(key); err != nil {
		return "", err
	}
	var f fields
	checkKey(key, headerIdempotency, &f)
	return key, f.err()
}

// checkMetadata accepts an absent metadata or a JSON object of bounded size,
// depth, member count and string length. Its numbers are plain decimals of
// at most 40 characters and no text holds a control character, as
// everywhere in a body (guardJSON).
func checkMetadata(raw json.RawMessage, field string, f *fields) {
	switch {
	case len(raw) == 0 || string(raw) == "null":
	case len(raw) > maxMetadataLen:
		f.add(field, "TOO_LONG", "at most %d bytes", maxMetadataLen)
	case raw[0] != '{':
		f.add(field, "METADATA_INVALID", "metadata is a JSON object")
	default:
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			f.add(field, "METADATA_INVALID", "metadata is a JSON object")
			return
		}
		keys := 0
		if problem := metadataProblem(v, 1, &keys); problem != "" {
			f.add(field, "METADATA_INVALID", "%s", problem)
		}
	}
}

// metadataProblem says what in v, at depth, breaks the bounds of metadata;
// keys counts the members seen so far.
func metadataProblem(v any, depth int, keys *int) string {
	switch v := v.(type) {
	case map[string]any:
		if depth > maxMetadataDepth {
			return fmt.Sprintf("metadata nests at most %d levels deep", maxMetadataDepth)
		}
		if *keys += len(v); *keys > maxMetadataKeys {
			return fmt.Sprintf("metadata has at most %d members in all", maxMetadataKeys)
		}
		for k, e := range v {
			if utf8.RuneCountInString(k) > maxMetadataString {
				return fmt.Sprintf("a member name of metadata has at most %d characters", maxMetadataString)
			}
			if p := metadataProblem(e, depth+1, keys); p != "" {
				return p
			}
		}
	case []any:
		if depth > maxMetadataDepth {
			return fmt.Sprintf("metadata nests at most %d levels deep", maxMetadataDepth)
		}
		for _, e := range v {
			if p := metadataProblem(e, depth+1, keys); p != "" {
				return p
			}
		}
	case string:
		if utf8.RuneCountInString(v) > maxMetadataString {
			return fmt.Sprintf("a string in metadata has at most %d characters", maxMetadataString)
		}
	}
	return ""
}

// page reads ?limit= and ?cursor=.
func page(c echo.Context) (limit int, cursor string, err error) {
	var f fields
	limit = defaultPageSize
	if s := c.QueryParam("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxPageSize {
			f.add("limit", "LIMIT_INVALID", "want an integer from 1 to %d", maxPageSize)
		}
		limit = n
	}
	return limit, c.QueryParam("cursor"), f.err()
}

// list is the shape of every list response. NextCursor is null on the last page.
type list[T any] struct {
	Data       []T     `json:"data"`
	NextCursor *string `json:"next_cursor"`
}

func newList[T any](data []T, next string) list[T] {
	l := list[T]{Data: data}
	if l.Data == nil {
		l.Data = []T{}
	}
	if next != "" {
		l.NextCursor = &next
	}
	return l
}

// replayable answers an idempotent write: status the first time, 200 with
// the same body and Idempotent-Replayed: true for a replay of its key.
func replayable(c echo.Context, status int, replayed bool, body any) error {
	if replayed {
		c.Response().Header().Set(headerReplayed, "true")
		status = http.StatusOK
	}
	return c.JSON(status, body)
}
