package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/xbsettle/xbsettle/api"
)

// TestAuthentication: a missing, malformed, unknown or revoked key is 401
// with a problem and WWW-Authenticate; a good key passes.
func TestAuthentication(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p, revoked, err := b.keys.Create(context.Background(), api.RolePaymentInstitution, "T1")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.keys.Revoke(context.Background(), p.KeyID); err != nil {
		t.Fatal(err)
	}
	// Same prefix, other secret: found by prefix, refused by hash.
	forged := b.pi[:len("xbs_")+12+1] + strings.Repeat("0", 64)
	cases := map[string][]string{
		"no header":      {"Authorization", ""},
		"not bearer":     {"Authorization", "Basic dXNlcjpwYXNz"},
		"malformed key":  {"Authorization", "Bearer nope"},
		"unknown prefix": {"Authorization", "Bearer xbs_000000000000_" + strings.Repeat("a", 64)},
		"wrong secret":   {"Authorization", "Bearer " + forged},
		"revoked":        {"Authorization", "Bearer " + revoked},
	}
	for name, h := range cases {
		t.Run(name, func(t *testing.T) {
			r := b.do(req{method: "GET", path: "/v1/accounts", headers: h})
			wantProblem(t, r, http.StatusUnauthorized, "UNAUTHENTICATED")
			if r.Header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}
	if r := b.do(req{method: "GET", path: "/v1/accounts", key: b.pi}); r.Status != http.StatusOK {
		t.Fatalf("good key: %d %s", r.Status, r.Body)
	}
	// Twice more: the second answer comes from the cache and must agree.
	for range 2 {
		if r := b.do(req{method: "GET", path: "/v1/accounts", key: b.pi}); r.Status != http.StatusOK {
			t.Fatalf("cached key: %d %s", r.Status, r.Body)
		}
	}
}

// TestRoles: ledger routes are for admin and payment_institution keys;
// PATCH on an account is for admins alone.
func TestRoles(t *testing.T) {
	t.Parallel()
	b := setup(t)
	acct := b.openAccount(b.pi, "cash:CNY", "CNY", "asset")
	for _, role := range []api.Role{api.RolePlatform, api.RoleCarrier, api.RoleBank, api.RoleFXBureau} {
		tenant := "T1"
		if role == api.RoleFXBureau {
			tenant = ""
		}
		key := b.key(role, tenant)
		for _, r := range []req{
			{method: "GET", path: "/v1/accounts/" + acct.ID},
			{method: "POST", path: "/v1/entries", body: transfer(acct.ID, acct.ID, "1.00"), headers: []string{"Idempotency-Key", "k"}},
			{method: "GET", path: "/v1/audit/verify"},
		} {
			r.key = key
			wantProblem(t, b.do(r), http.StatusForbidden, "FORBIDDEN")
		}
	}
	freeze := req{method: "PATCH", path: "/v1/accounts/" + acct.ID, body: map[string]string{"status": "frozen"}}
	freeze.key = b.pi
	wantProblem(t, b.do(freeze), http.StatusForbidden, "FORBIDDEN")
	freeze.key, freeze.headers = b.admin, []string{"X-Tenant-ID", "T1"}
	if r := b.do(freeze); r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"status":"frozen"`) {
		t.Fatalf("admin freeze: %d %s", r.Status, r.Body)
	}
}

// TestTenancy: an account of another tenant is a 404, read or posted to,
// and an admin reaches any tenant only by naming it.
func TestTenancy(t *testing.T) {
	t.Parallel()
	b := setup(t)
	mine := b.openAccount(b.pi, "cash:CNY", "CNY", "asset")
	mine2 := b.openAccount(b.pi, "payable:CNY", "CNY", "liability")
	theirs := b.openAccount(b.piOther, "cash:CNY", "CNY", "asset")
	before := b.counts()

	for _, path := range []string{"/v1/accounts/", "/v1/accounts/%s/balance", "/v1/accounts/%s/postings"} {
		p := path + theirs.ID
		if strings.Contains(path, "%s") {
			p = strings.Replace(path, "%s", theirs.ID, 1)
		}
		wantProblem(t, b.do(req{method: "GET", path: p, key: b.pi}), http.StatusNotFound, "ACCOUNT_NOT_FOUND")
	}
	r := b.do(req{method: "POST", path: "/v1/entries", key: b.pi, body: transfer(mine.ID, theirs.ID, "1.00"),
		headers: []string{"Idempotency-Key", "cross-tenant"}})
	wantProblem(t, r, http.StatusNotFound, "ACCOUNT_NOT_FOUND")
	// Codes are per tenant: both tenants have cash:CNY.
	r = b.do(req{method: "GET", path: "/v1/accounts?code=cash:CNY", key: b.pi})
	if r.Status != http.StatusOK || strings.Contains(string(r.Body), theirs.ID) || !strings.Contains(string(r.Body), mine.ID) {
		t.Fatalf("list by code: %d %s", r.Status, r.Body)
	}
	// A tenant's entry and hold are invisible to the other.
	e := b.post(b.pi, "t1-entry", transfer(mine.ID, mine2.ID, "5.00"))
	wantProblem(t, b.do(req{method: "GET", path: "/v1/entries/" + e.ID, key: b.piOther}), http.StatusNotFound, "ENTRY_NOT_FOUND")
	wantProblem(t, b.do(req{method: "POST", path: "/v1/entries/" + e.ID + "/reverse", key: b.piOther}), http.StatusNotFound, "ENTRY_NOT_FOUND")
	wantProblem(t, b.do(req{method: "GET", path: "/v1/holds/" + e.ID, key: b.piOther}), http.StatusNotFound, "HOLD_NOT_FOUND")

	// Naming another tenant does not help a non-admin.
	wantProblem(t, b.do(req{method: "GET", path: "/v1/accounts/" + theirs.ID, key: b.pi, headers: []string{"X-Tenant-ID", "T2"}}),
		http.StatusForbidden, "FORBIDDEN")
	// An admin without a tenant must name one, and then sees that tenant's.
	wantProblem(t, b.do(req{method: "GET", path: "/v1/accounts/" + theirs.ID, key: b.admin}), http.StatusBadRequest, "TENANT_REQUIRED")
	if r := b.do(req{method: "GET", path: "/v1/accounts/" + theirs.ID, key: b.admin, headers: []string{"X-Tenant-ID", "T2"}}); r.Status != http.StatusOK {
		t.Fatalf("admin for T2: %d %s", r.Status, r.Body)
	}
	wantProblem(t, b.do(req{method: "GET", path: "/v1/accounts/" + theirs.ID, key: b.admin, headers: []string{"X-Tenant-ID", "T1"}}),
		http.StatusNotFound, "ACCOUNT_NOT_FOUND")

	after := b.counts()
	after["entries"]--
	after["postings"] -= 2
	for table, n := range before {
		if after[table] != n {
			t.Errorf("%s: %d rows, want %d", table, after[table], n)
		}
	}
}

// TestKeyStoreCreate: keys need a known role and, except admin and
// fx_bureau, a tenant; each key is new.
func TestKeyStoreCreate(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	for _, c := range []struct {
		role   api.Role
		tenant string
		ok     bool
	}{
		{api.RoleAdmin, "", true}, {api.RoleFXBureau, "", true}, {api.RoleBank, "B1", true},
		{api.RolePaymentInstitution, "", false}, {api.RolePlatform, "", false}, {"root", "T1", false},
		{api.RoleCarrier, "bad tenant", false},
	} {
		p, key, err := b.keys.Create(ctx, c.role, c.tenant)
		if (err == nil) != c.ok {
			t.Errorf("Create(%s, %q): err %v, want ok=%v", c.role, c.tenant, err, c.ok)
			continue
		}
		if !c.ok {
			continue
		}
		got, err := b.keys.Authenticate(ctx, key)
		if err != nil || got != p || p.KeyID == uuid.Nil {
			t.Errorf("Authenticate(new %s key) = %+v, %v; want %+v", c.role, got, err, p)
		}
	}
}
