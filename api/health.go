package api

import (
	"context"
	_ "embed"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/xbsettle/xbsettle/ledger"
)

// Spec is the OpenAPI 3.1 description of the API, served at /openapi.yaml.
//
//go:embed openapi.yaml
var Spec []byte

// Check is one readiness probe: a dependency the API cannot work without.
type Check struct {
	Name string
	Ping func(ctx context.Context) error
}

// checkTimeout bounds each readiness probe, so /readyz answers even when a
// dependency hangs.
const checkTimeout = 2 * time.Second

// healthz: GET /healthz. The process is up and serving.
func healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// readyz: GET /readyz. Every dependency answers; 503 names those that do not.
func (s *Server) readyz(c echo.Context) error {
	states := make(map[string]string, len(s.checks))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, chk := range s.checks {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(c.Request().Context(), checkTimeout)
			defer cancel()
			state := "ok"
			if err := chk.Ping(ctx); err != nil {
				state = "unreachable"
				s.log.WarnContext(ctx, "readiness check failed", "check", chk.Name, "err", err)
			}
			mu.Lock()
			states[chk.Name] = state
			mu.Unlock()
		})
	}
	wg.Wait()
	var failed []string
	for _, chk := range s.checks {
		if states[chk.Name] != "ok" {
			failed = append(failed, chk.Name)
		}
	}
	if len(failed) == 0 {
		return c.JSON(http.StatusOK, map[string]any{"status": "ready", "checks": states})
	}
	p := problemOf(errNotReady.With("unreachable: %v", failed))
	p.RequestID, p.Checks = requestID(c), states
	return writeProblem(c, p)
}

// openAPI: GET /openapi.yaml.
func openAPI(c echo.Context) error {
	return c.Blob(http.StatusOK, "application/yaml", Spec)
}

// verifyAudit: GET /v1/audit/verify?after=&limit= checks a page of the
// tenant's hash chain; next_after names the next page.
func (s *Server) verifyAudit(c echo.Context) error {
	after, limit, err := verifyPage(c)
	if err != nil {
		return err
	}
	r, err := s.ledger.Verify(c.Request().Context(), actor(c).Tenant, after, limit)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r)
}

// verifyPage reads ?after= (a chain position, default 0: the start) and
// ?limit= (seals to check, 1 to ledger.MaxVerifyPage, default the most).
func verifyPage(c echo.Context) (after int64, limit int, err error) {
	var f fields
	limit = ledger.MaxVerifyPage
	if s := c.QueryParam("after"); s != "" {
		if after, err = strconv.ParseInt(s, 10, 64); err != nil || after < 0 {
			f.add("after", "AFTER_INVALID", "want a chain position: an integer from 0")
		}
	}
	if s := c.QueryParam("limit"); s != "" {
		if limit, err = strconv.Atoi(s); err != nil || limit < 1 || limit > ledger.MaxVerifyPage {
			f.add("limit", "LIMIT_INVALID", "want an integer from 1 to %d", ledger.MaxVerifyPage)
		}
	}
	return after, limit, f.err()
}
