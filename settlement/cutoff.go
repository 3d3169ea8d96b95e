package settlement

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/xbsettle/xbsettle/internal/db"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/xbsettle/xbsettle/ledger"
)

// Bounds of the cut-off.
const (
	cutoffTenantsPerRun = 1000 // tenants one scheduled run cuts off; the next run takes the rest
	// workerPrincipal records the scheduled cut-off as the author of its payouts.
	workerPrincipal = "settlement-cutoff"
)

// CutoffResult is what one cut-off did.
type CutoffResult struct {
	Through time.Time // the last value date cut off
	Closed  int       // batches closed by this run
	Settled []Batch   // batches paid out by this run, with their payout entries
	Refused []Batch   // batches whose payout the ledger refused (LastError); they stay closed and are tried again
}

// RunCutoff closes the tenant's open batches of value dates up to through,
// posts one payout entry per closed batch — Dr merchant:E:CCY / Cr
// payout_clearing:CCY, the batch's net, with a key derived from the batch —
// and settles the batches and their items. It is idempotent and safe to run
// concurrently with itself and with the workers: batches are locked in id
// order, the payout keys make a repeated payout a replay, and the status
// changes are guarded. A batch closed by an earlier run whose payout did not
// happen (a crash, a refusal) is paid out by this one.
func (s *Service) RunCutoff(ctx context.Context, actor ledger.Actor, through time.Time) (CutoffResult, error) {
	through = dayOf(through)
	res := CutoffResult{Through: through}
	closed, err := s.closeBatches(ctx, actor.Tenant, through)
	if err != nil {
		return res, err
	}
	res.Closed = closed
	after := uuid.Nil
	for {
		var batches []Batch
		if err := s.db.SelectContext(ctx, &batches, `SELECT `+batchColumns+` FROM settlement_batches
			WHERE tenant_id = $1 AND status = 'closed' AND value_date <= $2 AND id > $3 ORDER BY id LIMIT $4`,
			actor.Tenant, through.Format(dateLayout), after, ledger.MaxBatch); err != nil {
			return res, fmt.Errorf("read closed batches: %w", err)
		}
		if len(batches) == 0 {
			return res, nil
		}
		after = batches[len(batches)-1].ID
		settled, refused, err := s.payOut(ctx, actor, batches)
		res.Settled, res.Refused = append(res.Settled, settled...), append(res.Refused, refused...)
		if err != nil {
			return res, err
		}
	}
}

