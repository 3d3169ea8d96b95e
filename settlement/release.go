package settlement

import (
	"context"
	"fmt"
	"github.com/xbsettle/xbsettle/internal/db"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/xbsettle/xbsettle/internal/apperr"
	"github.com/xbsettle/xbsettle/ledger"
)

// Errors of the registration of held items.
var (
	ErrItemNotFound = apperr.New("SETTLEMENT_ITEM_NOT_FOUND", "no such item in this settlement instruction")
	ErrItemNotHeld  = apperr.New("ITEM_NOT_HELD", "the item is not held: only a held item is registered")
)

// CodeRegistrationRefused is the code of a held item the FX bureau refused
// to register: it ends rejected.
const CodeRegistrationRefused = "FX_REGISTRATION_REFUSED"

// Registration actions of the FX bureau on a held (category C) item.
const (
	RegistrationRelease = "release" // registered: the item settles like a category A item
	RegistrationRefuse  = "refuse"  // not registered: the item is rejected and its payment given back
)

// Registration is the FX bureau's case-by-case registration (逐笔登记) of
// one held item: release it, or refuse it, under the bureau's reference.
type Registration struct {
	Action    string
	Reference string // the bureau's registration number
	Reason    string // required to refuse
}

// Bounds of a registration.
const (
	maxRegistrationRef    = 64
	maxRegistrationReason = 2000
)

func (r Registration) validate() error {
	var f []apperr.FieldError
	add := func(field, code, msg string) {
		f = append(f, apperr.FieldError{Field: field, Code: code, Message: msg})
	}
	if r.Action != RegistrationRelease && r.Action != RegistrationRefuse {
		add("action", "ACTION_INVALID", "want release or refuse")
	}
	switch {
	case r.Reference == "":
		add("reference", FieldRequired, "the bureau's registration reference is required")
	case len(r.Reference) > maxRegistrationRef:
		add("reference", FieldTooLong, fmt.Sprintf("at most %d characters", maxRegistrationRef))
	}
	switch {
	case r.Action == RegistrationRefuse && r.Reason == "":
		add("reason", FieldRequired, "a refusal must say why")
	case len([]rune(r.Reason)) > maxRegistrationReason:
		add("reason", FieldTooLong, fmt.Sprintf("at most %d characters", maxRegistrationReason))
	}
	if len(f) > 0 {
		return apperr.Invalid(f)
	}
	return nil
}

// RegisterHeld applies the FX bureau's registration to a held item of the
// institution actor.Tenant, named by its instruction and id.
//
// Release judges the item again exactly as at its acceptance — same chain
// rules, same quote, judged at the instruction's accepted_at — except that
// the category is taken as registered (A): the bureau has approved this
// payment. It moves held → verified (the payment stays claimed) and puts
// the instruction back in the outbox, so the workers post and batch it; or,
// when the chain no longer passes (it was cancelled meanwhile, say), held →
// rejected with the codes, giving the payment back. Refuse moves held →
// rejected with FX_REGISTRATION_REFUSED and gives the payment back.
//
// Each item is registered once (settlement_registrations); the same
// registration again answers the instruction as it stands. Errors:
// VALIDATION_FAILED, ErrItemNotFound, ErrItemNotHeld.
func (s *Service) RegisterHeld(ctx context.Context, actor ledger.Actor, instruction, item uuid.UUID, reg Registration) (Instruction, error) {
	if err := reg.validate(); err != nil {
		return Instruction{}, err
	}
	var row itemRow
	err := s.db.GetContext(ctx, &row, `SELECT `+itemColumns+` FROM settlement_items WHERE tenant_id = $1 AND id = $2 AND instruction_id = $3`,
		actor.Tenant, item, instruction)
	if isNoRows(err) {
		return Instruction{}, ErrItemNotFound.With("instruction %s has no item %s", instruction, item)
	}
	if err != nil {
		return Instruction{}, fmt.Errorf("read item %s: %w", item, err)
	}
	it := row.item()
	if it.Status != Held {
		return s.registrationReplay(ctx, actor.Tenant, it, reg)
	}
	v := verdict{status: Rejected, codes: []string{CodeRegistrationRefused}}
	if reg.Action == RegistrationRelease {
		if v, err = s.reassess(ctx, actor.Tenant, it); err != nil {
			return Instruction{}, err
		}
	}
	now := s.clock()
	var requeue []outboxRow
	err = db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		requeue = nil
		moved, err := applyMoves(ctx, tx, actor.Tenant, now, []move{{id: it.ID, from: Held, to: v.status, codes: v.codes, verdict: &v}})
		if err != nil || len(moved) == 0 {
			return err // moved by a concurrent registration: its record stands
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO settlement_registrations (tenant_id, item_id, action, reference, reason,
			registered_by, registered_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			actor.Tenant, it.ID, reg.Action, reg.Reference, reg.Reason, actor.By, now); err != nil {
			return fmt.Errorf("record registration of %s: %w", it.ID, err)
		}
		if v.status == Rejected {
			_, err := tx.ExecContext(ctx, `DELETE FROM settlement_claims WHERE tenant_id = $1 AND item_id = $2`, actor.Tenant, it.ID)
			return err
		}
		return tx.SelectContext(ctx, &requeue, `UPDATE settlement_outbox SET done_at = NULL
			WHERE tenant_id = $1 AND instruction_id = $2 RETURNING tenant_id, instruction_id, enqueues`, actor.Tenant, instruction)
	})
	if err != nil {
		return Instruction{}, err
	}
	s.instructionOutbox().Enqueue(ctx, requeue)
	return s.Instruction(ctx, actor.Tenant, instruction)
}

// reassess judges a held item as at its acceptance, its category taken as
// registered.
func (s *Service) reassess(ctx context.Context, tenant string, it Item) (verdict, error) {
	ref := ChainRef{EbpCode: it.EbpCode, OrderNo: it.OrderNo}
	chains, err := s.chains.Chains(ctx, []ChainRef{ref})
	if err != nil {
		return verdict{}, err
	}
	var quoteIDs []uuid.UUID
	if it.QuoteID != uuid.Nil {
		quoteIDs = append(quoteIDs, it.QuoteID)
	}
	quotes, err := s.fx.quotesByID(ctx, tenant, quoteIDs)
	if err != nil {
		return verdict{}, err
	}
	var chain *TradeChain
	if c, ok := chains[ref]; ok {
		chain = &c
	}
	return assess(tenant, &it, chain, quotes, CategoryA), nil
}

// registrationReplay answers a registration of an item that is no longer
// held: the same registration again replays, anything else is refused.
func (s *Service) registrationReplay(ctx context.Context, tenant string, it Item, reg Registration) (Instruction, error) {
	var prev struct {
		Action    string    `db:"action"`
		Reference string    `db:"reference"`
		At        time.Time `db:"registered_at"`
	}
	err := s.db.GetContext(ctx, &prev, `SELECT action, reference, registered_at FROM settlement_registrations
		WHERE tenant_id = $1 AND item_id = $2`, tenant, it.ID)
	if err != nil && !isNoRows(err) {
		return Instruction{}, fmt.Errorf("read registration of %s: %w", it.ID, err)
	}
	if err != nil || prev.Action != reg.Action || prev.Reference != reg.Reference {
		return Instruction{}, ErrItemNotHeld.With("item %s is %s", it.ID, it.Status)
	}
	return s.Instruction(ctx, tenant, it.InstructionID)
}
