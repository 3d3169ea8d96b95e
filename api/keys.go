package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
)

// Role is what an API key may do (DESIGN §2).
type Role string

// The roles of DESIGN §2.
const (
	RoleAdmin              Role = "admin"
	RolePaymentInstitution Role = "payment_institution"
	RolePlatform           Role = "platform"
	RoleCarrier            Role = "carrier"
	RoleBank               Role = "bank"
	RoleFXBureau           Role = "fx_bureau"
)

// ParseRole checks a role name.
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case RoleAdmin, RolePaymentInstitution, RolePlatform, RoleCarrier, RoleBank, RoleFXBureau:
		return r, nil
	}
	return "", fmt.Errorf("unknown role %q (want admin, payment_institution, platform, carrier, bank or fx_bureau)", s)
}

// needsTenant reports whether keys of the role belong to one enterprise.
func (r Role) needsTenant() bool { return r != RoleAdmin && r != RoleFXBureau }

// maxTenantLen bounds a tenant id: an enterprise's customs registration code
// is 10 or 18 characters.
const maxTenantLen = 64

// validTenant reports whether s can name a tenant.
func validTenant(s string) bool { return plainToken(s, maxTenantLen) }

// Principal is the holder of a verified API key.
type Principal struct {
	KeyID  uuid.UUID
	Role   Role
	Tenant string // empty for admin and fx_bureau keys without one
}

// ErrBadKey is returned for a key that is malformed, unknown or revoked.
// Callers do not learn which, so keys cannot be probed.
var ErrBadKey = errors.New("invalid API key")

// keyCacheTTL is how long a verified key is trusted without asking the
// database again, and so how long a revocation may take to bite.
const keyCacheTTL = 30 * time.Second

// maxCachedKeys bounds the cache; past it, expired entries are dropped, and
// if that is not enough the cache starts over.
const maxCachedKeys = 10_000

// KeyStore creates API keys and verifies them. A key reads
// xbs_<prefix>_<secret>: the prefix finds its row, and the row keeps only
// the SHA-256 of the whole key. Keys carry 256 random bits, so a fast hash
// is enough; comparison is constant-time.
type KeyStore struct {
	db  *sqlx.DB
	ttl time.Duration
	now func() time.Time

	mu    sync.Mutex
	cache map[[sha256.Size]byte]cachedKey
}

type cachedKey struct {
	p       Principal
	expires time.Time
}

// NewKeyStore returns a key store over db's api_keys table.
func NewKeyStore(db *sqlx.DB) *KeyStore {
	return &KeyStore{db: db, ttl: keyCacheTTL, now: time.Now, cache: map[[sha256.Size]byte]cachedKey{}}
}

// Create makes a key for role, owned by tenant (required except for admin
// and fx_bureau). The returned key is shown once and never stored.
//
//	p, key, err := keys.Create(ctx, api.RolePaymentInstitution, "4403160001")
func (k *KeyStore) Create(ctx context.Context, role Role, tenant string) (Principal, string, error) {
	if _, err := ParseRole(string(role)); err != nil {
		return Principal{}, "", err
	}
	switch {
	case tenant == "" && role.needsTenant():
		return Principal{}, "", fmt.Errorf("a %s key needs a tenant", role)
	case tenant != "" && !validTenant(tenant):
		return Principal{}, "", fmt.Errorf("tenant %q: want 1 to %d of A-Z a-z 0-9 . _ : -", tenant, maxTenantLen)
	}
	prefix, secret := make([]byte, 6), make([]byte, 32)
	if _, err := rand.Read(prefix); err != nil {
		return Principal{}, "", fmt.Errorf("random prefix: %w", err)
	}
	if _, err := rand.Read(secret); err != nil {
		return Principal{}, "", fmt.Errorf("random secret: %w", err)
	}
	p := Principal{KeyID: uuid.Must(uuid.NewV7()), Role: role, Tenant: tenant}
	key := "xbs_" + hex.EncodeToString(prefix) + "_" + hex.EncodeToString(secret)
	sum := sha256.Sum256([]byte(key))
	_, err := k.db.ExecContext(ctx, `INSERT INTO api_keys (id, prefix, secret_hash, role, tenant_id)
		VALUES ($1, $2, $3, $4, NULLIF($5, ''))`, p.KeyID, hex.EncodeToString(prefix), sum[:], role, tenant)
	if err != nil {
		return Principal{}, "", fmt.Errorf("store API key: %w", err)
	}
	return p, key, nil
}

// Revoke stops a key from working, within the cache's lifetime (30 s) on
// every running process.
func (k *KeyStore) Revoke(ctx context.Context, id uuid.UUID) error {
	res, err := k.db.ExecContext(ctx, `UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL`, id)
	if err != nil {
		return fmt.Errorf("revoke API key %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("revoke API key %s: no such active key", id)
	}
	return nil
}

// Authenticate returns the principal of a key, or ErrBadKey.
func (k *KeyStore) Authenticate(ctx context.Context, key string) (Principal, error) {
	prefix, ok := keyPrefix(key)
	if !ok {
		return Principal{}, ErrBadKey
	}
	sum := sha256.Sum256([]byte(key))
	if p, ok := k.cached(sum); ok {
		return p, nil
	}
	var row struct {
		ID      uuid.UUID      `db:"id"`
		Hash    []byte         `db:"secret_hash"`
		Role    Role           `db:"role"`
		Tenant  sql.NullString `db:"tenant_id"`
		Revoked sql.NullTime   `db:"revoked_at"`
	}
	err := k.db.GetContext(ctx, &row, `SELECT id, secret_hash, role, tenant_id, revoked_at FROM api_keys WHERE prefix = $1`, prefix)
	if errors.Is(err, sql.ErrNoRows) {
		return Principal{}, ErrBadKey
	}
	if err != nil {
		return Principal{}, fmt.Errorf("look up API key: %w", err)
	}
	if subtle.ConstantTimeCompare(row.Hash, sum[:]) != 1 || row.Revoked.Valid {
		return Principal{}, ErrBadKey
	}
	p := Principal{KeyID: row.ID, Role: row.Role, Tenant: row.Tenant.String}
	k.remember(sum, p)
	return p, nil
}

// keyPrefix checks a key's shape and returns its prefix.
func keyPrefix(key string) (string, bool) {
	rest, ok := strings.CutPrefix(key, "xbs_")
	if !ok {
		return "", false
	}
	prefix, secret, ok := strings.Cut(rest, "_")
	if !ok || len(prefix) != 12 || len(secret) != 64 || !isHex(prefix) || !isHex(secret) {
		return "", false
	}
	return prefix, true
}

func isHex(s string) bool {
	_, err := hex.DecodeString(s)
	return err == nil
}

func (k *KeyStore) cached(sum [sha256.Size]byte) (Principal, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	c, ok := k.cache[sum]
	if !ok || !k.now().Before(c.expires) {
		return Principal{}, false
	}
	return c.p, true
}

func (k *KeyStore) remember(sum [sha256.Size]byte, p Principal) {
	k.mu.Lock()
	defer k.mu.Unlock()
	now := k.now()
	if len(k.cache) >= maxCachedKeys {
		for s, c := range k.cache {
			if !now.Before(c.expires) {
				delete(k.cache, s)
			}
		}
		if len(k.cache) >= maxCachedKeys {
			clear(k.cache)
		}
	}
	k.cache[sum] = cachedKey{p: p, expires: now.Add(k.ttl)}
}
