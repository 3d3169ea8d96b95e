package clearance

import (
	"context"
	"github.com/xbsettle/xbsettle/internal/db"
	"log/slog"

	"github.com/jmoiron/sqlx"
)

// MaxBatch bounds the documents of one Submit call (one XML message carries
// at most MaxDocuments, a JSON batch at most MaxBatch).
const MaxBatch = 1000

// Scheduler arranges for chains to be matched soon, after the transaction
// that made them dirty has committed. It may lose work (Redis is not the
// source of truth): the sweeper finds every dirty chain again in PostgreSQL.
type Scheduler interface {
	ScheduleMatch(ctx context.Context, chains []ChainKey) error
}

// Service stores documents, matches chains and answers reads. It is the
// clearance package's entry point over PostgreSQL.
//
//	svc, err := clearance.NewService(db, []byte(cfg.SecretKey), clearance.NewTaskScheduler(client))
//	stored, err := svc.Submit(ctx, clearance.Submitter{By: keyID, Tenant: tenant}, docs)
type Service struct {
	db     *sqlx.DB
	key    []byte
	sched  Scheduler
	tariff tariffCache
	// evaluating: the chains this process is matching (see chainLocks).
	evaluating chainLocks
	// cache: the documents this process stored lately (see docCache).
	cache docCache
	// afterSnapshot, in tests, runs between an evaluation's read and its
	// write, where a concurrent version would slip in.
	afterSnapshot func()
}

// NewService returns the service over db. key keys the hashes of personal
// ID numbers (config.SecretKey, at least 32 bytes) and must never change
// once documents are stored. sched may be nil (tests that call MatchChains
// themselves); the sweeper still finds dirty chains.
func NewService(db *sqlx.DB, key []byte, sched Scheduler) (*Service, error) {
	if len(key) < MinHashKeyLen {
		return nil, ErrHashKeyTooShort
	}
	return &Service{db: db, key: key, sched: sched}, nil
}

// schedule hands chains to the scheduler after a commit. A failure is only
// logged: the chains are dirty in PostgreSQL and the sweeper will find them.
func (s *Service) schedule(ctx context.Context, chains []ChainKey) {
	if s.sched == nil || len(chains) == 0 {
		return
	}
	if err := s.sched.ScheduleMatch(ctx, chains); err != nil {
		slog.WarnContext(ctx, "schedule chain matching; the sweeper will pick it up", "chains", len(chains), "err", err)
	}
}

// querier is what both *sqlx.DB and *sqlx.Tx offer.
type querier interface {
	sqlx.QueryerContext
	sqlx.ExecerContext
	GetContext(ctx context.Context, dest any, query string, args ...any) error
	SelectContext(ctx context.Context, dest any, query string, args ...any) error
}

// inTx runs fn in a transaction, again (bounded) after a deadlock, a
// serialization failure or a unique key taken meanwhile.
func (s *Service) inTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	return db.InTx(ctx, s.db, fn, func(err error) bool { return db.Transient(err) || db.HasCode(err, "23505") })
}
