// Package ledger is xbsettle's double-entry, multi-currency ledger on
// PostgreSQL: accounts, balanced entries, holds, balances now and as of a past
// instant, reversals, idempotency and a per-tenant hash chain (DESIGN §4).
// It knows nothing of HTTP or Redis; tasks.go adapts its background work to Asynq.
package ledger

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/xbsettle/xbsettle/internal/db"
)

// MaxBatch bounds the entries of one PostBatch call.
const MaxBatch = 1000

// maxAttempts bounds the retries of a transaction that lost a race for an
// idempotency key or hit a deadlock.
const maxAttempts = 4

// Actor is who asks: the tenant whose ledger is touched and the principal
// (an API key id, or a worker's name) recorded on every entry it writes.
type Actor struct {
	Tenant string
	By     string
}

// HoldScheduler arranges for a hold to be expired at its deadline. The
// sweeper (ExpireDue) catches any the scheduler loses.
type HoldScheduler interface {
	ScheduleHoldExpiry(ctx context.Context, tenant string, hold uuid.UUID, at time.Time) error
}

// Service is the ledger's entry point.
type Service struct {
	db        *sqlx.DB
	holds     HoldScheduler
	now       func() time.Time
	batcher   *batcher
	prepared  *preparedSet
	accounts  *accountCache // for the fast path (fast.go)
	fallbacks *prometheus.CounterVec
}

// Option tunes a Service.
type Option func(*Service)

// WithBatching makes Post group concurrent single entries into shared
// transactions of up to max entries. Tenants are spread over the given
// number of lanes, each with one worker and so one database connection at a
// time. Call Close to stop them.
func WithBatching(lanes, max int) Option {
	return func(s *Service) { s.batcher = newBatcher(s, lanes, max) }
}

