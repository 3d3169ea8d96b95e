package api

import (
	"encoding/json"
	"net/http"
	"regexp"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/shopspring/decimal"

	"github.com/xbsettle/xbsettle/risk"
)

// riskRoutes registers the enterprise, classification and credit routes
// (DESIGN §8, docs/risk.md).
func (s *Server) riskRoutes() {
	e := s.echo
	anyone := []echo.MiddlewareFunc{s.authenticate}
	admin := []echo.MiddlewareFunc{s.authenticate, allow(RoleAdmin)}
	staff := []echo.MiddlewareFunc{s.authenticate, allow(RoleAdmin, RoleFXBureau)}
	// A bank acts for itself; an admin for the bank it names.
	bank := []echo.MiddlewareFunc{s.authenticate, allow(RoleAdmin, RoleBank), tenantScoped}
	// The FX bureau registers held items of the institution it names.
	registrar := []echo.MiddlewareFunc{s.authenticate, allow(RoleAdmin, RoleFXBureau), bureauScoped}

	e.POST("/v1/enterprises", s.registerEnterprise, admin...)
	e.GET("/v1/enterprises/:id", s.getEnterprise, anyone...)
	e.PUT("/v1/enterprises/:id/tax-profile", s.setTaxProfile, admin...)
	e.POST("/v1/enterprises/:id/consents", s.grantConsent, anyone...)
	e.POST("/v1/enterprises/:id/violations", s.recordViolation, staff...)
	e.POST("/v1/enterprises/:id/reporting-gaps", s.recordReportingGap, staff...)
	e.GET("/v1/enterprises/:id/classification", s.getClassification, anyone...)

	e.POST("/v1/classifications/run", s.startClassificationRun, staff...)
	e.GET("/v1/classifications/runs/:id", s.getClassificationRun, staff...)
	e.GET("/v1/classifications/queue", s.classificationQueue, staff...)
	e.POST("/v1/classifications/:id/decision", s.decideClassification, staff...)

	e.POST("/v1/credit-assessments", s.requestAssessment, bank...)
	e.GET("/v1/credit-assessments/:id", s.getAssessment, s.authenticate, allow(RoleAdmin, RoleBank))

	e.POST("/v1/settlements/:id/items/:item_id/registration", s.registerHeldItem, registrar...)
}

// riskActor is who the risk service records as acting.
func riskActor(c echo.Context) risk.Actor {
	p := principal(c)
	return risk.Actor{By: p.KeyID.String(), Role: string(p.Role), Tenant: p.Tenant}
}

// enterpriseID reads the :id path parameter, a customs code. A value that
// can never be one is a field error, as a malformed UUID is elsewhere.
func enterpriseID(c echo.Context) (string, error) {
	id := c.Param("id")
	if !risk.ValidCustomsCode(id) {
		var f fields
		f.add("id", risk.FieldCustomsCode, "want a 10-character customs registration code (0-9, A-Z)")
		return "", f.err()
	}
	return id, nil
}

// seesEnterprise reports whether the caller may read an enterprise's
// records: admin and the FX bureau see every enterprise, any other key only
// its own tenant's. Anyone else is answered ENTERPRISE_NOT_FOUND, as if it
// did not exist.
func seesEnterprise(c echo.Context, id string) bool {
	p := principal(c)
	return p.Role == RoleAdmin || p.Role == RoleFXBureau || p.Tenant == id
}

// taxProfileInput is the tax profile as sent; amounts are decimal strings.
type taxProfileInput struct {
	ExporterKind       string          `json:"exporter_kind"`
	TaxCreditRating    *string         `json:"tax_credit_rating"`
	FirstRebateClaimOn string          `json:"first_rebate_claim_on"`
	NetAssetsCNY       json.RawMessage `json:"net_assets_cny"`
	RebatesCNY         json.RawMessage `json:"rebates_cny"`
	risk.TaxFindings
}

