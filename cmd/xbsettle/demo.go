package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/xbsettle/xbsettle/api"
	"github.com/xbsettle/xbsettle/internal/config"
	"github.com/xbsettle/xbsettle/internal/demo"
)

// demoCmd: xbsettle demo. It generates a day of trade and drives it
// through the HTTP API: the one at -api, else the one answering at
// XBS_HTTP_ADDR (`make run`'s), else an API and workers it serves itself
// on a free loopback port for as long as the demo runs. Either way the API
// keys are made in XBS_DATABASE_URL, which must be the API's database. The
// progress goes to stderr, the report to stdout.
func demoCmd(ctx context.Context, cfg config.Config, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	seed := fs.Uint64("seed", 1, "draws the day: the same seed gives the same day and report")
	parcels := fs.Int("parcels", demo.DefaultParcels, "parcels in the day")
	tag := fs.String("tag", "", "namespaces the day's identifiers, so several days fit in one database (default: from the clock)")
	apiURL := fs.String("api", "", "the API to drive (default: http://$XBS_HTTP_ADDR if it answers, else one served here)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *parcels < 1 || *parcels > demo.MaxParcels {
		return usageError("demo: -parcels: want 1 to %d, got %d", demo.MaxParcels, *parcels)
	}
	if os.Getenv("XBS_LOG_LEVEL") == "" {
		// The progress bar shares stderr: an API served here logs only
		// what needs attention.
		slog.SetDefault(slog.New(api.LogHandler(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))))
	}
	d, err := openService(ctx, cfg)
	if err != nil {
		return err
	}
	defer d.Close()

	base := *apiURL
	if base == "" {
		base = "http://" + cfg.HTTPAddr
		if !answers(ctx, base) {
			local, stop, err := serveHere(ctx, cfg)
			if err != nil {
				return err
			}
			defer stop()
			fmt.Fprintf(stderr, "nothing answers at %s: serving the API and workers here, at %s\n", base, local)
			base = local
		}
	}
	res, err := demo.Run(ctx, demo.Config{BaseURL: base, Keys: api.NewKeyStore(d), Seed: *seed, Parcels: *parcels,
		Tag: *tag, Progress: stderr, TTY: isTerminal(stderr)})
	if err != nil {
		return err
	}
	_, err = fmt.Fprint(stdout, res)
	return err
}

// answers reports whether an xbsettle API answers GET /healthz at base.
func answers(ctx context.Context, base string) bool {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/healthz", nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// serveHere runs `xbsettle all` in this process on a free loopback port,
// without the periodic scheduler (a deployment runs exactly one, and the
// demo runs its cut-off on demand), and waits until it is ready. stop
// shuts it down gracefully.
func serveHere(ctx context.Context, cfg config.Config) (base string, stop func(), err error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("find a free port: %w", err)
	}
	cfg.HTTPAddr = l.Addr().String()
	l.Close()
	base = "http://" + cfg.HTTPAddr
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- serve(sctx, cfg, []string{"-scheduler=false"}, true) }()
	stop = func() { cancel(); <-done }
	deadline := time.Now().Add(30 * time.Second)
	for !answers(ctx, base) {
		select {
		case err := <-done:
			cancel()
			if err == nil {
				err = errors.New("it stopped before answering")
			}
			return "", nil, fmt.Errorf("serve the API here: %w", err)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			stop()
			return "", nil, fmt.Errorf("the API served here at %s did not answer within 30 s", base)
		}
	}
	return base, stop, nil
}

// isTerminal reports whether w is a terminal that can redraw a line.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || os.Getenv("TERM") == "dumb" {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
