// Package api is xbsettle's HTTP API on Echo: routing, API-key
// authentication, strict decoding at the edge, problem+json errors and the
// OpenAPI spec (openapi.yaml). Handlers are thin: decode, validate, call the
// domain service, encode.
package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/xbsettle/xbsettle/internal/jobs"
	"github.com/xbsettle/xbsettle/ledger"
	"github.com/xbsettle/xbsettle/risk"
	"github.com/xbsettle/xbsettle/settlement"
	"github.com/xbsettle/xbsettle/settlement/clearance"
)

// Deps is what the API needs to run.
type Deps struct {
	Ledger *ledger.Service
	// Clearance stores customs documents and answers chains.
	Clearance *clearance.Service
	// FX loads rates and gives quotes; Settlement takes settlement
	// instructions and answers batches, reports and reconciliations.
	FX         *settlement.FX
	Settlement *settlement.Service
	// Risk keeps enterprises, consents, FX categories, tax classes and
	// credit assessments.
	Risk *risk.Service
	Keys *KeyStore
	// Checks are the readiness probes of GET /readyz (PostgreSQL, Redis).
	Checks []Check
	// Logger receives the access log and errors; nil means slog.Default().
	Logger *slog.Logger
	// Registry receives the HTTP metrics and is served at /metrics; nil
	// means a new registry with the Go runtime and process collectors.
	Registry *prometheus.Registry
	// RequestTimeout is every request's deadline; 0 means
	// DefaultRequestTimeout.
	RequestTimeout time.Duration
}

// DefaultRequestTimeout is how long a request may take unless
// Deps.RequestTimeout says otherwise (XBS_REQUEST_TIMEOUT).
const DefaultRequestTimeout = 30 * time.Second

// Server is the HTTP API. Serve it with Serve or ListenAndServe and stop it
// with Shutdown; or mount Handler in a server of your own.
type Server struct {
	echo      *echo.Echo
	http      *http.Server
	ledger    *ledger.Service
	clearance *clearance.Service
	fx        *settlement.FX
	settle    *settlement.Service
	risk      *risk.Service
	keys      *KeyStore
	checks    []Check
	log       *slog.Logger
	metrics   httpMetrics
}

// New builds the API over its dependencies.
//
//	srv := api.New(api.Deps{Ledger: svc, Keys: api.NewKeyStore(db)})
//	go srv.ListenAndServe("127.0.0.1:8080")
//	defer srv.Shutdown(ctx)
func New(d Deps) *Server {
	log := d.Logger
	if log == nil {
		log = slog.Default()
	}
	reg := d.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), jobs.Collector())
	}
	if d.Ledger != nil {
		reg.MustRegister(d.Ledger.Collector())
	}

	s := &Server{ledger: d.Ledger, clearance: d.Clearance, fx: d.FX, settle: d.Settlement, risk: d.Risk, keys: d.Keys, checks: d.Checks, log: slog.New(LogHandler(log.Handler())),
		metrics: newHTTPMetrics(reg)}

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	// The direct peer, never X-Forwarded-For: anyone can send that header.
	e.IPExtractor = echo.ExtractIPDirect()
	e.HTTPErrorHandler = s.handleError
	e.Pre(sanitizeRequestID)
	timeout := d.RequestTimeout
	if timeout <= 0 {
		timeout = DefaultRequestTimeout
	}
	e.Use(requestIDMiddleware(), s.observe, s.recoverMiddleware(), deadline(timeout), plainParams)
	s.echo = e
	s.routes(promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))

	s.http = &http.Server{
		Handler:           e,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	return s
}

// routes registers every route; api/openapi.yaml lists the same set
// (TestSpecMatchesRoutes).
func (s *Server) routes(metrics http.Handler) {
	e := s.echo
	e.GET("/healthz", healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", echo.WrapHandler(metrics))
	e.GET("/openapi.yaml", openAPI)

	// Ledger reads and writes belong to payment institutions, for their own
	// tenant, and to admins for any.
	ledgerUser := []echo.MiddlewareFunc{s.authenticate, allow(RoleAdmin, RolePaymentInstitution), tenantScoped}
	adminOnly := []echo.MiddlewareFunc{s.authenticate, allow(RoleAdmin), tenantScoped}

	e.POST("/v1/accounts", s.createAccount, ledgerUser...)
	e.GET("/v1/accounts", s.listAccounts, ledgerUser...)
	e.GET("/v1/accounts/:id", s.getAccount, ledgerUser...)
	e.PATCH("/v1/accounts/:id", s.setAccountStatus, adminOnly...)
	e.GET("/v1/accounts/:id/balance", s.getBalance, ledgerUser...)
	e.GET("/v1/accounts/:id/postings", s.listPostings, ledgerUser...)

	e.POST("/v1/entries", s.postEntry, ledgerUser...)
	e.POST("/v1/entries/batch", s.postBatch, ledgerUser...)
	e.GET("/v1/entries/:id", s.getEntry, ledgerUser...)
	e.POST("/v1/entries/:id/reverse", s.reverseEntry, ledgerUser...)

	e.POST("/v1/holds", s.createHold, ledgerUser...)
	e.GET("/v1/holds/:id", s.getHold, ledgerUser...)
	e.POST("/v1/holds/:id/post", s.postHold, ledgerUser...)
	e.POST("/v1/holds/:id/void", s.voidHold, ledgerUser...)

	e.GET("/v1/audit/verify", s.verifyAudit, ledgerUser...)

	s.clearanceRoutes()
	s.tariffRoutes()
	s.settlementRoutes()
	s.riskRoutes()
}

// Echo is the underlying router, for tests and for mounting extra routes.
func (s *Server) Echo() *echo.Echo { return s.echo }

// Handler serves the API.
func (s *Server) Handler() http.Handler { return s.echo }

// Serve answers requests on l until Shutdown; it then returns nil.
func (s *Server) Serve(l net.Listener) error {
	err := s.http.Serve(l)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return fmt.Errorf("serve HTTP: %w", err)
}

// ListenAndServe listens on addr and serves until Shutdown; it then returns nil.
func (s *Server) ListenAndServe(addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	s.log.Info("HTTP API listening", "addr", l.Addr().String())
	return s.Serve(l)
}

// Shutdown stops accepting connections at once and waits, until ctx ends,
// for the requests in flight to finish.
func (s *Server) Shutdown(ctx context.Context) error {
	if err := s.http.Shutdown(ctx); err != nil {
		return fmt.Errorf("shut down HTTP: %w", err)
	}
	return nil
}