// parse reads the shapes; the rules are the domain's (TaxProfile.Validate).
func (in taxProfileInput) parse(at string, f *fields) risk.TaxProfile {
	p := risk.TaxProfile{ExporterKind: risk.ExporterKind(in.ExporterKind),
		NetAssetsCNY: parseCNY(in.NetAssetsCNY, nested(at, "net_assets_cny"), true, f),
		RebatesCNY:   parseCNY(in.RebatesCNY, nested(at, "rebates_cny"), false, f),
		TaxFindings:  in.TaxFindings}
	if in.TaxCreditRating == nil {
		f.add(nested(at, "tax_credit_rating"), "REQUIRED", `send the rating, or "" when not yet rated`)
	} else {
		p.Rating = risk.TaxCreditRating(*in.TaxCreditRating)
	}
	if in.FirstRebateClaimOn != "" {
		d := parseDate(in.FirstRebateClaimOn, nested(at, "first_rebate_claim_on"), f)
		p.FirstRebateClaimOn = &d
	}
	return p
}

// cnyRE is a CNY amount as tax profiles take it: to the fen, net assets
// may be negative (zero is allowed).
var cnyRE = regexp.MustCompile(`^-?[0-9]{1,13}(\.[0-9]{1,2})?$`)

// parseCNY parses a required CNY amount sent as a JSON string.
func parseCNY(raw json.RawMessage, field string, signed bool, f *fields) decimal.Decimal {
	var s string
	switch {
	case len(raw) == 0 || string(raw) == "null":
		f.add(field, "REQUIRED", "this field is required")
	case raw[0] != '"' || json.Unmarshal(raw, &s) != nil:
		f.add(field, "AMOUNT_NOT_STRING", `send amounts as JSON strings, such as "10.50"`)
	case !cnyRE.MatchString(s) || (!signed && s[0] == '-'):
		f.add(field, "AMOUNT_INVALID", `want a plain decimal with at most 2 decimals, such as "10.50"`)
	default:
		return decimal.RequireFromString(s)
	}
	return decimal.Zero
}

type enterpriseInput struct {
	CustomsCode  string           `json:"customs_code"`
	Name         string           `json:"name"`
	Kind         string           `json:"kind"`
	USCC         string           `json:"unified_social_credit_code"`
	RegisteredAt string           `json:"registered_at"`
	TaxProfile   *taxProfileInput `json:"tax_profile"`
}

// registerEnterprise: POST /v1/enterprises (admin). 201 registered, 200 the
// same registration again.
func (s *Server) registerEnterprise(c echo.Context) error {
	var in enterpriseInput
	if err := decodeBody(c, &in, maxBody, false); err != nil {
		return err
	}
	var f fields
	ne := risk.NewEnterprise{CustomsCode: in.CustomsCode, Name: in.Name, Kind: in.Kind, USCC: in.USCC}
	if in.RegisteredAt != "" {
		ne.RegisteredAt = parseDate(in.RegisteredAt, "registered_at", &f)
	}
	if in.TaxProfile != nil {
		p := in.TaxProfile.parse("tax_profile", &f)
		ne.TaxProfile = &p
	}
	if err := f.err(); err != nil {
		return err
	}
	ctx := c.Request().Context()
	e, created, err := s.risk.Register(ctx, riskActor(c), ne)
	if err != nil {
		return err
	}
	p, err := s.risk.Profile(ctx, e.CustomsCode)
	if err != nil {
		return err
	}
	return c.JSON(createdOrOK(created), viewProfile(p))
}

// getEnterprise: GET /v1/enterprises/{id}, with the FX category in effect
// and the export-rebate class.
func (s *Server) getEnterprise(c echo.Context) error {
	id, err := enterpriseID(c)
	if err != nil {
		return err
	}
	if !seesEnterprise(c, id) {
		return risk.ErrEnterpriseNotFound.With("no enterprise has customs code %q", id)
	}
	p, err := s.risk.Profile(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, viewProfile(p))
}

