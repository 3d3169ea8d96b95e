package ledger

import (
	"context"
	"fmt"
	"sync"

	"github.com/jmoiron/sqlx"
)

// hotStatements run in every posting transaction. They run prepared: the
// write statement costs more to parse and plan than to execute for a small
// batch (measured: 2.1 ms → 1.4 ms for 32 entries).
var hotStatements = []string{lockAccountsSQL, findKeysSQL, writeSQL}

// txn runs the hot statements prepared and every other query as it is:
// in a transaction, or on the pool, where each statement commits on its own
// (the fast path's one statement).
type txn struct {
	querier
	tx       *sqlx.Tx // nil on the pool
	prepared map[string]*sqlx.Stmt
}

func (t *txn) stmt(ctx context.Context, query string) (*sqlx.Stmt, bool) {
	st, ok := t.prepared[query]
	if ok && t.tx != nil {
		st = t.tx.StmtxContext(ctx, st)
	}
	return st, ok
}

// GetContext runs a query that returns one row.
func (t *txn) GetContext(ctx context.Context, dest any, query string, args ...any) error {
	if st, ok := t.stmt(ctx, query); ok {
		return st.GetContext(ctx, dest, args...)
	}
	return t.querier.GetContext(ctx, dest, query, args...)
}

// SelectContext runs a query that returns rows.
func (t *txn) SelectContext(ctx context.Context, dest any, query string, args ...any) error {
	if st, ok := t.stmt(ctx, query); ok {
		return st.SelectContext(ctx, dest, args...)
	}
	return t.querier.SelectContext(ctx, dest, query, args...)
}

// preparedSet prepares the hot statements on the pool once; database/sql
// then prepares each on a connection the first time a transaction there
// uses it. Preparing needs a connection of its own, so it happens before a
// transaction takes one: a goroutine that holds a connection never waits
// for another.
type preparedSet struct {
	db    *sqlx.DB
	mu    sync.Mutex
	stmts map[string]*sqlx.Stmt // read-only once set
}

func (p *preparedSet) ready(ctx context.Context) (map[string]*sqlx.Stmt, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stmts != nil {
		return p.stmts, nil
	}
	m := make(map[string]*sqlx.Stmt, len(hotStatements))
	for _, q := range hotStatements {
		st, err := p.db.PreparexContext(ctx, q)
		if err != nil {
			for _, st := range m {
				st.Close()
			}
			return nil, fmt.Errorf("prepare ledger statements: %w", err)
		}
		m[q] = st
	}
	p.stmts = m
	return m, nil
}

func (p *preparedSet) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, st := range p.stmts {
		st.Close()
	}
	p.stmts = nil
}