// NewService returns a ledger over db. holds may be nil when nothing expires
// holds on time (tests); ExpireDue still does.
func NewService(db *sqlx.DB, holds HoldScheduler, opts ...Option) *Service {
	s := &Service{db: db, holds: holds, now: time.Now, prepared: &preparedSet{db: db}, accounts: newAccountCache(), fallbacks: newFallbackCounter()}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Close stops the batching workers, if any, after they finish what they
// hold, and releases the prepared statements.
func (s *Service) Close() {
	if s.batcher != nil {
		s.batcher.close()
	}
	s.prepared.close()
}

// clock returns the current time at the database's precision.
func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// CreateAccount opens an account. Errors: ErrAccountExists.
func (s *Service) CreateAccount(ctx context.Context, actor Actor, n NewAccount) (Account, error) {
	a := Account{ID: uuid.Must(uuid.NewV7()), TenantID: actor.Tenant, Code: n.Code, Currency: n.Currency,
		Kind: n.Kind, OwnerEnterpriseID: n.OwnerEnterpriseID, Metadata: canonicalJSON(n.Metadata)}
	for _, f := range n.Flags {
		a.DebitsLimited = a.DebitsLimited || f == DebitsMustNotExceedCredits
		a.CreditsLimited = a.CreditsLimited || f == CreditsMustNotExceedDebits
	}
	out, err := insertAccount(ctx, s.db, &a)
	if err != nil {
		return out, fmt.Errorf("create account %s: %w", n.Code, err)
	}
	return out, nil
}

// Account returns one account with its current balance. Errors: ErrAccountNotFound.
func (s *Service) Account(ctx context.Context, tenant string, id uuid.UUID) (Account, error) {
	return getAccount(ctx, s.db, tenant, id)
}

// Accounts lists a tenant's accounts by id, after the cursor, optionally only
// the one with the given code.
func (s *Service) Accounts(ctx context.Context, tenant, code string, after uuid.UUID, limit int) ([]Account, error) {
	var out []Account
	err := s.db.SelectContext(ctx, &out, `SELECT `+accountColumns+` FROM accounts
		WHERE tenant_id = $1 AND ($2 = '' OR code = $2) AND id > $3 ORDER BY id LIMIT $4`, tenant, code, after, limit)
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	return out, nil
}

// SetStatus freezes, reopens or closes an account. A closed account stays
// closed, and only an account with nothing posted or pending on it closes.
// Errors: ErrAccountNotFound, ErrInvalidStatusChange.
func (s *Service) SetStatus(ctx context.Context, actor Actor, id uuid.UUID, to Status) (Account, error) {
	var out Account
	err := s.inTx(ctx, func(tx *txn) error {
		locked, err := lockAccounts(ctx, tx, actor.Tenant, []uuid.UUID{id})
		if err != nil {
			return err
		}
		if len(locked) == 0 {
			return ErrAccountNotFound.With("account %s does not exist", id)
		}
		a := locked[0]
		switch {
		case a.Status == Closed:
			return ErrInvalidStatusChange.With("account %s is closed for good", a.Code)
		case to == Closed && (!a.Balance.Posted(a.Kind).IsZero() || !a.Balance.PendingDebits.IsZero() || !a.Balance.PendingCredits.IsZero()):
			return ErrInvalidStatusChange.With("account %s still has a balance or pending holds", a.Code)
		}
		_, err = tx.ExecContext(ctx, `UPDATE accounts SET status = $3, updated_at = now() WHERE tenant_id = $1 AND id = $2`, actor.Tenant, id, to)
		a.Status = to
		out = a
		return err
	})
	if err == nil {
		s.accounts.put([]Account{out})
	}
	return out, err
}

// Post writes one entry. A replay of an earlier key with the same request
// returns the first entry and replayed = true. Errors: ErrAccountNotFound,
// ErrAccountFrozen, ErrAccountClosed, ErrCurrencyMismatch, ErrAmountPrecision,
// ErrUnbalanced, ErrTooFewPostings, ErrTooManyPostings, ErrInsufficientFunds,
// ErrIdempotencyReused, ErrEffectiveInFuture.
func (s *Service) Post(ctx context.Context, actor Actor, req EntryRequest) (Entry, bool, error) {
	var r Result
	if s.batcher != nil {
		r = s.batcher.post(ctx, actor, req)
	} else {
		r = s.PostBatch(ctx, actor, []EntryRequest{req})[0]
	}
	return r.Entry, r.Replayed, r.Err
}

// PostBatch writes many entries in one transaction, each succeeding or
// failing on its own as if posted alone, in order. Balance updates are
// coalesced per account, so a hot account costs one row update per batch.
func (s *Service) PostBatch(ctx context.Context, actor Actor, reqs []EntryRequest) []Result {
	by := make([]string, len(reqs))
	for i := range by {
		by[i] = actor.By
	}
	return s.postBatch(ctx, actor.Tenant, reqs, by)
}

// postBatch is PostBatch with a principal per entry, for the batcher.
func (s *Service) postBatch(ctx context.Context, tenant string, reqs []EntryRequest, by []string) []Result {
	now := s.clock()
	drafts := make([]*draft, len(reqs))
	results := make([]Result, len(reqs))
	for i := range reqs {
		d, err := s.newDraft(now, Standard, nil, &reqs[i])
		if d != nil {
			d.entry.CreatedBy = by[i]
		}
		drafts[i], results[i].Err = d, err
	}
	out, fast := s.postFast(ctx, tenant, drafts, results)
	if fast == fastWritten {
		return out
	}
	// Keys are new but for replays: find out by inserting, a round trip
	// saved, unless the fast path's attempt already suggests a replay.
	lookup := fast == fastRefused
	err := s.inTx(ctx, func(tx *txn) error {
		var err error
		out, err = s.postTx(ctx, tx, tenant, drafts, results, lookup)
		lookup = true // a retry follows a taken key: look the keys up first
		return err
	})
	if err != nil {
		for i := range results {
			if results[i].Err == nil {
				results[i].Err = err
			}
		}
		return results
	}
	return out
}

// newDraft turns a request into an entry; postings are checked later against
// the locked accounts.
func (s *Service) newDraft(now time.Time, kind EntryKind, target *uuid.UUID, req *EntryRequest) (*draft, error) {
	eff := req.EffectiveAt.UTC().Truncate(time.Microsecond)
	if req.EffectiveAt.IsZero() {
		eff = now
	} else if eff.After(now.Add(time.Minute)) { // a minute of clock skew is tolerated
		return nil, ErrEffectiveInFuture.With("effective_at %s is after now (%s)", eff.Format(time.RFC3339), now.Format(time.RFC3339))
	}
	e := Entry{ID: uuid.Must(uuid.NewV7()), IdempotencyKey: req.IdempotencyKey, Kind: kind, EffectiveAt: eff,
		CreatedAt: now, Description: req.Description, Metadata: canonicalJSON(req.Metadata)}
	phase := Posted
	if kind == HoldEntry {
		phase = Pending
		e.HoldID = &e.ID
	}
	e.Postings = make([]Posting, len(req.Postings))
	for i, p := range req.Postings {
		e.Postings[i] = Posting{AccountID: p.AccountID, Direction: p.Direction, Phase: phase, Amount: p.Amount, Currency: p.Currency}
		if p.phase != "" {
			e.Postings[i].Phase = p.phase
		}
	}
	return &draft{entry: e, requestHash: fingerprint(kind, target, req)}, nil
}

// errMaybeReplay sends a transaction that skipped the key lookup round again
// with it, because one of its entries was refused and may be a replay.
var errMaybeReplay = errors.New("ledger: a refused entry may be a replay")

// postTx answers replays from the database, checks the fresh drafts against
// the locked accounts in order and writes those that hold. pre carries
// errors found before the transaction; a nil draft has one. Without
// lookupKeys it takes every key for new: a taken one makes the write fail
// with a unique violation, and a refused entry returns errMaybeReplay, so
// that the retry looks the keys up.
func (s *Service) postTx(ctx context.Context, tx *txn, tenant string, drafts []*draft, pre []Result, lookupKeys bool) ([]Result, error) {
	results := append([]Result(nil), pre...)
	known := map[string]keyRow{}
	if lookupKeys {
		keys := make([]string, 0, len(drafts))
		for _, d := range drafts {
			if d != nil {
				keys = append(keys, d.entry.IdempotencyKey)
			}
		}
		var err error
		if known, err = findKeys(ctx, tx, tenant, keys); err != nil {
			return nil, err
		}
	}
	var fresh []*draft
	firstOfKey := map[string]int{} // a key repeated inside the batch replays its first use
	var replayIDs []uuid.UUID
	replayAt := map[uuid.UUID][]int{}
	var ids []uuid.UUID
	for i, d := range drafts {
		if d == nil {
			continue
		}
		k := d.entry.IdempotencyKey
		if row, ok := known[k]; ok {
			if string(row.RequestHash) != string(d.requestHash) {
				results[i].Err = ErrIdempotencyReused.With("idempotency key %q was used for a different request", k)
				continue
			}
			replayIDs = append(replayIDs, row.ID)
			replayAt[row.ID] = append(replayAt[row.ID], i)
			continue
		}
		if j, ok := firstOfKey[k]; ok {
			known[k] = keyRow{ID: drafts[j].entry.ID, Key: k, RequestHash: drafts[j].requestHash}
			if string(drafts[j].requestHash) != string(d.requestHash) {
				results[i].Err = ErrIdempotencyReused.With("idempotency key %q appears twice in the batch with different requests", k)
			} else {
				replayAt[drafts[j].entry.ID] = append(replayAt[drafts[j].entry.ID], i)
			}
			continue
		}
		firstOfKey[k] = i
		d.entry.TenantID = tenant
		fresh = append(fresh, d)
		for _, p := range d.entry.Postings {
			ids = append(ids, p.AccountID)
		}
	}
	locked, err := lockAccounts(ctx, tx, tenant, ids)
	if err != nil {
		return nil, fmt.Errorf("lock accounts: %w", err)
	}
	s.accounts.put(locked)
	bk := newBook(locked)
	var accepted []*draft
	for _, d := range fresh {
		i := firstOfKey[d.entry.IdempotencyKey]
		if err := bk.apply(&d.entry); err != nil {
			if !lookupKeys {
				// A replay must be answered as one even when it would no
				// longer pass the checks: find out from the keys.
				return nil, errMaybeReplay
			}
			results[i].Err = err
			continue
		}
		accepted = append(accepted, d)
		results[i].Entry = d.entry
	}
	if err := writeEntries(ctx, tx, tenant, accepted, bk.deltas, false); err != nil {
		return nil, err
	}
	// A key repeated in the batch whose first use failed fails the same way.
	for _, d := range fresh {
		first := results[firstOfKey[d.entry.IdempotencyKey]]
		for _, i := range replayAt[d.entry.ID] {
			results[i] = Result{Entry: first.Entry, Replayed: first.Err == nil, Err: first.Err}
		}
	}
	if len(replayIDs) > 0 {
		entries, err := loadEntries(ctx, tx, tenant, replayIDs)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			for _, i := range replayAt[e.ID] {
				results[i] = Result{Entry: e, Replayed: true}
			}
		}
	}
	return results, nil
}

