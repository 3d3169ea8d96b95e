package settlement

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"github.com/xbsettle/xbsettle/internal/db"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/xbsettle/xbsettle/internal/outbox"
	"github.com/xbsettle/xbsettle/ledger"
)

// Enqueuer hands an instruction to the workers. It may lose work (Redis is
// not the source of truth): the outbox sweeper enqueues again whatever is
// not done. gen numbers the enqueues of one instruction, so that an enqueue
// is deduplicated while its task exists but a lost task can be replaced.
type Enqueuer interface {
	EnqueueInstruction(ctx context.Context, tenant string, id uuid.UUID, gen int) error
}

// Service settles payment institutions' instructions: it stores them,
// verifies and posts each item exactly once, nets the items into batches and
// pays the batches out at the cut-off (DESIGN §6, docs/settlement.md).
type Service struct {
	db       *sqlx.DB
	ledger   *ledger.Service
	fx       *FX
	accounts *Accounts
	chains   ChainSource
	policy   CategoryPolicy
	enqueuer Enqueuer
	cutoff   Cutoff
	patience outbox.Patience
	now      func() time.Time
	hooks    hooks
}

// hooks let tests fail the worker at the worst moments.
type hooks struct {
	afterPost   func() error // the ledger took the items' entries; their statuses are not recorded yet
	afterPayout func() error // the ledger took the payouts; the batches are not settled yet
}

// Option tunes a Service.
type Option func(*Service)

// WithChains sets where trade chains are read (default: TradeChains over
// the service's database).
func WithChains(c ChainSource) Option { return func(s *Service) { s.chains = c } }

// WithCategoryPolicy sets the FX category policy (default AllA).
func WithCategoryPolicy(p CategoryPolicy) Option { return func(s *Service) { s.policy = p } }

// WithEnqueuer sets how instructions reach the workers (default none: only
// the outbox sweeper, or a direct ProcessInstruction call, runs them).
func WithEnqueuer(e Enqueuer) Option { return func(s *Service) { s.enqueuer = e } }

// WithCutoff sets the daily cut-off, Beijing time (default 23:00).
func WithCutoff(c Cutoff) Option { return func(s *Service) { s.cutoff = c } }

// WithStaleOutbox sets how long an instruction may stay unfinished after
// its last enqueue before the sweeper enqueues it again, whatever its count
// of enqueues (default outbox.DefaultPatience: 10 s, doubling per enqueue).
func WithStaleOutbox(d time.Duration) Option {
	return func(s *Service) { s.patience = outbox.Patience{First: d, Max: d} }
}

