package api

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/xbsettle/xbsettle/internal/apperr"
	"github.com/xbsettle/xbsettle/ledger"
)

// headerTenant names the tenant an admin acts for.
const headerTenant = "X-Tenant-ID"

// authenticate requires a valid bearer key and records its principal.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		scheme, key, ok := strings.Cut(c.Request().Header.Get(echo.HeaderAuthorization), " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return errUnauthenticated
		}
		p, err := s.keys.Authenticate(c.Request().Context(), strings.TrimSpace(key))
		if errors.Is(err, ErrBadKey) {
			return errUnauthenticated.With("the API key is malformed, unknown or revoked")
		}
		if err != nil {
			return err
		}
		c.Set(ctxPrincipal, p)
		return next(c)
	}
}

// allow lets only the given roles through; it runs after authenticate.
func allow(roles ...Role) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			p := principal(c)
			if !slices.Contains(roles, p.Role) {
				return errForbidden.With("a %s key may not %s %s", p.Role, c.Request().Method, c.Path())
			}
			return next(c)
		}
	}
}

// tenantScoped settles whose ledger a request touches: the key's tenant, or
// for an admin the X-Tenant-ID header. A non-admin naming another tenant is
// refused rather than silently answered for its own.
func tenantScoped(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		p := principal(c)
		named := c.Request().Header.Get(headerTenant)
		tenant := p.Tenant
		switch {
		case named != "" && !validTenant(named):
			return apperr.Invalid([]apperr.FieldError{{Field: headerTenant, Code: "TENANT_INVALID",
				Message: fmt.Sprintf("want 1 to %d of A-Z a-z 0-9 . _ : -", maxTenantLen)}})
		case named != "" && p.Role == RoleAdmin:
			tenant = named
		case named != "" && named != p.Tenant:
			return errForbidden.With("a %s key acts only for its own tenant", p.Role)
		}
		if tenant == "" {
			return errTenantRequired
		}
		c.Set(ctxActor, ledger.Actor{Tenant: tenant, By: p.KeyID.String()})
		return next(c)
	}
}

// principal is the authenticated caller.
func principal(c echo.Context) Principal {
	p, _ := c.Get(ctxPrincipal).(Principal)
	return p
}

// actor is who the ledger records as acting, set by tenantScoped.
func actor(c echo.Context) ledger.Actor {
	a, _ := c.Get(ctxActor).(ledger.Actor)
	return a
}