// inTx runs fn in a transaction, again (a bounded number of times) when it
// lost a race for a key, met a refusal that may be a replay, or was picked
// as a deadlock victim.
func (s *Service) inTx(ctx context.Context, fn func(tx *txn) error) error {
	return s.tx(ctx, fn, retryable)
}

// tryTx runs fn in one transaction, retried only on deadlocks and
// serialization failures.
func (s *Service) tryTx(ctx context.Context, fn func(tx *txn) error) error {
	return s.tx(ctx, fn, db.Transient)
}

func (s *Service) tx(ctx context.Context, fn func(tx *txn) error, retry func(error) bool) error {
	// Prepared before the transaction takes its connection (see txn.go).
	prepared, err := s.prepared.ready(ctx)
	if err != nil {
		return err
	}
	return db.InTx(ctx, s.db, func(tx *sqlx.Tx) error { return fn(&txn{querier: tx, tx: tx, prepared: prepared}) }, retry)
}

func retryable(err error) bool {
	// Also a key or reversal taken meanwhile (23505): the retry finds the winner.
	return errors.Is(err, errMaybeReplay) || db.Transient(err) || db.HasCode(err, "23505")
}

// Entry returns one entry with its postings. Errors: ErrEntryNotFound.
func (s *Service) Entry(ctx context.Context, tenant string, id uuid.UUID) (Entry, error) {
	es, err := loadEntries(ctx, s.db, tenant, []uuid.UUID{id})
	if err != nil {
		return Entry{}, err
	}
	if len(es) == 0 {
		return Entry{}, ErrEntryNotFound.With("entry %s does not exist", id)
	}
	return es[0], nil
}