// closeBatches closes the open batches up to a value date. The batch rows
// are locked first, in id order, so a worker adding items to one finishes
// (and its items count) or waits and then finds it closed. A batch left
// without items (its worker lost a race) is dropped rather than paid.
func (s *Service) closeBatches(ctx context.Context, tenant string, through time.Time) (int, error) {
	var closed int
	err := db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		var ids []uuid.UUID
		if err := tx.SelectContext(ctx, &ids, `SELECT id FROM settlement_batches
			WHERE tenant_id = $1 AND status = 'open' AND value_date <= $2 ORDER BY id FOR UPDATE`,
			tenant, through.Format(dateLayout)); err != nil {
			return fmt.Errorf("lock open batches: %w", err)
		}
		if len(ids) == 0 {
			closed = 0
			return nil
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM settlement_batches WHERE tenant_id = $1 AND id = ANY($2) AND item_count = 0`,
			tenant, pq.Array(ids)); err != nil {
			return fmt.Errorf("drop empty batches: %w", err)
		}
		r, err := tx.ExecContext(ctx, `UPDATE settlement_batches SET status = 'closed', closed_at = $3
			WHERE tenant_id = $1 AND id = ANY($2) AND status = 'open'`, tenant, pq.Array(ids), s.clock())
		if err != nil {
			return fmt.Errorf("close batches: %w", err)
		}
		n, _ := r.RowsAffected()
		closed = int(n)
		return nil
	})
	return closed, err
}

// payOut posts the payouts of closed batches in one ledger batch and
// settles those the ledger took.
func (s *Service) payOut(ctx context.Context, actor ledger.Actor, batches []Batch) (settled, refused []Batch, err error) {
	reqs := make([]ledger.EntryRequest, 0, len(batches))
	for i := range batches {
		req, err := s.payoutEntry(ctx, actor, &batches[i])
		if err != nil {
			return nil, nil, err
		}
		reqs = append(reqs, req)
	}
	results := s.ledger.PostBatch(ctx, actor, reqs)
	if s.hooks.afterPayout != nil {
		if err := s.hooks.afterPayout(); err != nil {
			return nil, nil, err
		}
	}
	for i, r := range results {
		b := batches[i]
		switch {
		case r.Err == nil:
			b.PayoutEntryID = &r.Entry.ID
			settled = append(settled, b)
		case isDomain(r.Err):
			b.LastError = r.Err.Error()
			refused = append(refused, b)
			slog.WarnContext(ctx, "payout refused; the batch stays closed", "tenant", actor.Tenant, "batch", b.ID, "err", r.Err)
		default:
			return nil, nil, fmt.Errorf("post %d payouts: %w", len(reqs), r.Err)
		}
	}
	settled, err = s.settleBatches(ctx, actor.Tenant, settled, refused)
	return settled, refused, err
}

// payoutEntry is a batch's payout: what the enterprise is owed moves from
// its payable to payout clearing, where it waits for the bank to confirm.
func (s *Service) payoutEntry(ctx context.Context, actor ledger.Actor, b *Batch) (ledger.EntryRequest, error) {
	merchant, clearing := MerchantAccount(b.Enterprise, b.Currency), AccountOf(PayoutClearing, b.Currency)
	set, err := s.accounts.Resolve(ctx, actor, merchant, clearing)
	if err != nil {
		return ledger.EntryRequest{}, err
	}
	m, c := set[merchant.Code()], set[clearing.Code()]
	meta, _ := json.Marshal(map[string]any{"batch_id": b.ID, "enterprise": b.Enterprise, "currency": b.Currency,
		"value_date": b.ValueDate.Format(dateLayout), "items": b.ItemCount, "gross": b.Currency.Format(b.Gross),
		"fees": b.Currency.Format(b.Fees), "net": b.Currency.Format(b.Net)})
	return ledger.EntryRequest{IdempotencyKey: payoutKey(b.Enterprise, b.Currency, b.ValueDate), Metadata: meta,
		Description: fmt.Sprintf("payout to %s of %d items, value date %s", b.Enterprise, b.ItemCount, b.ValueDate.Format(dateLayout)),
		Postings: []ledger.PostingRequest{
			{AccountID: m.ID, Direction: ledger.Debit, Amount: b.Net, Currency: b.Currency},
			{AccountID: c.ID, Direction: ledger.Credit, Amount: b.Net, Currency: b.Currency},
		}}, nil
}

// settleBatches marks the paid batches settled with their payout entries,
// and their items settled, in one transaction; it records why the refused
// ones were refused. A batch another run settled meanwhile is left to it.
func (s *Service) settleBatches(ctx context.Context, tenant string, paid, refused []Batch) ([]Batch, error) {
	now := s.clock()
	var done []Batch
	err := db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		done = done[:0]
		ids, entries := make([]uuid.UUID, len(paid)), make([]uuid.UUID, len(paid))
		for i, b := range paid {
			ids[i], entries[i] = b.ID, *b.PayoutEntryID
		}
		var settled []uuid.UUID
		if err := tx.SelectContext(ctx, &settled, `UPDATE settlement_batches b SET status = 'settled', payout_entry_id = u.entry,
				settled_at = $4, last_error = ''
			FROM unnest($2::uuid[], $3::uuid[]) AS u(id, entry)
			WHERE b.tenant_id = $1 AND b.id = u.id AND b.status = 'closed' RETURNING b.id`,
			tenant, pq.Array(ids), pq.Array(entries), now); err != nil {
			return fmt.Errorf("settle batches: %w", err)
		}
		var items []uuid.UUID
		if err := tx.SelectContext(ctx, &items, `SELECT id FROM settlement_items
			WHERE tenant_id = $1 AND batch_id = ANY($2) AND status = 'batched'`, tenant, pq.Array(settled)); err != nil {
			return fmt.Errorf("read items of settled batches: %w", err)
		}
		moves := make([]move, len(items))
		for i, id := range items {
			moves[i] = move{id: id, from: Batched, to: Settled}
		}
		if _, err := applyMoves(ctx, tx, tenant, now, moves); err != nil {
			return err
		}
		for _, b := range paid {
			for _, id := range settled {
				if b.ID == id {
					b.Status, b.SettledAt = BatchSettled, &now
					done = append(done, b)
				}
			}
		}
		if len(refused) == 0 {
			return nil
		}
		rids, errs := make([]uuid.UUID, len(refused)), make([]string, len(refused))
		for i, b := range refused {
			rids[i], errs[i] = b.ID, b.LastError
		}
		_, err := tx.ExecContext(ctx, `UPDATE settlement_batches b SET last_error = u.err
			FROM unnest($2::uuid[], $3::text[]) AS u(id, err) WHERE b.tenant_id = $1 AND b.id = u.id`,
			tenant, pq.Array(rids), pq.Array(errs))
		return err
	})
	return done, err
}

// RunDueCutoffs is the scheduled cut-off: for every tenant with batches of
// a value date whose cut-off time has passed and that are not settled, it
// runs RunCutoff. It runs often (every minute) rather than once at the
// cut-off time, so a cut-off missed while the workers were down, or a
// payout refused for a while, is done at the next run. Errors of one tenant
// do not stop the others; they are returned joined.
func (s *Service) RunDueCutoffs(ctx context.Context) error {
	through := s.cutoff.LastDue(s.now())
	var tenants []string
	// Across tenants on purpose: one scheduler serves them all, through the
	// partial index of unsettled batches.
	if err := s.db.SelectContext(ctx, &tenants, `SELECT DISTINCT tenant_id FROM settlement_batches
		WHERE status <> 'settled' AND value_date <= $1 LIMIT $2`, through.Format(dateLayout), cutoffTenantsPerRun); err != nil {
		return fmt.Errorf("find tenants due for cut-off: %w", err)
	}
	var errs []error
	for _, t := range tenants {
		res, err := s.RunCutoff(ctx, ledger.Actor{Tenant: t, By: workerPrincipal}, through)
		if err != nil {
			errs = append(errs, fmt.Errorf("cut-off of %s through %s: %w", t, through.Format(dateLayout), err))
			continue
		}
		slog.InfoContext(ctx, "cut-off", "tenant", t, "through", through.Format(dateLayout), "closed", res.Closed,
			"settled", len(res.Settled), "refused", len(res.Refused))
	}
	return errors.Join(errs...)
}
