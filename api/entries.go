package api

import (
	"encoding/json"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/xbsettle/xbsettle/ledger"
)

// postingInput is one posting as a client sends it.
type postingInput struct {
	AccountID string          `json:"account_id"`
	Direction string          `json:"direction"`
	Amount    json.RawMessage `json:"amount"`
	Currency  string          `json:"currency"`
}

// entryInput is the body of POST /v1/entries, and the common part of a
// batch item and of POST /v1/holds.
type entryInput struct {
	Description string          `json:"description"`
	EffectiveAt string          `json:"effective_at"`
	Metadata    json.RawMessage `json:"metadata"`
	Postings    []postingInput  `json:"postings"`
}

// parse checks the entry's shapes, noting every bad field under prefix
// (empty for a top-level entry, "entries[3]" in a batch). What needs the
// accounts (existence, currency, minor units, balance) is the ledger's job.
func (in *entryInput) parse(prefix, key string, f *fields) ledger.EntryRequest {
	req := ledger.EntryRequest{IdempotencyKey: key, Description: in.Description, Metadata: in.Metadata}
	req.EffectiveAt = parseTime(in.EffectiveAt, nested(prefix, "effective_at"), f)
	if len([]rune(in.Description)) > maxDescriptionLen {
		f.add(nested(prefix, "description"), "TOO_LONG", "at most %d characters", maxDescriptionLen)
	}
	checkMetadata(in.Metadata, nested(prefix, "metadata"), f)
	field := nested(prefix, "postings")
	switch n := len(in.Postings); {
	case n == 0:
		f.add(field, "REQUIRED", "an entry needs at least two postings")
		return req
	case n == 1:
		f.add(field, "TOO_FEW_POSTINGS", "an entry needs at least two postings")
	case n > ledger.MaxPostings:
		f.add(field, "TOO_MANY_POSTINGS", "an entry has at most %d postings, got %d", ledger.MaxPostings, n)
		return req
	}
	req.Postings = make([]ledger.PostingRequest, len(in.Postings))
	for i, p := range in.Postings {
		at := indexed(field, i)
		req.Postings[i] = ledger.PostingRequest{
			AccountID: parseUUID(p.AccountID, nested(at, "account_id"), f),
			Direction: parseDirection(p.Direction, nested(at, "direction"), f),
			Amount:    parseAmount(p.Amount, nested(at, "amount"), f),
			Currency:  parseCurrency(p.Currency, nested(at, "currency"), f),
		}
	}
	return req
}

// postEntry: POST /v1/entries, with a required Idempotency-Key.
func (s *Server) postEntry(c echo.Context) error {
	key, err := idempotencyKey(c, true)
	if err != nil {
		return err
	}
	var in entryInput
	if err := decodeBody(c, &in, maxBody, false); err != nil {
		return err
	}
	var f fields
	req := in.parse("", key, &f)
	if err := f.err(); err != nil {
		return err
	}
	e, replayed, err := s.ledger.Post(c.Request().Context(), actor(c), req)
	if err != nil {
		return err
	}
	return replayable(c, http.StatusCreated, replayed, viewEntry(e))
}

// getEntry: GET /v1/entries/{id}.
func (s *Server) getEntry(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	e, err := s.ledger.Entry(c.Request().Context(), actor(c).Tenant, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, viewEntry(e))
}

// reverseInput is the optional body of POST /v1/entries/{id}/reverse.
type reverseInput struct {
	Description string `json:"description"`
}

// reverseEntry: POST /v1/entries/{id}/reverse. Without an Idempotency-Key
// the ledger derives one from the entry, so a retry replays.
func (s *Server) reverseEntry(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	key, err := idempotencyKey(c, false)
	if err != nil {
		return err
	}
	var in reverseInput
	if err := decodeBody(c, &in, maxBody, true); err != nil {
		return err
	}
	if len([]rune(in.Description)) > maxDescriptionLen {
		var f fields
		f.add("description", "TOO_LONG", "at most %d characters", maxDescriptionLen)
		return f.err()
	}
	e, replayed, err := s.ledger.Reverse(c.Request().Context(), actor(c), id, key, in.Description)
	if err != nil {
		return err
	}
	return replayable(c, http.StatusCreated, replayed, viewEntry(e))
}
