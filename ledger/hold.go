package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/xbsettle/xbsettle/internal/jobs"
)

// HoldStatus is where a hold is in its life.
type HoldStatus string

// A hold is pending until it is posted, voided or expires, exactly once.
const (
	HoldPending HoldStatus = "pending"
	HoldPosted  HoldStatus = "posted"
	HoldVoided  HoldStatus = "voided"
	HoldExpired HoldStatus = "expired"
)

// Hold is a two-phase transfer: its entry reserves funds (pending postings)
// until a second entry releases them and, when posted, moves them.
type Hold struct {
	ID              uuid.UUID  `json:"id" db:"id"`
	TenantID        string     `json:"tenant_id" db:"tenant_id"`
	Status          HoldStatus `json:"status" db:"status"`
	ExpiresAt       *time.Time `json:"expires_at,omitempty" db:"expires_at"`
	ResolvedEntryID *uuid.UUID `json:"resolved_entry_id,omitempty" db:"resolved_entry_id"`
	ResolvedAt      *time.Time `json:"resolved_at,omitempty" db:"resolved_at"`
	Entry           Entry      `json:"entry" db:"-"`
	Resolution      *Entry     `json:"resolution,omitempty" db:"-"`
}

const holdColumns = `id, tenant_id, status, expires_at, resolved_entry_id, resolved_at`

// CreateHold reserves the postings' amounts until the hold is posted, voided
// or expires at expiresAt (nil: never). Errors: those of Post.
func (s *Service) CreateHold(ctx context.Context, actor Actor, req EntryRequest, expiresAt *time.Time) (Hold, bool, error) {
	d, err := s.newDraft(s.clock(), HoldEntry, nil, &req)
	if err != nil {
		return Hold{}, false, err
	}
	var res Result
	err = s.inTx(ctx, func(tx *txn) error {
		var err error
		if res, err = s.single(ctx, tx, actor, d, nil); err != nil || res.Err != nil || res.Replayed {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO holds (id, tenant_id, expires_at) VALUES ($1, $2, $3)`, d.entry.ID, actor.Tenant, expiresAt)
		return err
	})
	if err == nil {
		err = res.Err
	}
	if err != nil {
		return Hold{}, false, err
	}
	if !res.Replayed && expiresAt != nil && s.holds != nil {
		if err := s.holds.ScheduleHoldExpiry(ctx, actor.Tenant, res.Entry.ID, *expiresAt); err != nil {
			// Not fatal: the sweeper expires overdue holds the scheduler lost.
			slog.WarnContext(ctx, "hold expiry not scheduled", "hold", res.Entry.ID, "err", err)
		}
	}
	h, err := s.Hold(ctx, actor.Tenant, res.Entry.ID)
	return h, res.Replayed, err
}

// Hold returns a hold with its entries. Errors: ErrHoldNotFound.
func (s *Service) Hold(ctx context.Context, tenant string, id uuid.UUID) (Hold, error) {
	var h Hold
	err := s.db.GetContext(ctx, &h, `SELECT `+holdColumns+` FROM holds WHERE tenant_id = $1 AND id = $2`, tenant, id)
	if errors.Is(err, sql.ErrNoRows) {
		return h, ErrHoldNotFound.With("hold %s does not exist", id)
	}
	if err != nil {
		return h, fmt.Errorf("read hold %s: %w", id, err)
	}
	ids := []uuid.UUID{h.ID}
	if h.ResolvedEntryID != nil {
		ids = append(ids, *h.ResolvedEntryID)
	}
	es, err := loadEntries(ctx, s.db, tenant, ids)
	if err != nil {
		return h, err
	}
	h.Entry = es[0]
	if len(es) > 1 {
		h.Resolution = &es[1]
	}
	return h, nil
}

// PostHold moves a pending hold: in full when amount is nil, else that much
// of a hold of one debit and one credit, giving the rest back. Errors:
// ErrHoldNotFound, ErrHoldResolved, ErrHoldAmount, ErrHoldPartial,
// ErrAmountPrecision and those of Post.
func (s *Service) PostHold(ctx context.Context, actor Actor, id uuid.UUID, amount *decimal.Decimal, key string) (Hold, bool, error) {
	return s.resolve(ctx, actor, id, HoldPost, amount, key)
}

// VoidHold gives a pending hold's reservation back. Errors: ErrHoldNotFound,
// ErrHoldResolved.
func (s *Service) VoidHold(ctx context.Context, actor Actor, id uuid.UUID, key string) (Hold, bool, error) {
	return s.resolve(ctx, actor, id, HoldVoid, nil, key)
}

// ExpireHold expires a hold whose deadline has passed; a hold already
// resolved is left alone, so it is safe to run any number of times.
// Errors: ErrHoldNotDue for a hold whose deadline is still ahead.
func (s *Service) ExpireHold(ctx context.Context, tenant string, id uuid.UUID) error {
	_, _, err := s.resolve(ctx, Actor{Tenant: tenant, By: "system:hold-expiry"}, id, HoldExpire, nil, "")
	if errors.Is(err, ErrHoldResolved) {
		return nil
	}
	return err
}

// ExpireDue expires up to limit overdue holds of any tenant, the safety net
// for expiry tasks the queue lost. A hold whose expiry fails is skipped and
// counted (internal/jobs), so it cannot keep the others, of its tenant or
// any other, from expiring. It returns how many holds it looked at and how
// many of them failed.
func (s *Service) ExpireDue(ctx context.Context, limit int) (looked, failed int, err error) {
	var due []struct {
		Tenant string    `db:"tenant_id"`
		ID     uuid.UUID `db:"id"`
	}
	if err := s.db.SelectContext(ctx, &due, `SELECT tenant_id, id FROM holds
		WHERE status = 'pending' AND expires_at <= $1 ORDER BY expires_at LIMIT $2`, s.clock(), limit); err != nil {
		return 0, 0, fmt.Errorf("find due holds: %w", err)
	}
	for _, h := range due {
		if ctx.Err() != nil {
			return len(due), failed, ctx.Err()
		}
		if err := s.ExpireHold(ctx, h.Tenant, h.ID); err != nil && !errors.Is(err, ErrHoldNotDue) {
			jobs.Skip(ctx, jobs.HoldExpiry, h.ID.String(), fmt.Errorf("expire hold %s of %s: %w", h.ID, h.Tenant, err))
			failed++
		}
	}
	return len(due), failed, nil
}

var resolvedStatus = map[EntryKind]HoldStatus{HoldPost: HoldPosted, HoldVoid: HoldVoided, HoldExpire: HoldExpired}

// resolve ends a hold once: the hold row is locked first, so of any number
// of racing posts, voids and expiries exactly one finds it pending.
func (s *Service) resolve(ctx context.Context, actor Actor, id uuid.UUID, kind EntryKind, amount *decimal.Decimal, key string) (Hold, bool, error) {
	if key == "" {
		key = ServiceKey(KeySpace(kind), id.String())
	}
	var res Result
	err := s.inTx(ctx, func(tx *txn) error {
		var h Hold
		err := tx.GetContext(ctx, &h, `SELECT `+holdColumns+` FROM holds WHERE tenant_id = $1 AND id = $2 FOR UPDATE`, actor.Tenant, id)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrHoldNotFound.With("hold %s does not exist", id)
		}
		if err != nil {
			return fmt.Errorf("lock hold %s: %w", id, err)
		}
		now := s.clock()
		if kind == HoldExpire && (h.ExpiresAt == nil || h.ExpiresAt.After(now)) && h.Status == HoldPending {
			return ErrHoldNotDue.With("hold %s expires at %s", id, h.ExpiresAt.Format(time.RFC3339Nano))
		}
		orig, err := loadEntries(ctx, tx, actor.Tenant, []uuid.UUID{id})
		if err != nil {
			return err
		}
		req, err := resolution(orig[0], kind, amount, key)
		if err != nil {
			return err
		}
		d, _ := s.newDraft(now, kind, &id, &req)
		d.entry.HoldID = &id
		if h.Status != HoldPending {
			// Only a replay of the request that resolved it may pass.
			known, err := findKeys(ctx, tx, actor.Tenant, []string{key})
			if err != nil {
				return err
			}
			if row, ok := known[key]; !ok || string(row.RequestHash) != string(d.requestHash) {
				return ErrHoldResolved.With("hold %s is already %s", id, h.Status)
			}
		}
		if res, err = s.single(ctx, tx, actor, d, nil); err != nil || res.Err != nil || res.Replayed {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE holds SET status = $3, resolved_entry_id = $4, resolved_at = $5
			WHERE tenant_id = $1 AND id = $2`, actor.Tenant, id, resolvedStatus[kind], d.entry.ID, now)
		return err
	})
	if err == nil {
		err = res.Err
	}
	if err != nil {
		return Hold{}, false, err
	}
	h, err := s.Hold(ctx, actor.Tenant, id)
	return h, res.Replayed, err
}

