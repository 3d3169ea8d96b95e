// Package config reads xbsettle's configuration from the environment.
package config

import (
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"time"
)

// Config is everything a process needs to start. Every field has an
// environment variable; README.md lists them.
type Config struct {
	Env         string        // XBS_ENV: production (the default) or development
	DatabaseURL string        // XBS_DATABASE_URL: as the app role, which owns nothing
	MigrateURL  string        // XBS_MIGRATE_DATABASE_URL: as the schema's owner; only migrations use it
	RedisAddr   string        // XBS_REDIS_ADDR
	RedisDB     int           // XBS_REDIS_DB
	HTTPAddr    string        // XBS_HTTP_ADDR
	LogLevel    slog.Level    // XBS_LOG_LEVEL: debug, info, warn, error
	DBMaxConns  int           // XBS_DB_MAX_CONNS: pool size; small pools are faster on few cores
	Concurrency int           // XBS_WORKER_CONCURRENCY: Asynq workers per process
	ShutdownIn  time.Duration // XBS_SHUTDOWN_TIMEOUT: how long in-flight requests may take to finish
	RequestIn   time.Duration // XBS_REQUEST_TIMEOUT: every request's deadline
	SecretKey   string        // XBS_SECRET_KEY: keys the hashes of personal ID numbers
	Cutoff      string        // XBS_CUTOFF: the daily settlement cut-off, HH:MM Beijing time
}

// The environments XBS_ENV names. Development is what `make run`, its
// scripts and the test harness set; anything deployed is production, the
// default, where a missing secret stops the process instead of falling back.
const (
	Production  = "production"
	Development = "development"
)

// DevelopmentSecretKey is the ID-hash key of a development process started
// without XBS_SECRET_KEY. It is public, so hashes made with it can be
// reversed by anyone: production refuses to start without a key of its own.
const DevelopmentSecretKey = "xbsettle-development-secret-change-me!"

// FromEnv reads the configuration, applying defaults for what is unset.
func FromEnv() (Config, error) {
	c := Config{
		Env:         env("XBS_ENV", Production),
		DatabaseURL: env("XBS_DATABASE_URL", "postgres://xbsettle_app@127.0.0.1:54329/xbsettle?sslmode=disable"),
		MigrateURL:  env("XBS_MIGRATE_DATABASE_URL", ""),
		RedisAddr:   env("XBS_REDIS_ADDR", "127.0.0.1:63799"),
		HTTPAddr:    env("XBS_HTTP_ADDR", "127.0.0.1:8080"),
		SecretKey:   env("XBS_SECRET_KEY", ""),
		Cutoff:      env("XBS_CUTOFF", "23:00"),
	}
	if c.Env != Production && c.Env != Development {
		return c, fmt.Errorf("XBS_ENV: want %s or %s, got %q", Production, Development, c.Env)
	}
	if c.SecretKey == "" {
		if !c.Development() {
			return c, fmt.Errorf("XBS_SECRET_KEY is not set: it keys the hashes of personal ID numbers and must be the deployment's own secret of at least 32 bytes (only XBS_ENV=%s falls back to a public key)", Development)
		}
		c.SecretKey = DevelopmentSecretKey
	}
	var err error
	if c.RedisDB, err = envInt("XBS_REDIS_DB", 0); err != nil {
		return c, err
	}
	if c.DBMaxConns, err = envInt("XBS_DB_MAX_CONNS", 16); err != nil {
		return c, err
	}
	if c.Concurrency, err = envInt("XBS_WORKER_CONCURRENCY", 8); err != nil {
		return c, err
	}
	if c.ShutdownIn, err = time.ParseDuration(env("XBS_SHUTDOWN_TIMEOUT", "15s")); err != nil {
		return c, fmt.Errorf("XBS_SHUTDOWN_TIMEOUT: %w", err)
	}
	if c.RequestIn, err = time.ParseDuration(env("XBS_REQUEST_TIMEOUT", "30s")); err != nil || c.RequestIn <= 0 {
		return c, fmt.Errorf("XBS_REQUEST_TIMEOUT: want a positive duration such as 30s, got %q", env("XBS_REQUEST_TIMEOUT", ""))
	}
	if len(c.SecretKey) < 32 {
		return c, fmt.Errorf("XBS_SECRET_KEY: want at least 32 bytes, got %d", len(c.SecretKey))
	}
	if _, err := time.Parse("15:04", c.Cutoff); err != nil || len(c.Cutoff) != 5 {
		return c, fmt.Errorf("XBS_CUTOFF: want HH:MM (Beijing time), such as 23:00, got %q", c.Cutoff)
	}
	if err := c.LogLevel.UnmarshalText([]byte(env("XBS_LOG_LEVEL", "info"))); err != nil {
		return c, fmt.Errorf("XBS_LOG_LEVEL: %w", err)
	}
	return c, nil
}

// Development reports XBS_ENV=development: missing secrets fall back to
// public ones and an app role that owns tables is only warned about.
func (c Config) Development() bool { return c.Env == Development }

func env(name, fallback string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return fallback
}

func envInt(name string, fallback int) (int, error) {
	v := env(name, "")
	if v == "" {
		return fallback, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s: want a non-negative integer, got %q", name, v)
	}
	return n, nil
}
