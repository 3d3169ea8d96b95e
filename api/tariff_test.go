package api_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestTariffLines: admins read the shipped lines of a code with the file's
// changes, put a line (created, then replaced), and every change is kept
// with the key that made it; an overlapping line, bad rates and other roles
// are refused, nothing written.
func TestTariffLines(t *testing.T) {
	t.Parallel()
	b := clearanceSetup(t)
	type change struct {
		ChangedBy string         `json:"changed_by"`
		Before    map[string]any `json:"before"`
		After     map[string]any `json:"after"`
	}
	type linesView struct {
		Lines   []map[string]any `json:"lines"`
		Changes []change         `json:"changes"`
	}
	get := func(code string) linesView {
		t.Helper()
		r := b.send(req{method: "GET", path: "/v1/tariff/lines/" + code, key: b.admin})
		if r.Status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", code, r.Status, r.Body)
		}
		var v linesView
		r.into(t, &v)
		return v
	}
	shipped := get("3304")
	if len(shipped.Lines) != 4 || shipped.Lines[3]["consumption_min_per_ml_or_g"] != "10" || len(shipped.Changes) != 4 ||
		!strings.HasPrefix(shipped.Changes[0].ChangedBy, "tariff file ") || shipped.Changes[0].Before != nil {
		t.Fatalf("shipped 3304: %+v", shipped)
	}

	line := map[string]any{"duty_rate": "0.15", "vat_rate": "0.13", "consumption_rate": "0",
		"description": "vitamin tablets", "source": "MFN duty, operator's check"}
	path := "/v1/tariff/lines/2106909090/2025-01-01"
	if r := b.send(req{method: "PUT", path: path, key: b.admin, body: line}); r.Status != http.StatusCreated {
		t.Fatalf("PUT: %d %s", r.Status, r.Body)
	}
	line["duty_rate"] = "0.12"
	if r := b.send(req{method: "PUT", path: path, key: b.admin, body: line}); r.Status != http.StatusOK {
		t.Fatalf("PUT again: %d %s", r.Status, r.Body)
	}
	v := get("2106909090")
	if len(v.Lines) != 1 || v.Lines[0]["duty_rate"] != "0.12" || len(v.Changes) != 2 || v.Changes[0].Before != nil ||
		v.Changes[1].Before["duty_rate"] != "0.15" || v.Changes[1].After["duty_rate"] != "0.12" ||
		v.Changes[1].ChangedBy == "" || strings.HasPrefix(v.Changes[1].ChangedBy, "tariff file") {
		t.Fatalf("after two puts: %+v", v)
	}

	refused := []struct {
		name, path, key string
		body            map[string]any
		status          int
		code            string
	}{
		{"overlapping line", "/v1/tariff/lines/2106909090/2025-06-01", b.admin, line, http.StatusConflict, "TARIFF_LINE_OVERLAP"},
		{"VAT of 100%", "/v1/tariff/lines/2106909091/2025-01-01", b.admin,
			map[string]any{"vat_rate": "1", "consumption_rate": "0", "description": "x", "source": "y"}, http.StatusUnprocessableEntity, "VALIDATION_FAILED"},
		{"a rate as a JSON number", "/v1/tariff/lines/2106909091/2025-01-01", b.admin,
			map[string]any{"vat_rate": 0.13, "consumption_rate": "0", "description": "x", "source": "y"}, http.StatusUnprocessableEntity, "VALIDATION_FAILED"},
		{"no source", "/v1/tariff/lines/2106909091/2025-01-01", b.admin,
			map[string]any{"vat_rate": "0.13", "consumption_rate": "0", "description": "x"}, http.StatusUnprocessableEntity, "VALIDATION_FAILED"},
		{"a code of 3 digits", "/v1/tariff/lines/210/2025-01-01", b.admin, line, http.StatusUnprocessableEntity, "VALIDATION_FAILED"},
		{"not a date", "/v1/tariff/lines/2106909091/2025-02-30", b.admin, line, http.StatusUnprocessableEntity, "VALIDATION_FAILED"},
		{"a platform", "/v1/tariff/lines/2106909091/2025-01-01", b.platform, line, http.StatusForbidden, "FORBIDDEN"},
	}
	for _, tt := range refused {
		r := b.send(req{method: "PUT", path: tt.path, key: tt.key, body: tt.body})
		if r.Status != tt.status || r.problem(t).Code != tt.code {
			t.Errorf("%s: %d %s, want %d %s", tt.name, r.Status, r.Body, tt.status, tt.code)
		}
	}
	if v := get("2106909090"); len(v.Lines) != 1 || len(v.Changes) != 2 {
		t.Errorf("a refused put wrote: %+v", v)
	}
	if r := b.send(req{method: "GET", path: "/v1/tariff/lines/2106909091", key: b.admin}); r.Status != http.StatusNotFound ||
		r.problem(t).Code != "TARIFF_LINE_NOT_FOUND" {
		t.Errorf("unknown code: %d %s", r.Status, r.Body)
	}
	if r := b.send(req{method: "GET", path: "/v1/tariff/lines/3304", key: b.platform}); r.Status != http.StatusForbidden {
		t.Errorf("a platform reads the tariff: %d", r.Status)
	}
}
