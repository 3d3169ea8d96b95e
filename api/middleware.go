package api

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
)

// Keys of the values handlers find on echo.Context.
const (
	ctxPrincipal = "xbs.principal"
	ctxActor     = "xbs.actor"
)

// ctxKey keys the request id on a context.Context, for LogHandler.
type ctxKey struct{}

// maxRequestIDLen bounds a client-supplied X-Request-ID: it is echoed and
// logged, so it must be short and plain.
const maxRequestIDLen = 128

// sanitizeRequestID drops a client's X-Request-ID that is too long or holds
// anything but letters, digits and ".-_:", so that a fresh one is generated
// and no one can write odd bytes into our logs.
func sanitizeRequestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Request().Header
		if id := h.Get(echo.HeaderXRequestID); id != "" && !plainToken(id, maxRequestIDLen) {
			h.Del(echo.HeaderXRequestID)
		}
		return next(c)
	}
}

// plainToken reports whether s is 1..max characters of [A-Za-z0-9._:-].
func plainToken(s string, max int) bool {
	if len(s) == 0 || len(s) > max {
		return false
	}
	for _, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_' || r == ':'
		if !ok {
			return false
		}
	}
	return true
}

// requestIDMiddleware gives every request an id, echoed in X-Request-ID and
// put on the request's context.Context, where LogHandler finds it for every
// record logged with that context, ours or the domain packages'.
func requestIDMiddleware() echo.MiddlewareFunc {
	return middleware.RequestIDWithConfig(middleware.RequestIDConfig{
		RequestIDHandler: func(c echo.Context, id string) {
			r := c.Request()
			c.SetRequest(r.WithContext(context.WithValue(r.Context(), ctxKey{}, id)))
		},
	})
}

// deadline puts a deadline on every request's context: what a handler does
// with it (reading and checking the body, queries, the ledger's batches)
// stops there, and the request is answered 503 UNAVAILABLE, so that no
// request holds a connection and a core for longer.
func deadline(d time.Duration) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			ctx, cancel := context.WithTimeout(c.Request().Context(), d)
			defer cancel()
			c.SetRequest(c.Request().WithContext(ctx))
			return next(c)
		}
	}
}

// plainParams refuses path and query parameters that hold a control
// character or are not UTF-8, before any handler passes them to a query:
// PostgreSQL cannot even store a NUL, and would answer it with an error.
// Bodies have the same rule (guardJSON).
func plainParams(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		var f fields
		check := func(name, v string) {
			switch {
			case !utf8.ValidString(v):
				f.add(name, "UTF8_INVALID", "the parameter is not UTF-8")
			case strings.ContainsFunc(v, isControl):
				f.add(name, codeControlCharacter, "control characters (U+0000–U+001F, U+007F–U+009F) are not accepted")
			}
		}
		for i, name := range c.ParamNames() {
			if i < len(c.ParamValues()) {
				check(name, c.ParamValues()[i])
			}
		}
		for name, vs := range c.QueryParams() {
			check(name, name)
			for _, v := range vs {
				check(name, v)
			}
		}
		if err := f.err(); err != nil {
			return err
		}
		return next(c)
	}
}

// requestID is the id of the request, as sent in X-Request-ID.
func requestID(c echo.Context) string {
	return c.Response().Header().Get(echo.HeaderXRequestID)
}

// observe writes the access log line and the request metrics. It wraps the
// handlers and the recoverer and resolves errors into responses itself, so
// it sees the status actually sent.
func (s *Server) observe(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		if err := next(c); err != nil {
			c.Error(err)
		}
		took := time.Since(start)
		status := c.Response().Status
		// The route is a registered template (or empty), never the raw
		// path: probing URLs must not create unbounded metric series.
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		s.metrics.requests.WithLabelValues(route, c.Request().Method, strconv.Itoa(status)).Inc()
		s.metrics.latency.WithLabelValues(route, c.Request().Method).Observe(took.Seconds())

		attrs := []slog.Attr{
			slog.String("method", c.Request().Method),
			slog.String("route", route),
			slog.Int("status", status),
			slog.Duration("latency", took),
			slog.Int64("bytes_out", c.Response().Size),
			slog.String("remote_ip", c.RealIP()),
		}
		if p, ok := c.Get(ctxPrincipal).(Principal); ok {
			attrs = append(attrs, slog.String("key_id", p.KeyID.String()))
		}
		level := slog.LevelInfo
		if status >= 500 {
			level = slog.LevelError
		}
		s.log.LogAttrs(c.Request().Context(), level, "http request", attrs...)
		return nil
	}
}

// recoverMiddleware turns a panic into a 500 INTERNAL, logging its stack.
func (s *Server) recoverMiddleware() echo.MiddlewareFunc {
	return middleware.RecoverWithConfig(middleware.RecoverConfig{
		LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			s.log.ErrorContext(c.Request().Context(), "panic", "err", err, "stack", string(stack))
			return err
		},
	})
}

// httpMetrics are the request counters and latency histograms.
type httpMetrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

func newHTTPMetrics(reg prometheus.Registerer) httpMetrics {
	m := httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "xbsettle_http_requests_total",
			Help: "HTTP requests answered, by route template, method and status.",
		}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "xbsettle_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route template and method.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "method"}),
	}
	reg.MustRegister(m.requests, m.latency)
	return m
}

// LogHandler wraps h so that records logged with a request's context carry
// its request_id, whichever package logs them. Wrapping twice is harmless.
func LogHandler(h slog.Handler) slog.Handler {
	if ch, ok := h.(contextHandler); ok {
		return ch
	}
	return contextHandler{h}
}

type contextHandler struct{ slog.Handler }

func (h contextHandler) Handle(ctx context.Context, r slog.Record) error {
	if id, ok := ctx.Value(ctxKey{}).(string); ok {
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h contextHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return contextHandler{h.Handler.WithAttrs(as)}
}

func (h contextHandler) WithGroup(name string) slog.Handler {
	return contextHandler{h.Handler.WithGroup(name)}
}