// WithNow replaces time.Now, for tests.
func WithNow(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// NewService returns the settlement service over db, posting to led and
// pricing with fx.
//
//	svc := settlement.NewService(db, ledgerSvc, fx, settlement.WithEnqueuer(settlement.NewTaskEnqueuer(client)))
//	ins, replayed, err := svc.Submit(ctx, actor, settlement.NewInstruction{IdempotencyKey: key, Items: items})
func NewService(db *sqlx.DB, led *ledger.Service, fx *FX, opts ...Option) *Service {
	s := &Service{db: db, ledger: led, fx: fx, accounts: NewAccounts(led), chains: NewTradeChains(db), policy: AllA{},
		cutoff: DefaultCutoff, patience: outbox.DefaultPatience, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	return s
}

// clock is now at the database's precision.
func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// Submit stores an instruction with all its items accepted and its outbox
// row, in one transaction, then hands it to the enqueuer; a failed enqueue
// is only logged, since the sweeper finds the outbox row. A replay of an
// earlier idempotency key with the same items returns the first
// instruction and replayed = true. Errors: VALIDATION_FAILED (field errors
// items[i].field), ErrTooManyItems, ledger.ErrIdempotencyReused.
func (s *Service) Submit(ctx context.Context, actor ledger.Actor, in NewInstruction) (Instruction, bool, error) {
	if actor.Tenant == "" || actor.By == "" || in.IdempotencyKey == "" {
		return Instruction{}, false, fmt.Errorf("submit instruction: tenant, principal and idempotency key are required")
	}
	if err := validateItems(in.Items); err != nil {
		return Instruction{}, false, err
	}
	hash := requestHash(in.Items)
	id, now := uuid.Must(uuid.NewV7()), s.clock()
	var existing uuid.UUID
	err := db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		existing = uuid.Nil
		res, err := tx.ExecContext(ctx, insertInstructionSQL, actor.Tenant, id, in.IdempotencyKey, hash, len(in.Items), now, actor.By)
		if err != nil {
			return fmt.Errorf("insert instruction: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			existing, err = s.replay(ctx, tx, actor.Tenant, in.IdempotencyKey, hash)
			return err
		}
		return insertItems(ctx, tx, actor.Tenant, id, now, in.Items)
	})
	if err != nil {
		return Instruction{}, false, err
	}
	if existing != uuid.Nil {
		ins, err := s.Instruction(ctx, actor.Tenant, existing)
		return ins, true, err
	}
	s.instructionOutbox().Enqueue(ctx, []outboxRow{{TenantID: actor.Tenant, InstructionID: id}})
	ins, err := s.Instruction(ctx, actor.Tenant, id)
	return ins, false, err
}

// replay finds the instruction an idempotency key made, refusing a key
// reused for other items.
func (s *Service) replay(ctx context.Context, tx *sqlx.Tx, tenant, key string, hash []byte) (uuid.UUID, error) {
	var row struct {
		ID   uuid.UUID `db:"id"`
		Hash []byte    `db:"request_hash"`
	}
	if err := tx.GetContext(ctx, &row, `SELECT id, request_hash FROM settlement_instructions
		WHERE tenant_id = $1 AND idempotency_key = $2`, tenant, key); err != nil {
		return uuid.Nil, fmt.Errorf("read instruction of key %q: %w", key, err)
	}
	if string(row.Hash) != string(hash) {
		return uuid.Nil, ledger.ErrIdempotencyReused.With("idempotency key %q was used for another instruction", key)
	}
	return row.ID, nil
}

// requestHash fingerprints the items as validated, so a retried request is
// told from another that reuses its key.
func requestHash(items []NewItem) []byte {
	type item struct {
		E, O, P, N, C, A, PC, Q, F string
	}
	norm := make([]item, len(items))
	for i, it := range items {
		norm[i] = item{it.EbpCode, it.OrderNo, it.PayTransactionID, it.Enterprise, string(it.Currency), it.Amount.String(),
			string(it.PayoutCurrency), it.QuoteID.String(), it.Fee.String()}
	}
	b, _ := json.Marshal(norm)
	sum := sha256.Sum256(b)
	return sum[:]
}

// Instruction returns an instruction with every item, its status, codes,
// entry, batch and history. Errors: ErrInstructionNotFound (another
// tenant's included).
func (s *Service) Instruction(ctx context.Context, tenant string, id uuid.UUID) (Instruction, error) {
	var head instructionRow
	err := s.db.GetContext(ctx, &head, `SELECT `+instructionColumns+` FROM settlement_instructions
		WHERE tenant_id = $1 AND id = $2`, tenant, id)
	if isNoRows(err) {
		return Instruction{}, ErrInstructionNotFound.With("settlement instruction %s does not exist", id)
	}
	if err != nil {
		return Instruction{}, fmt.Errorf("read instruction %s: %w", id, err)
	}
	items, err := readItems(ctx, s.db, tenant, id, false)
	if err != nil {
		return Instruction{}, err
	}
	if err := readHistory(ctx, s.db, tenant, items); err != nil {
		return Instruction{}, err
	}
	return Instruction{ID: head.ID, TenantID: head.TenantID, IdempotencyKey: head.Key, AcceptedAt: head.AcceptedAt.UTC(),
		CreatedBy: head.CreatedBy, Items: items}, nil
}
