package api_test

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/xbsettle/xbsettle/api"
)

// TestSpecMatchesRoutes: the OpenAPI document lists exactly the routes the
// server registers, no more and no fewer.
func TestSpecMatchesRoutes(t *testing.T) {
	t.Parallel()
	var spec struct {
		OpenAPI string                    `yaml:"openapi"`
		Paths   map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(api.Spec, &spec); err != nil {
		t.Fatalf("parse openapi.yaml: %v", err)
	}
	if !strings.HasPrefix(spec.OpenAPI, "3.1") {
		t.Fatalf("openapi %q, want 3.1.x", spec.OpenAPI)
	}
	methods := []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}
	param := regexp.MustCompile(`\{([^}]+)\}`)
	var inSpec []string
	for path, item := range spec.Paths {
		for m := range item {
			if slices.Contains(methods, m) {
				inSpec = append(inSpec, strings.ToUpper(m)+" "+param.ReplaceAllString(path, ":$1"))
			}
		}
	}

	srv := api.New(api.Deps{})
	var registered []string
	for _, r := range srv.Echo().Routes() {
		if slices.Contains(methods, strings.ToLower(r.Method)) {
			registered = append(registered, r.Method+" "+r.Path)
		}
	}
	slices.Sort(inSpec)
	slices.Sort(registered)
	if len(registered) < 19 {
		t.Fatalf("only %d routes registered: %v", len(registered), registered)
	}
	for _, r := range registered {
		if !slices.Contains(inSpec, r) {
			t.Errorf("route %s is not in api/openapi.yaml", r)
		}
	}
	for _, r := range inSpec {
		if !slices.Contains(registered, r) {
			t.Errorf("api/openapi.yaml lists %s, which is not registered", r)
		}
	}
}

// TestSpecServed: GET /openapi.yaml answers the embedded document.
func TestSpecServed(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := b.do(req{method: "GET", path: "/openapi.yaml"})
	if r.Status != http.StatusOK || string(r.Body) != string(api.Spec) {
		t.Fatalf("GET /openapi.yaml: %d, %d bytes", r.Status, len(r.Body))
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/yaml" {
		t.Fatalf("Content-Type %q", ct)
	}
}
