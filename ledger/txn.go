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

// txn is a transaction that runs the hot statements prepared and every
// other query as it is.
type txn struct {
	*sqlx.Tx
	prepared map[string]*sqlx.Stmt
}

// GetContext runs a query that returns one row.
func (t *txn) GetContext(ctx context.Context, dest any, query string, args ...any) error {
	if st, ok := t.prepared[query]; ok {
		return t.Tx.StmtxContext(ctx, st).GetContext(ctx, dest, args...)
	}
	return t.Tx.GetContext(ctx, dest, query, args...)
}

// SelectContext runs a query that returns rows.
func (t *txn) SelectContext(ctx context.Context, dest any, query string, args ...any) error {
	if st, ok := t.prepared[query]; ok {
		return t.Tx.StmtxContext(ctx, st).SelectContext(ctx, dest, args...)
	}
	return t.Tx.SelectContext(ctx, dest, query, args...)
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
