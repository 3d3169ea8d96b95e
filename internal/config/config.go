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
	DatabaseURL string        // XBS_DATABASE_URL
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

// FromEnv reads the configuration, applying defaults for what is unset.
func FromEnv() (Config, error) {
	c := Config{
		DatabaseURL: env("XBS_DATABASE_URL", "postgres://postgres@127.0.0.1:54329/xbsettle?sslmode=disable"),
		RedisAddr:   env("XBS_REDIS_ADDR", "127.0.0.1:63799"),
		HTTPAddr:    env("XBS_HTTP_ADDR", "127.0.0.1:8080"),
		SecretKey:   env("XBS_SECRET_KEY", "xbsettle-development-secret-change-me!"),
		Cutoff:      env("XBS_CUTOFF", "23:00"),
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
