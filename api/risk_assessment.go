package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/xbsettle/xbsettle/risk"
	"github.com/xbsettle/xbsettle/settlement"
)

type assessmentInput struct {
	Enterprise string `json:"enterprise"`
	AsOf       string `json:"as_of"`
}

// requestAssessment: POST /v1/credit-assessments (bank; admin for the bank
// it names). Stored first, scored by a worker: 202 with the pending
// assessment; 403 CONSENT_REQUIRED without a consent in force.
func (s *Server) requestAssessment(c echo.Context) error {
	key, err := idempotencyKey(c, false)
	if err != nil {
		return err
	}
	var in assessmentInput
	if err := decodeBody(c, &in, maxBody, false); err != nil {
		return err
	}
	var f fields
	asOf := parseTime(in.AsOf, "as_of", &f)
	if err := f.err(); err != nil {
		return err
	}
	act := riskActor(c)
	act.Tenant = actor(c).Tenant // the bank: the key's tenant, or the one an admin names
	a, replayed, err := s.risk.RequestAssessment(c.Request().Context(), act,
		risk.AssessmentRequest{Enterprise: in.Enterprise, AsOf: asOf, IdempotencyKey: key})
	if err != nil {
		return err
	}
	return replayable(c, http.StatusAccepted, replayed, viewAssessment(a))
}

// getAssessment: GET /v1/credit-assessments/{id}. A bank reads its own
// (another bank's is 404); an admin reads any, or the named bank's.
func (s *Server) getAssessment(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	p := principal(c)
	bank := p.Tenant
	if p.Role == RoleAdmin {
		bank = c.Request().Header.Get(headerTenant)
	}
	a, err := s.risk.Assessment(c.Request().Context(), bank, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, viewAssessment(a))
}

type registrationInput struct {
	Action    string `json:"action"`
	Reference string `json:"reference"`
	Reason    string `json:"reason"`
}

// registerHeldItem: POST /v1/settlements/{id}/items/{item_id}/registration
// (FX bureau, admin; X-Tenant-ID names the institution). Releases a held
// (category C) item to settle, or refuses it.
func (s *Server) registerHeldItem(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	var f fields
	item := parseUUID(c.Param("item_id"), "item_id", &f)
	if err := f.err(); err != nil {
		return err
	}
	var in registrationInput
	if err := decodeBody(c, &in, maxBody, false); err != nil {
		return err
	}
	ins, err := s.settle.RegisterHeld(c.Request().Context(), actor(c), id, item,
		settlement.Registration{Action: in.Action, Reference: in.Reference, Reason: in.Reason})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, viewInstruction(ins))
}
