package config

import (
	"strings"
	"testing"
)

// TestSecretKeyOutsideDevelopment: production (the default) refuses to
// start without XBS_SECRET_KEY; only development falls back to the public
// key, and a key that is set is used as it is in either.
func TestSecretKeyOutsideDevelopment(t *testing.T) {
	own := "0123456789abcdef0123456789abcdef-own"
	for _, tc := range []struct {
		env, secret string
		want        string // the key in force; "" when FromEnv must fail
	}{
		{env: "", secret: "", want: ""},
		{env: Production, secret: "", want: ""},
		{env: Development, secret: "", want: DevelopmentSecretKey},
		{env: "", secret: own, want: own},
		{env: Development, secret: own, want: own},
		{env: Production, secret: "too-short", want: ""},
	} {
		t.Run(tc.env+"/"+tc.secret, func(t *testing.T) {
			t.Setenv("XBS_ENV", tc.env)
			t.Setenv("XBS_SECRET_KEY", tc.secret)
			c, err := FromEnv()
			if tc.want == "" {
				if err == nil || !strings.Contains(err.Error(), "XBS_SECRET_KEY") {
					t.Fatalf("FromEnv = %v, want an XBS_SECRET_KEY error", err)
				}
				return
			}
			if err != nil || c.SecretKey != tc.want {
				t.Fatalf("FromEnv: key %q, %v; want %q", c.SecretKey, err, tc.want)
			}
		})
	}
}

// TestEnvIsNamed: XBS_ENV is one of two words, so a typo cannot turn a
// deployment into development.
func TestEnvIsNamed(t *testing.T) {
	t.Setenv("XBS_SECRET_KEY", "")
	t.Setenv("XBS_ENV", "dev")
	if _, err := FromEnv(); err == nil || !strings.Contains(err.Error(), "XBS_ENV") {
		t.Fatalf("XBS_ENV=dev: %v, want an XBS_ENV error", err)
	}
}
