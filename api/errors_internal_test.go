package api

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// domainCodes reads the codes of a domain package's errors from its
// source, so a code added there fails these tests until it is mapped and
// documented.
func domainCodes(t *testing.T, path string, atLeast int) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	var codes []string
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok || len(call.Args) == 0 {
			return true
		}
		if sel, ok := call.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "New" {
			if lit, ok := call.Args[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
				code, _ := strconv.Unquote(lit.Value)
				codes = append(codes, code)
			}
		}
		return true
	})
	if len(codes) < atLeast {
		t.Fatalf("found only %d codes in %s", len(codes), path)
	}
	return codes
}

// TestEveryDomainCodeIsMapped: every ledger, settlement and risk code has
// an explicit status.
func TestEveryDomainCodeIsMapped(t *testing.T) {
	t.Parallel()
	codes := append(domainCodes(t, "../ledger/errors.go", 15), domainCodes(t, "../settlement/errors.go", 15)...)
	codes = append(codes, domainCodes(t, "../settlement/release.go", 2)...)
	codes = append(codes, domainCodes(t, "../risk/errors.go", 11)...)
	for _, code := range codes {
		if _, ok := statusByCode[code]; !ok {
			t.Errorf("domain code %s has no status in api/errors.go", code)
		}
	}
}

// TestEveryCodeIsDocumented: every code the API can answer has a row in
// docs/errors.md with its status, and is in the spec's Problem.code enum.
func TestEveryCodeIsDocumented(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../docs/errors.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	var spec struct {
		Components struct {
			Schemas struct {
				Problem struct {
					Properties struct {
						Code struct {
							Enum []string `yaml:"enum"`
						} `yaml:"code"`
					} `yaml:"properties"`
				} `yaml:"Problem"`
			} `yaml:"schemas"`
		} `yaml:"components"`
	}
	if err := yaml.Unmarshal(Spec, &spec); err != nil {
		t.Fatal(err)
	}
	enum := spec.Components.Schemas.Problem.Properties.Code.Enum
	for code, status := range statusByCode {
		row := "| `" + code + "` | " + strconv.Itoa(status) + " |"
		if !strings.Contains(doc, row) {
			t.Errorf("docs/errors.md lacks the row %q", row)
		}
		if !slices.Contains(enum, code) {
			t.Errorf("openapi.yaml Problem.code enum lacks %s", code)
		}
	}
	if len(enum) != len(statusByCode) {
		t.Errorf("openapi.yaml lists %d codes, api/errors.go maps %d", len(enum), len(statusByCode))
	}
}

// TestUnknownErrorsAreInternal: an error nobody classified is a 500 that
// says nothing of itself.
func TestUnknownErrorsAreInternal(t *testing.T) {
	t.Parallel()
	p := problemOf(os.ErrPermission)
	if p.Status != 500 || p.Code != "INTERNAL" || strings.Contains(p.Detail, "permission") {
		t.Fatalf("problem %+v", p)
	}
}