// resolution builds the entry that ends a hold: every pending posting is
// released and, for a post, moved in full or the partial amount.
func resolution(hold Entry, kind EntryKind, amount *decimal.Decimal, key string) (EntryRequest, error) {
	req := EntryRequest{IdempotencyKey: key, Description: string(kind) + " of hold " + hold.ID.String()}
	if kind == HoldPost && amount != nil {
		if len(hold.Postings) != 2 || hold.Postings[0].Direction == hold.Postings[1].Direction {
			return req, ErrHoldPartial.With("hold %s has %d postings; post it in full", hold.ID, len(hold.Postings))
		}
		if amount.GreaterThan(hold.Postings[0].Amount) {
			return req, ErrHoldAmount.With("cannot post %s of a hold of %s", amount, hold.Postings[0].Currency.Format(hold.Postings[0].Amount))
		}
	}
	for _, p := range hold.Postings {
		req.Postings = append(req.Postings, PostingRequest{AccountID: p.AccountID, Direction: p.Direction, Amount: p.Amount, Currency: p.Currency, phase: Release})
	}
	if kind != HoldPost {
		return req, nil
	}
	for _, p := range hold.Postings {
		moved := p.Amount
		if amount != nil {
			moved = *amount
		}
		req.Postings = append(req.Postings, PostingRequest{AccountID: p.AccountID, Direction: p.Direction, Amount: moved, Currency: p.Currency})
	}
	return req, nil
}
