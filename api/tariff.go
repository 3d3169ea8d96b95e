package api

import (
	"encoding/json"
	"net/http"
	"regexp"

	"github.com/labstack/echo/v4"
	"github.com/shopspring/decimal"

	"github.com/xbsettle/xbsettle/settlement/clearance"
)

// The import tariff (docs/clearance.md, "Import tax"): operators (admin
// keys) read and change its lines; every change is recorded with the key
// that made it. Operators act for customs here: the tariff is customs'
// table, not a tenant's, so no other role may change it.
func (s *Server) tariffRoutes() {
	admin := []echo.MiddlewareFunc{s.authenticate, allow(RoleAdmin)}
	s.echo.GET("/v1/tariff/lines/:code", s.getTariffLines, admin...)
	s.echo.PUT("/v1/tariff/lines/:code/:validFrom", s.putTariffLine, admin...)
}

// tariffLineInput is the body of PUT /v1/tariff/lines/{code}/{validFrom}.
// Rates and thresholds are decimal strings; duty_rate and the thresholds
// may be left out.
type tariffLineInput struct {
	ValidTo                string          `json:"valid_to"`
	DutyRate               json.RawMessage `json:"duty_rate"`
	VATRate                json.RawMessage `json:"vat_rate"`
	ConsumptionRate        json.RawMessage `json:"consumption_rate"`
	ConsumptionMinPerMlOrG json.RawMessage `json:"consumption_min_per_ml_or_g"`
	ConsumptionMinPerPiece json.RawMessage `json:"consumption_min_per_piece"`
	Description            string          `json:"description"`
	Source                 string          `json:"source"`
}

// putTariffLine: PUT /v1/tariff/lines/{code}/{validFrom} (admin). Creates
// (201) or replaces (200) the line of the code from that day.
func (s *Server) putTariffLine(c echo.Context) error {
	var in tariffLineInput
	if err := decodeBody(c, &in, maxBody, false); err != nil {
		return err
	}
	var f fields
	l := clearance.TariffLine{Code: c.Param("code"), ValidFrom: clearance.Day(c.Param("validFrom")), ValidTo: clearance.Day(in.ValidTo),
		Duty: optionalDecimal(in.DutyRate, rateRE, "duty_rate", &f), VAT: requiredDecimal(in.VATRate, rateRE, "vat_rate", &f),
		Consumption:            requiredDecimal(in.ConsumptionRate, rateRE, "consumption_rate", &f),
		ConsumptionMinPerMlOrG: optionalDecimal(in.ConsumptionMinPerMlOrG, thresholdRE, "consumption_min_per_ml_or_g", &f),
		ConsumptionMinPerPiece: optionalDecimal(in.ConsumptionMinPerPiece, thresholdRE, "consumption_min_per_piece", &f),
		Description:            in.Description, Source: in.Source}
	for field, v := range map[string]string{"description": in.Description, "source": in.Source} {
		switch {
		case v == "":
			f.add(field, "REQUIRED", "say what the line is and which text it follows")
		case len(v) > maxDescriptionLen:
			f.add(field, "TOO_LONG", "at most %d bytes", maxDescriptionLen)
		}
	}
	if err := f.err(); err != nil {
		return err
	}
	created, err := s.clearance.PutTariffLine(c.Request().Context(), principal(c).KeyID.String(), l)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return c.JSON(status, l)
}

// getTariffLines: GET /v1/tariff/lines/{code} (admin). Every line of the
// code, by date, and their changes, oldest first.
func (s *Server) getTariffLines(c echo.Context) error {
	lines, changes, err := s.clearance.TariffLines(c.Request().Context(), c.Param("code"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"code": c.Param("code"), "lines": lines, "changes": changes})
}

// Rates (0.13; a duty rate may pass 1) and thresholds (CNY) as the tariff
// stores them: plain decimals, zero allowed, at most 5 decimals.
var (
	rateRE      = regexp.MustCompile(`^[0-9]{1,3}(\.[0-9]{1,5})?$`)
	thresholdRE = regexp.MustCompile(`^[0-9]{1,14}(\.[0-9]{1,5})?$`)
)

// requiredDecimal parses a decimal sent as a JSON string matching re.
func requiredDecimal(raw json.RawMessage, re *regexp.Regexp, field string, f *fields) decimal.Decimal {
	if d := optionalDecimal(raw, re, field, f); d != nil {
		return *d
	}
	if len(raw) == 0 || string(raw) == "null" {
		f.add(field, "REQUIRED", "this field is required")
	}
	return decimal.Zero
}

// optionalDecimal is requiredDecimal for a field that may be left out or
// null (nil then).
func optionalDecimal(raw json.RawMessage, re *regexp.Regexp, field string, f *fields) *decimal.Decimal {
	var s string
	switch {
	case len(raw) == 0 || string(raw) == "null":
	case raw[0] != '"' || json.Unmarshal(raw, &s) != nil:
		f.add(field, "AMOUNT_NOT_STRING", `send rates and amounts as JSON strings, such as "0.13"`)
	case !re.MatchString(s):
		f.add(field, "AMOUNT_INVALID", `want a plain decimal with at most 5 decimals, such as "0.13"`)
	default:
		d := decimal.RequireFromString(s)
		return &d
	}
	return nil
}