// setTaxProfile: PUT /v1/enterprises/{id}/tax-profile (admin). Replaces the
// profile and computes the tax class again.
func (s *Server) setTaxProfile(c echo.Context) error {
	id, err := enterpriseID(c)
	if err != nil {
		return err
	}
	var in taxProfileInput
	if err := decodeBody(c, &in, maxBody, false); err != nil {
		return err
	}
	var f fields
	p := in.parse("", &f)
	if err := f.err(); err != nil {
		return err
	}
	ctx := c.Request().Context()
	if _, err := s.risk.SetTaxProfile(ctx, riskActor(c), id, p); err != nil {
		return err
	}
	prof, err := s.risk.Profile(ctx, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, viewProfile(prof))
}

type consentInput struct {
	Bank       string `json:"bank"`
	ValidUntil string `json:"valid_until"`
}

// grantConsent: POST /v1/enterprises/{id}/consents, by the enterprise
// itself (any key of its tenant) or an admin.
func (s *Server) grantConsent(c echo.Context) error {
	id, err := enterpriseID(c)
	if err != nil {
		return err
	}
	p := principal(c)
	if p.Role == RoleFXBureau {
		return errForbidden.With("only the enterprise itself (or an admin) grants consents")
	}
	if p.Role != RoleAdmin && p.Tenant != id {
		return risk.ErrEnterpriseNotFound.With("no enterprise has customs code %q", id)
	}
	var in consentInput
	if err := decodeBody(c, &in, maxBody, false); err != nil {
		return err
	}
	var f fields
	until := parseTime(in.ValidUntil, "valid_until", &f)
	if err := f.err(); err != nil {
		return err
	}
	consent, err := s.risk.GrantConsent(c.Request().Context(), riskActor(c), id, in.Bank, until)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, consent)
}

type violationInput struct {
	Ref         string `json:"ref"`
	Severity    string `json:"severity"`
	OccurredOn  string `json:"occurred_on"`
	Description string `json:"description"`
}

// recordViolation: POST /v1/enterprises/{id}/violations (admin, FX bureau).
func (s *Server) recordViolation(c echo.Context) error {
	id, err := enterpriseID(c)
	if err != nil {
		return err
	}
	var in violationInput
	if err := decodeBody(c, &in, maxBody, false); err != nil {
		return err
	}
	var f fields
	v := risk.RecordedViolation{Enterprise: id, Ref: in.Ref, Severity: risk.Severity(in.Severity), Description: in.Description}
	v.OccurredOn = parseDate(in.OccurredOn, "occurred_on", &f)
	if err := f.err(); err != nil {
		return err
	}
	out, created, err := s.risk.RecordViolation(c.Request().Context(), riskActor(c), v)
	if err != nil {
		return err
	}
	return c.JSON(createdOrOK(created), map[string]any{"enterprise": out.Enterprise, "ref": out.Ref, "severity": out.Severity,
		"occurred_on": out.OccurredOn.Format(time.DateOnly), "description": out.Description, "recorded_at": out.RecordedAt,
		"recorded_by": out.RecordedBy})
}

type gapInput struct {
	Month string `json:"month"`
	Kind  string `json:"kind"`
}

// recordReportingGap: POST /v1/enterprises/{id}/reporting-gaps (admin, FX
// bureau): a month's report was missing or late.
func (s *Server) recordReportingGap(c echo.Context) error {
	id, err := enterpriseID(c)
	if err != nil {
		return err
	}
	var in gapInput
	if err := decodeBody(c, &in, maxBody, false); err != nil {
		return err
	}
	var f fields
	month, perr := time.Parse("2006-01", in.Month)
	if perr != nil {
		f.add("month", "DATE_INVALID", "want a month such as 2026-03")
	}
	if err := f.err(); err != nil {
		return err
	}
	g, created, err := s.risk.RecordReportingGap(c.Request().Context(), riskActor(c), risk.ReportingGap{Enterprise: id, Month: month, Kind: in.Kind})
	if err != nil {
		return err
	}
	return c.JSON(createdOrOK(created), map[string]any{"enterprise": g.Enterprise, "month": g.Month.Format("2006-01"),
		"kind": g.Kind, "recorded_at": g.RecordedAt, "recorded_by": g.RecordedBy})
}

// createdOrOK is 201 for a new record, 200 for one recorded before.
func createdOrOK(created bool) int {
	if created {
		return http.StatusCreated
	}
	return http.StatusOK
}
