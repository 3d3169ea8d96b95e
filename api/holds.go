package api

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/shopspring/decimal"
)

// holdInput is the body of POST /v1/holds: an entry and when it lapses.
type holdInput struct {
	entryInput
	ExpiresAt string `json:"expires_at"`
}

// createHold: POST /v1/holds, with a required Idempotency-Key.
func (s *Server) createHold(c echo.Context) error {
	key, err := idempotencyKey(c, true)
	if err != nil {
		return err
	}
	var in holdInput
	if err := decodeBody(c, &in, maxBody, false); err != nil {
		return err
	}
	var f fields
	req := in.parse("", key, &f)
	var expires *time.Time
	if t := parseTime(in.ExpiresAt, "expires_at", &f); !t.IsZero() {
		expires = &t
		if !t.After(time.Now()) {
			f.add("expires_at", "EXPIRES_AT_IN_PAST", "a hold must expire in the future")
		}
	}
	if err := f.err(); err != nil {
		return err
	}
	h, replayed, err := s.ledger.CreateHold(c.Request().Context(), actor(c), req, expires)
	if err != nil {
		return err
	}
	return replayable(c, http.StatusCreated, replayed, viewHold(h))
}

// getHold: GET /v1/holds/{id}.
func (s *Server) getHold(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	h, err := s.ledger.Hold(c.Request().Context(), actor(c).Tenant, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, viewHold(h))
}

// holdPostInput is the optional body of POST /v1/holds/{id}/post.
type holdPostInput struct {
	Amount json.RawMessage `json:"amount"`
}

// postHold: POST /v1/holds/{id}/post, in full or, with {"amount"}, in part.
func (s *Server) postHold(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	key, err := idempotencyKey(c, false)
	if err != nil {
		return err
	}
	var in holdPostInput
	if err := decodeBody(c, &in, maxBody, true); err != nil {
		return err
	}
	var amount *decimal.Decimal
	if len(in.Amount) > 0 && string(in.Amount) != "null" {
		var f fields
		d := parseAmount(in.Amount, "amount", &f)
		if err := f.err(); err != nil {
			return err
		}
		amount = &d
	}
	h, replayed, err := s.ledger.PostHold(c.Request().Context(), actor(c), id, amount, key)
	if err != nil {
		return err
	}
	return replayable(c, http.StatusOK, replayed, viewHold(h))
}

// voidHold: POST /v1/holds/{id}/void. The body, if any, must be {}.
func (s *Server) voidHold(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	key, err := idempotencyKey(c, false)
	if err != nil {
		return err
	}
	if err := decodeBody(c, &struct{}{}, maxBody, true); err != nil {
		return err
	}
	h, replayed, err := s.ledger.VoidHold(c.Request().Context(), actor(c), id, key)
	if err != nil {
		return err
	}
	return replayable(c, http.StatusOK, replayed, viewHold(h))
}