// EntriesByKey returns the tenant's entries written under the keys, by key;
// keys without an entry are absent. Settlement uses it to find its own
// entry under a key it derived when the request it built has changed since.
func (s *Service) EntriesByKey(ctx context.Context, tenant string, keys []string) (map[string]Entry, error) {
	known, err := findKeys(ctx, s.db, tenant, keys)
	if err != nil {
		return nil, err
	}
	ids := make([]uuid.UUID, 0, len(known))
	for _, r := range known {
		ids = append(ids, r.ID)
	}
	es, err := loadEntries(ctx, s.db, tenant, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[string]Entry, len(es))
	for _, e := range es {
		out[e.IdempotencyKey] = e
	}
	return out, nil
}

// Reverse posts the mirror of an entry's posted postings, naming the entry it
// reverses. An entry is reversed at most once; an empty key defaults to one
// derived from the entry, so a retried reversal replays. Errors:
// ErrEntryNotFound, ErrNotReversible, ErrAlreadyReversed and those of Post.
func (s *Service) Reverse(ctx context.Context, actor Actor, id uuid.UUID, key, description string) (Entry, bool, error) {
	if key == "" {
		key = ServiceKey(KeysReverse, id.String())
	}
	var res Result
	err := s.inTx(ctx, func(tx *txn) error {
		orig, err := loadEntries(ctx, tx, actor.Tenant, []uuid.UUID{id})
		if err != nil {
			return err
		}
		if len(orig) == 0 {
			return ErrEntryNotFound.With("entry %s does not exist", id)
		}
		req := EntryRequest{IdempotencyKey: key, Description: description}
		if req.Description == "" {
			req.Description = "reversal of " + id.String()
		}
		for _, p := range orig[0].Postings {
			if p.Phase == Posted {
				req.Postings = append(req.Postings, PostingRequest{AccountID: p.AccountID, Direction: opposite(p.Direction), Amount: p.Amount, Currency: p.Currency})
			}
		}
		if len(req.Postings) == 0 {
			return ErrNotReversible.With("entry %s is a %s entry and posted nothing", id, orig[0].Kind)
		}
		d, _ := s.newDraft(s.clock(), Reversal, &id, &req)
		d.entry.ReversesEntryID = &id
		if known, err := findKeys(ctx, tx, actor.Tenant, []string{key}); err != nil || len(known) > 0 {
			res, err = s.single(ctx, tx, actor, d, err)
			return err
		}
		var taken bool
		if err := tx.GetContext(ctx, &taken, `SELECT EXISTS (SELECT 1 FROM entries WHERE tenant_id = $1 AND reverses_entry_id = $2)`, actor.Tenant, id); err != nil {
			return err
		}
		if taken {
			return ErrAlreadyReversed.With("entry %s was already reversed", id)
		}
		res, err = s.single(ctx, tx, actor, d, nil)
		return err
	})
	if err != nil {
		return Entry{}, false, err
	}
	return res.Entry, res.Replayed, res.Err
}

// single posts one draft inside tx.
func (s *Service) single(ctx context.Context, tx *txn, actor Actor, d *draft, err error) (Result, error) {
	if err != nil {
		return Result{}, err
	}
	d.entry.CreatedBy = actor.By
	rs, err := s.postTx(ctx, tx, actor.Tenant, []*draft{d}, make([]Result, 1), true)
	if err != nil {
		return Result{}, err
	}
	return rs[0], nil
}

func opposite(d Direction) Direction {
	if d == Debit {
		return Credit
	}
	return Debit
}
