package ledger

import (
	"context"
	"fmt"
	"sync"

	"github.com/google/uuid"
	"github.com/lib/pq"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/xbsettle/xbsettle/internal/db"
)

// The fast path. An account without a balance limit cannot refuse an entry
// for funds, so a batch over such accounts needs no balance read before it
// is checked: its checks (the accounts exist, are the tenant's, open, in the
// entry's currency and precision; the entry balances) hold on what never
// changes about an account, which the service remembers, and on its status,
// which the write statement checks again under the row lock. Such a batch is
// one statement, outside any transaction: one round trip and one commit.
//
// Whatever the fast path cannot settle alone goes to the careful path
// (postTx: lock the accounts, then check against their balances), which has
// the final word: an account with a limit, a refused entry (it may be a
// replay), a key repeated in the batch, a key taken (a replay or a race),
// an account frozen or closed meanwhile.

// fastOutcome says what became of a batch on the fast path.
type fastOutcome int

const (
	fastSkipped fastOutcome = iota // not for the fast path: nothing tried
	fastRefused                    // an entry or the write was refused: it may be a replay
	fastWritten
)

// postFast writes the batch on the fast path, if it can. Unless it returns
// fastWritten it has written nothing, and the careful path must decide.
func (s *Service) postFast(ctx context.Context, tenant string, drafts []*draft, pre []Result) ([]Result, fastOutcome) {
	keys := make(map[string]bool, len(drafts))
	var ids []uuid.UUID
	for _, d := range drafts {
		if d == nil {
			continue
		}
		if keys[d.entry.IdempotencyKey] {
			return nil, fastSkipped
		}
		keys[d.entry.IdempotencyKey] = true
		for _, p := range d.entry.Postings {
			ids = append(ids, p.AccountID)
		}
	}
	if len(keys) == 0 {
		return nil, fastSkipped
	}
	accounts, err := s.accounts.get(ctx, s.db, tenant, ids)
	if err != nil {
		return nil, fastSkipped
	}
	for _, a := range accounts {
		if a.DebitsLimited || a.CreditsLimited || a.Status != Open {
			return nil, fastSkipped
		}
	}
	bk := newBook(accounts)
	results := append([]Result(nil), pre...)
	var accepted []*draft
	for i, d := range drafts {
		if d == nil {
			continue
		}
		d.entry.TenantID = tenant
		if bk.apply(&d.entry) != nil {
			return nil, fastRefused
		}
		accepted = append(accepted, d)
		results[i].Entry = d.entry
	}
	prepared, err := s.prepared.ready(ctx)
	if err != nil {
		return nil, fastSkipped
	}
	err = writeEntries(ctx, &txn{querier: s.db, prepared: prepared}, tenant, accepted, bk.deltas, true)
	if err != nil {
		s.fallbacks.WithLabelValues(fallbackReason(err)).Inc()
		if db.HasCode(err, notOpenCode) {
			s.accounts.forget(ids)
		}
		return nil, fastRefused
	}
	return results, fastWritten
}

// newFallbackCounter counts, by reason, the batches the fast path checked
// and then handed to the careful path because the write statement refused
// them: key_taken is a replay or a race for a key; account_not_open an
// account frozen or closed since it was last read; a steady stream of
// transient or error deserves a look.
func newFallbackCounter() *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "xbsettle_ledger_fast_path_fallbacks_total",
		Help: "Batches the ledger's fast path handed to the careful path after the database refused its write, by reason.",
	}, []string{"reason"})
}

func fallbackReason(err error) string {
	switch {
	case db.HasCode(err, notOpenCode):
		return "account_not_open"
	case db.HasCode(err, "23505"):
		return "key_taken"
	case db.Transient(err):
		return "transient"
	}
	return "error"
}

// Collector returns the ledger's metrics, for the process's registry.
func (s *Service) Collector() prometheus.Collector { return s.fallbacks }

// accountCache remembers accounts as last read, for the fast path. Only what
// never changes (tenant, currency, kind, balance flags) is relied on; the
// status is a hint the write checks again, and the balances are not kept.
type accountCache struct {
	mu sync.RWMutex
	m  map[uuid.UUID]Account
}

// maxCachedAccounts bounds the cache; when full it starts again empty,
// which costs one read per batch until the busy accounts are back.
const maxCachedAccounts = 1 << 18

func newAccountCache() *accountCache { return &accountCache{m: map[uuid.UUID]Account{}} }

// get returns the tenant's accounts among ids, reading those it does not
// know (without locking them). Ids of other tenants' or of no accounts are
// left out, as a locking read would.
func (c *accountCache) get(ctx context.Context, q querier, tenant string, ids []uuid.UUID) ([]Account, error) {
	out := make([]Account, 0, len(ids))
	seen := make(map[uuid.UUID]bool, len(ids))
	var missing []uuid.UUID
	c.mu.RLock()
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		if a, ok := c.m[id]; ok {
			if a.TenantID == tenant {
				out = append(out, a)
			}
			continue
		}
		missing = append(missing, id)
	}
	c.mu.RUnlock()
	if len(missing) == 0 {
		return out, nil
	}
	var read []Account
	if err := q.SelectContext(ctx, &read, readAccountsSQL, tenant, pq.Array(missing)); err != nil {
		return nil, fmt.Errorf("read accounts: %w", err)
	}
	c.put(read)
	for _, a := range read {
		a.Balance = Balance{}
		out = append(out, a)
	}
	return out, nil
}

const readAccountsSQL = `SELECT ` + accountColumns + ` FROM accounts WHERE id = ANY($2) AND (tenant_id = $1) IS TRUE`

// put remembers accounts as just read.
func (c *accountCache) put(accounts []Account) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m)+len(accounts) > maxCachedAccounts {
		c.m = make(map[uuid.UUID]Account, len(accounts))
	}
	for _, a := range accounts {
		a.Balance = Balance{}
		c.m[a.ID] = a
	}
}

// forget drops accounts, so that the next batch reads them again.
func (c *accountCache) forget(ids []uuid.UUID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, id := range ids {
		delete(c.m, id)
	}
}
