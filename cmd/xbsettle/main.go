// Command xbsettle is the one binary of xbsettle: the HTTP API, the
// background workers, migrations, API keys and the audit check.
//
//	xbsettle serve | worker | all | migrate | keys create --role R [--tenant ID] | verify | demo | bench
//
// Configuration comes from the environment (XBS_ENV, XBS_SECRET_KEY,
// XBS_DATABASE_URL, XBS_MIGRATE_DATABASE_URL, XBS_REDIS_ADDR, …; see
// internal/config).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/xbsettle/xbsettle/api"
	"github.com/xbsettle/xbsettle/internal/config"
)

const usage = `usage: xbsettle COMMAND [FLAGS]

commands:
  serve                               run the HTTP API (migrates first with XBS_MIGRATE_DATABASE_URL)
  worker [-scheduler=false]           run the background workers and the periodic scheduler
  all                                 serve and worker in one process
  migrate                             apply pending migrations as the owner (XBS_MIGRATE_DATABASE_URL), grant the app role
  keys create --role R [--tenant ID]  make an API key; it is printed once, on the last line
  keys revoke --id UUID               revoke an API key
  verify [-seal]                      check every tenant's audit chain; exit 1 if an entry was altered
  demo [-seed N] [-parcels N]         drive a generated day of trade through the API and report it (make demo)
  bench [-duration D] [-scenarios S]  load the real API and write bench.json (make bench)
`

func main() {
	// SIGINT or SIGTERM cancels ctx: the long-running commands then stop
	// taking work and let what is in flight finish.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// exitError carries an exit status other than 1 up to main.
type exitError struct {
	code int
	err  error
}

func (e exitError) Error() string { return e.err.Error() }
func (e exitError) Unwrap() error { return e.err }

func usageError(format string, args ...any) error {
	return exitError{2, fmt.Errorf(format, args...)}
}

// run runs one command until it is done or ctx ends, and returns the
// process's exit status: 0 done, 1 failed (for verify: an entry was
// altered), 2 usage error.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cfg, err := config.FromEnv()
	if err != nil {
		fmt.Fprintf(stderr, "xbsettle: configuration: %v\n", err)
		return 2
	}
	slog.SetDefault(slog.New(api.LogHandler(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))))

	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		err = serve(ctx, cfg, rest, false)
	case "all":
		err = serve(ctx, cfg, rest, true)
	case "worker":
		err = work(ctx, cfg, rest)
	case "migrate":
		err = migrate(ctx, cfg, rest)
	case "keys":
		err = keys(ctx, cfg, rest, stdout)
	case "verify":
		err = verify(ctx, cfg, rest, stdout)
	case "demo":
		err = demoCmd(ctx, cfg, rest, stdout, stderr)
	case "bench":
		err = benchCmd(ctx, cfg, rest, stdout)
	default:
		err = usageError("unknown command %q", cmd)
	}
	if err == nil {
		return 0
	}
	fmt.Fprintf(stderr, "xbsettle %s: %v\n", cmd, err)
	var ee exitError
	if errors.As(err, &ee) {
		if ee.code == 2 {
			fmt.Fprint(stderr, usage)
		}
		return ee.code
	}
	return 1
}
