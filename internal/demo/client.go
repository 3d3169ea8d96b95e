package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/xbsettle/xbsettle/api"
)

// client is the demo's HTTP client of the public API: every party's
// request goes through it with that party's key, as its own software would
// send it.
type client struct {
	base     string
	http     *http.Client
	requests atomic.Int64 // requests answered, for the report
}

// maxAttempts bounds the retries of a request that failed in transport or
// with a 5xx: every request the demo sends is safe to repeat (documents
// replay, settlements carry an Idempotency-Key, the cut-off is idempotent).
const maxAttempts = 5

// maxAnswer caps what is read of one answer (a page of 500 report lines is
// far below it).
const maxAnswer = 32 << 20

// APIError is an answer outside 2xx: the problem the API sent.
type APIError struct {
	Method, Path string
	api.Problem
}

func (e *APIError) Error() string {
	return fmt.Sprintf("%s %s: %d %s: %s", e.Method, e.Path, e.Status, e.Code, e.Detail)
}

// isCode reports whether err is an API answer with that problem code.
func isCode(err error, code string) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Code == code
}

// req is one request: the party's key, and headers as name, value pairs.
type req struct {
	key, method, path string
	body              any // JSON-encoded; json.RawMessage passes as is
	xml               []byte
	headers           []string
}

// do sends r and decodes a 2xx answer into out (nil: ignored). It retries
// transport failures and 5xx answers a bounded number of times, backing
// off, and gives up when ctx ends.
func (c *client) do(ctx context.Context, r req, out any) error {
	_, err := c.call(ctx, r, out)
	return err
}

// call is do, also answering the status of a 2xx answer (201 created, 200
// a replay).
func (c *client) call(ctx context.Context, r req, out any) (int, error) {
	body := r.xml
	if r.body != nil {
		var err error
		if body, err = json.Marshal(r.body); err != nil {
			return 0, fmt.Errorf("encode %s %s: %w", r.method, r.path, err)
		}
	}
	var last error
	for attempt := range maxAttempts {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return 0, fmt.Errorf("%s %s: %w (last: %w)", r.method, r.path, ctx.Err(), last)
			case <-time.After(time.Duration(100<<attempt) * time.Millisecond):
			}
		}
		status, raw, err := c.once(ctx, r, body)
		switch {
		case err != nil:
			last = err
			continue
		case status >= 500:
			last = c.problem(r, status, raw)
			continue
		case status >= 300:
			return status, c.problem(r, status, raw)
		}
		if out == nil || len(raw) == 0 {
			return status, nil
		}
		if err := json.Unmarshal(raw, out); err != nil {
			return status, fmt.Errorf("decode %s %s: %w", r.method, r.path, err)
		}
		return status, nil
	}
	return 0, fmt.Errorf("%s %s: gave up after %d attempts: %w", r.method, r.path, maxAttempts, last)
}

// once sends one attempt and reads the whole answer.
func (c *client) once(ctx context.Context, r req, body []byte) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	hr, err := http.NewRequestWithContext(ctx, r.method, c.base+r.path, rd)
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s: %w", r.method, r.path, err)
	}
	switch {
	case r.xml != nil:
		hr.Header.Set("Content-Type", "application/xml")
	case body != nil:
		hr.Header.Set("Content-Type", "application/json")
	}
	if r.key != "" {
		hr.Header.Set("Authorization", "Bearer "+r.key)
	}
	for i := 0; i+1 < len(r.headers); i += 2 {
		hr.Header.Set(r.headers[i], r.headers[i+1])
	}
	resp, err := c.http.Do(hr)
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s: %w", r.method, r.path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return 0, nil, fmt.Errorf("read %s %s: %w", r.method, r.path, err)
	}
	c.requests.Add(1)
	return resp.StatusCode, raw, nil
}

// problem turns an error answer into an *APIError, keeping a body that is
// not a problem as its detail.
func (c *client) problem(r req, status int, raw []byte) error {
	e := &APIError{Method: r.method, Path: r.path}
	if json.Unmarshal(raw, &e.Problem) != nil || e.Code == "" {
		e.Problem = api.Problem{Detail: strings.TrimSpace(string(raw))}
	}
	e.Status = status
	return e
}

// page is a list answer (GET lists page with ?limit=&cursor=).
type page[T any] struct {
	Data       []T     `json:"data"`
	NextCursor *string `json:"next_cursor"`
}

// list reads every page of a list at path (which has a query already or
// not), at most maxPages pages of 500.
func list[T any](ctx context.Context, c *client, key, path string, headers ...string) ([]T, error) {
	const maxPages = 1000
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	var all []T
	cursor := ""
	for range maxPages {
		p := path + sep + "limit=500"
		if cursor != "" {
			p += "&cursor=" + url.QueryEscape(cursor)
		}
		var pg page[T]
		if err := c.do(ctx, req{key: key, method: http.MethodGet, path: p, headers: headers}, &pg); err != nil {
			return nil, err
		}
		all = append(all, pg.Data...)
		if pg.NextCursor == nil || *pg.NextCursor == "" {
			return all, nil
		}
		cursor = *pg.NextCursor
	}
	return nil, fmt.Errorf("GET %s: more than %d pages", path, maxPages)
}
