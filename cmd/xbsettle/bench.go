package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/xbsettle/xbsettle/internal/bench"
	"github.com/xbsettle/xbsettle/internal/config"
)

// benchCmd: xbsettle bench. It needs a PostgreSQL server it may create a
// database on; `make bench` starts one and exports XBS_TEST_DATABASE_URL.
func benchCmd(ctx context.Context, cfg config.Config, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	duration := fs.Duration("duration", 15*time.Second, "how long each timed scenario runs")
	only := fs.String("scenarios", "", "comma-separated scenarios to run (default: all)")
	out := fs.String("out", "bench.json", "where to write the figures")
	chains := fs.Int("chains", bench.DefaultChains, "chains (of 4 documents) the clearance scenario posts and matches")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run (server, worker and clients) to this file")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	server := os.Getenv("XBS_TEST_DATABASE_URL")
	if server == "" {
		return usageError("bench: set XBS_TEST_DATABASE_URL to a PostgreSQL server URL it may create a database on (make bench does)")
	}
	// The clearance scenario schedules matching on Redis, as in production.
	bc := bench.Config{ServerURL: server, Duration: *duration, PoolSize: cfg.DBMaxConns,
		RedisAddr: os.Getenv("XBS_TEST_REDIS_ADDR"), RedisDB: cfg.RedisDB, Workers: cfg.Concurrency, Chains: *chains}
	if *only != "" {
		bc.Scenarios = strings.Split(*only, ",")
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	rep, err := bench.Run(ctx, bc, stdout)
	if err != nil {
		return err
	}
	bench.PrintTable(stdout, rep)
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(*out, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", *out, err)
	}
	fmt.Fprintf(stdout, "wrote %s\n", *out)
	return nil
}
