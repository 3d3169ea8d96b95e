package main

import (
	"context"
	"strings"
	"testing"
)

// TestDemoCommand: with nothing answering at XBS_HTTP_ADDR, xbsettle demo
// serves the API and workers itself, drives a small day through them and
// prints the report; bad flags are usage errors.
func TestDemoCommand(t *testing.T) {
	env(t)
	ctx := context.Background()
	for _, bad := range [][]string{{"demo", "-parcels", "0"}, {"demo", "-seed", "x"}, {"demo", "extra"}} {
		if code, _ := xbsettle(t, ctx, bad...); code != 2 {
			t.Errorf("xbsettle %v: exit %d, want 2", bad, code)
		}
	}
	code, out := xbsettle(t, ctx, "demo", "-seed", "5", "-parcels", "120", "-tag", "CMD")
	if code != 0 {
		t.Fatalf("demo: exit %d", code)
	}
	for _, want := range []string{"xbsettle demo: seed 5, 120 parcels", "tag CMD", "0 chains not as planned", "Credit      2 assessments"} {
		if !strings.Contains(out, want) {
			t.Errorf("the report lacks %q:\n%s", want, out)
		}
	}
}
