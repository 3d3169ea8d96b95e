package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/xbsettle/xbsettle/api"
	"github.com/xbsettle/xbsettle/settlement"
)

// Config is what a run of the demo needs.
type Config struct {
	// BaseURL is the API, such as http://127.0.0.1:8080.
	BaseURL string
	// Keys is the key store of the database the API runs on: the demo, as
	// the operator, makes every party's API key there (and revokes them
	// when it ends). Everything else goes through the API.
	Keys *api.KeyStore
	// Seed draws the day; the same seed gives the same day and report.
	Seed uint64
	// Parcels is the size of the day (default DefaultParcels).
	Parcels int
	// Tag namespaces the day's identifiers (default: from the clock), so
	// that several days can go into one database.
	Tag string
	// Progress receives the progress bar (nil: none); TTY redraws it in
	// place instead of writing lines.
	Progress io.Writer
	TTY      bool
	// HTTP is the client to use (default: one with a 60 s timeout).
	HTTP *http.Client
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// DefaultParcels is the size of a day unless told otherwise.
const DefaultParcels = 3000

// MaxParcels bounds a day: every parcel is four documents and a few
// requests, and the generator holds the day in memory.
const MaxParcels = 200_000

// Result is what a run produced: the day it generated (with its planted
// defects), the report read back through the API, and how the run went.
type Result struct {
	Day    *Day
	Report *Report

	API      string        // the API driven
	Settled  time.Time     // the settlement day (Beijing date, midnight UTC)
	Requests int64         // HTTP requests answered
	Took     time.Duration // the whole run
}

// String is the report under a header naming the run: what varies from
// one run of a seed to the next (tag, dates, timing) is up here only.
func (res *Result) String() string {
	return fmt.Sprintf("xbsettle demo: seed %d, %s parcels ordered on %s (Beijing), settled on %s\n"+
		"tag %s, %s, %s requests in %s\n\n%s", res.Day.Seed, count(len(res.Day.Parcels)), res.Day.Date.Format(time.DateOnly),
		res.Settled.Format(time.DateOnly), res.Day.Tag, res.API, count(int(res.Requests)), res.Took.Round(100*time.Millisecond), res.Report)
}

// Run generates the day of cfg.Seed and drives it through the API at
// cfg.BaseURL, phase by phase, then reads back the report. It stops at the
// first error or when ctx ends.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if cfg.Parcels == 0 {
		cfg.Parcels = DefaultParcels
	}
	if cfg.Parcels < 1 || cfg.Parcels > MaxParcels {
		return nil, fmt.Errorf("parcels: want 1 to %d, got %d", MaxParcels, cfg.Parcels)
	}
	if cfg.Keys == nil || cfg.BaseURL == "" {
		return nil, errors.New("demo: a key store and the API's URL are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 32}}
	}
	if cfg.Tag == "" {
		cfg.Tag = clockTag(cfg.Now())
	}
	if !validTag(cfg.Tag) {
		return nil, fmt.Errorf("tag %q: want 1 to 8 of 0-9 A-Z", cfg.Tag)
	}
	// The day is yesterday in Beijing: its parcels were ordered, paid,
	// declared and shipped then, and are settled today.
	began := cfg.Now()
	today := settlement.Today(began)
	r := &run{
		cfg:  cfg,
		c:    &client{base: strings.TrimRight(cfg.BaseURL, "/"), http: cfg.HTTP},
		day:  Generate(cfg.Seed, cfg.Parcels, cfg.Tag, today.AddDate(0, 0, -1)),
		prog: &progress{w: cfg.Progress, tty: cfg.TTY},
		keys: map[string]string{},
	}
	defer r.revokeKeys()
	for _, phase := range []func(context.Context) error{r.setup, r.submitDocuments, r.awaitVerdicts, r.settle, r.cutoff, r.classify, r.assess} {
		if err := phase(ctx); err != nil {
			r.prog.abort()
			return nil, err
		}
	}
	return &Result{Day: r.day, Report: r.report(), API: r.c.base, Settled: today, Requests: r.c.requests.Load(),
		Took: cfg.Now().Sub(began)}, nil
}

// clockTag is a default tag: the clock's seconds in base 36, upper case.
func clockTag(t time.Time) string {
	return strings.ToUpper(strconv.FormatInt(t.Unix()%(36*36*36*36*36*36), 36))
}

func validTag(s string) bool {
	if len(s) < 1 || len(s) > 8 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// run is one run's state: the day, the parties' keys and what the API
// answered, phase by phase.
type run struct {
	cfg  Config
	c    *client
	day  *Day
	prog *progress

	admin, bureau string            // the operator's and the FX bureau's keys
	keys          map[string]string // a party's key, by customs code
	keyIDs        []uuid.UUID       // every key made, to revoke at the end

	chains       map[string]*chainView // the verdicts read back, by orderNo
	instructions []instructionView     // the settlement instructions, as they ended
	batches      []batchView           // the batches of the settled value dates
	openDates    []string              // value dates whose cut-off is still ahead
	proposals    []proposalView        // the day's FX category proposals
	decisions    []decisionView        // the bureau's decisions on them
	assessments  []assessmentView      // the bank's credit assessments

	byOrder map[string]*Parcel // the day's parcels by order number
}

// key makes an API key in the operator's database and remembers it.
func (r *run) key(ctx context.Context, role api.Role, tenant string) (string, error) {
	p, key, err := r.cfg.Keys.Create(ctx, role, tenant)
	if err != nil {
		return "", fmt.Errorf("create %s key for %q: %w", role, tenant, err)
	}
	r.keyIDs = append(r.keyIDs, p.KeyID)
	return key, nil
}

// revokeKeys revokes the keys the run made: they were the demo's parties'
// and no one else should hold them. Failures are ignored: the run is over.
func (r *run) revokeKeys() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, id := range r.keyIDs {
		_ = r.cfg.Keys.Revoke(ctx, id)
	}
}

// workTimeout bounds every wait for the workers: to match the chains, to
// settle an instruction, to classify, to score. The clearance sweeper
// attaches any waybill left behind within 15 s.
const workTimeout = 3 * time.Minute

// await calls check every interval until it reports done or fails, for at
// most workTimeout; what names the wait in the timeout's error.
func await(ctx context.Context, every time.Duration, what string, check func(context.Context) (bool, error)) error {
	deadline := time.Now().Add(workTimeout)
	for {
		done, err := check(ctx)
		if err != nil || done {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: not done after %s", what, workTimeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(every):
		}
	}
}

// parallel runs fn over xs, at most n at a time, and returns the first
// error; after it the others see a cancelled context and no new x starts.
func parallel[T any](parent context.Context, n int, xs []T, fn func(context.Context, T) error) error {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	next := make(chan T)
	errs := make(chan error, n)
	for range n {
		go func() {
			var first error
			for x := range next {
				if first == nil {
					if first = fn(ctx, x); first != nil {
						cancel()
					}
				}
			}
			errs <- first
		}()
	}
feed:
	for _, x := range xs {
		select {
		case next <- x:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	var first error
	for range n {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	if first != nil {
		return first
	}
	return parent.Err()
}
