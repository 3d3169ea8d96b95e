package settlement

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/xbsettle/xbsettle/internal/db"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/xbsettle/xbsettle/internal/apperr"
	"github.com/xbsettle/xbsettle/ledger"
)

// ProcessInstruction moves every item of an instruction as far as it can go
// now: it verifies the accepted items, posts the verified ones, batches the
// posted ones, and takes the instruction out of the outbox once all rest.
//
// It is idempotent and safe to run concurrently with itself, which Asynq's
// at-least-once delivery and the outbox sweeper both require: every status
// change is guarded in SQL (it happens only from the status it starts
// from), a payment is claimed by one item before it posts, and its entry's
// idempotency key is derived from the payment, so a retry after a crash
// between posting and recording finds the entry instead of writing another.
// Errors: ErrInstructionNotFound, and infrastructure errors (retry).
func (s *Service) ProcessInstruction(ctx context.Context, tenant string, id uuid.UUID) error {
	var head instructionRow
	err := s.db.GetContext(ctx, &head, `SELECT `+instructionColumns+` FROM settlement_instructions
		WHERE tenant_id = $1 AND id = $2`, tenant, id)
	if isNoRows(err) {
		return ErrInstructionNotFound.With("settlement instruction %s does not exist", id)
	}
	if err != nil {
		return fmt.Errorf("read instruction %s: %w", id, err)
	}
	steps := []struct {
		from ItemStatus
		run  func(context.Context, *instructionRow, []Item) error
	}{{Accepted, s.verify}, {Verified, s.post}, {Posted, s.batch}}
	for _, step := range steps {
		items, err := readItems(ctx, s.db, tenant, id, true)
		if err != nil {
			return err
		}
		items = slices.DeleteFunc(items, func(it Item) bool { return it.Status != step.from })
		if len(items) == 0 {
			continue
		}
		if err := step.run(ctx, &head, items); err != nil {
			return fmt.Errorf("instruction %s: %s items: %w", id, step.from, err)
		}
	}
	return s.finish(ctx, tenant, id)
}

// verify checks accepted items against their chains, quotes and categories
// and moves each to verified (claiming its payment), rejected or held.
func (s *Service) verify(ctx context.Context, ins *instructionRow, items []Item) error {
	refs := make([]ChainRef, len(items))
	var quoteIDs []uuid.UUID
	for i, it := range items {
		refs[i] = ChainRef{EbpCode: it.EbpCode, OrderNo: it.OrderNo}
		if it.QuoteID != uuid.Nil && !slices.Contains(quoteIDs, it.QuoteID) {
			quoteIDs = append(quoteIDs, it.QuoteID)
		}
	}
	chains, err := s.chains.Chains(ctx, refs)
	if err != nil {
		return err
	}
	quotes, err := s.fx.quotesByID(ctx, ins.TenantID, quoteIDs)
	if err != nil {
		return err
	}
	var enterprises []string
	seen := map[string]bool{}
	for _, it := range items {
		if !seen[it.Enterprise] {
			seen[it.Enterprise] = true
			enterprises = append(enterprises, it.Enterprise)
		}
	}
	// The category in effect when the instruction was accepted, so a retry
	// decides as the first run did.
	cats, err := categoriesOf(ctx, s.policy, enterprises, ins.AcceptedAt)
	if err != nil {
		return err
	}
	verdicts := make([]verdict, len(items))
	for i := range items {
		var chain *TradeChain
		if c, ok := chains[refs[i]]; ok {
			chain = &c
		}
		verdicts[i] = assess(ins.TenantID, &items[i], chain, quotes, cats[items[i].Enterprise])
	}
	now := s.clock()
	return db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		vs := slices.Clone(verdicts) // a retried transaction starts from the assessment again
		if err := claim(ctx, tx, ins.TenantID, items, vs, now); err != nil {
			return err
		}
		moves := make([]move, len(items))
		for i := range items {
			moves[i] = move{id: items[i].ID, from: Accepted, to: vs[i].status, codes: vs[i].codes, verdict: &vs[i]}
		}
		_, err := applyMoves(ctx, tx, ins.TenantID, now, moves)
		return err
	})
}

// claim takes each passing item's payment for the item. A payment another
// item already holds (in this instruction or an earlier one) is not settled
// twice: the item is rejected ALREADY_SETTLED instead. Claims are taken in
// payment order, so concurrent workers wait for each other, never deadlock.
func claim(ctx context.Context, tx *sqlx.Tx, tenant string, items []Item, vs []verdict, at time.Time) error {
	type want struct {
		ptx string
		id  uuid.UUID
		i   int
	}
	var ws []want
	for i := range items {
		if vs[i].status == Verified || vs[i].status == Held {
			ws = append(ws, want{items[i].PayTransactionID, items[i].ID, i})
		}
	}
	if len(ws) == 0 {
		return nil
	}
	slices.SortFunc(ws, func(a, b want) int { return cmp.Compare(a.ptx, b.ptx) })
	ptx, ids := make([]string, len(ws)), make([]uuid.UUID, len(ws))
	for j, w := range ws {
		ptx[j], ids[j] = w.ptx, w.id
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO settlement_claims (tenant_id, pay_transaction_id, item_id, claimed_at)
		SELECT $1, u.ptx, u.id, $4 FROM unnest($2::text[], $3::uuid[]) WITH ORDINALITY AS u(ptx, id, n) ORDER BY u.n
		ON CONFLICT (tenant_id, pay_transaction_id) DO NOTHING`, tenant, pq.Array(ptx), pq.Array(ids), at); err != nil {
		return fmt.Errorf("claim %d payments: %w", len(ws), err)
	}
	var owners []struct {
		Ptx  string    `db:"pay_transaction_id"`
		Item uuid.UUID `db:"item_id"`
	}
	if err := tx.SelectContext(ctx, &owners, `SELECT pay_transaction_id, item_id FROM settlement_claims
		WHERE tenant_id = $1 AND pay_transaction_id = ANY($2)`, tenant, pq.Array(ptx)); err != nil {
		return fmt.Errorf("read claims: %w", err)
	}
	owner := make(map[string]uuid.UUID, len(owners))
	for _, o := range owners {
		owner[o.Ptx] = o.Item
	}
	for _, w := range ws {
		if owner[w.ptx] != w.id {
			v := &vs[w.i]
			*v = verdict{status: Rejected, codes: []string{CodeAlreadySettled}, direction: v.direction, tradeMode: v.tradeMode}
		}
	}
	return nil
}

// post writes the entries of verified items, one per item, in one ledger
// batch, and moves each to posted with its entry, or to rejected when the
// ledger refused it (its claim is then given back).
func (s *Service) post(ctx context.Context, ins *instructionRow, items []Item) error {
	actor := ledger.Actor{Tenant: ins.TenantID, By: ins.CreatedBy}
	var reqs []ledger.EntryRequest
	var posting []*Item
	var moves []move
	for i := range items {
		it := &items[i]
		req, err := s.itemEntry(ctx, actor, it)
		switch {
		case isDomain(err):
			moves = append(moves, move{id: it.ID, from: Verified, to: Rejected, codes: []string{codeOf(err)}})
		case err != nil:
			return err
		default:
			reqs, posting = append(reqs, req), append(posting, it)
		}
	}
	if len(reqs) > 0 {
		results := s.ledger.PostBatch(ctx, actor, reqs)
		if s.hooks.afterPost != nil {
			if err := s.hooks.afterPost(); err != nil {
				return err
			}
		}
		ours, err := s.ownEntries(ctx, actor.Tenant, reqs, posting, results)
		if err != nil {
			return err
		}
		for j, r := range results {
			it := posting[j]
			switch {
			case r.Err == nil:
				moves = append(moves, move{id: it.ID, from: Verified, to: Posted, entryID: &r.Entry.ID})
			case ours[j] != nil:
				moves = append(moves, move{id: it.ID, from: Verified, to: Posted, entryID: ours[j]})
			case errors.Is(r.Err, ledger.ErrIdempotencyReused):
				// An entry of this payment's key exists for another item:
				// the payment was settled some other way.
				moves = append(moves, move{id: it.ID, from: Verified, to: Rejected, codes: []string{CodeAlreadySettled}})
			case isDomain(r.Err):
				moves = append(moves, move{id: it.ID, from: Verified, to: Rejected, codes: []string{codeOf(r.Err)}})
			default: // the ledger's write failed as a whole: the task is retried, and
				// the items' keys replay whatever did get written (a lost
				// connection can hide a commit)
				return fmt.Errorf("post %d entries: %w", len(reqs), r.Err)
			}
		}
	}
	now := s.clock()
	return db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		moved, err := applyMoves(ctx, tx, ins.TenantID, now, moves)
		if err != nil {
			return err
		}
		var released []uuid.UUID
		for _, m := range moves {
			if m.to == Rejected && slices.Contains(moved, m.id) {
				released = append(released, m.id)
			}
		}
		if len(released) == 0 {
			return nil
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM settlement_claims WHERE tenant_id = $1 AND item_id = ANY($2)`,
			ins.TenantID, pq.Array(released))
		return err
	})
}

// ownEntries finds, for each result the ledger refused as a reuse of its
// key, whether the entry under that key is this very item's: posted by an
// earlier run whose request differed only in what a deploy may change (the
// description's wording, say), so the request hash no longer matches. The
// key is derived in a space no client can write, and the entry's metadata
// names its item, so the match is by key and item, not by hash. It returns
// the entry id at each such index.
func (s *Service) ownEntries(ctx context.Context, tenant string, reqs []ledger.EntryRequest, items []*Item, results []ledger.Result) ([]*uuid.UUID, error) {
	ours := make([]*uuid.UUID, len(results))
	var keys []string
	for j, r := range results {
		if errors.Is(r.Err, ledger.ErrIdempotencyReused) {
			keys = append(keys, reqs[j].IdempotencyKey)
		}
	}
	if len(keys) == 0 {
		return ours, nil
	}
	stored, err := s.ledger.EntriesByKey(ctx, tenant, keys)
	if err != nil {
		return nil, fmt.Errorf("find the entries of %d reused keys: %w", len(keys), err)
	}
	for j, r := range results {
		e, ok := stored[reqs[j].IdempotencyKey]
		if !ok || !errors.Is(r.Err, ledger.ErrIdempotencyReused) {
			continue
		}
		var meta struct {
			ItemID uuid.UUID `json:"item_id"`
		}
		if json.Unmarshal(e.Metadata, &meta) == nil && meta.ItemID == items[j].ID {
			ours[j] = &e.ID
		}
	}
	return ours, nil
}

func isDomain(err error) bool {
	var ae *apperr.Error
	return errors.As(err, &ae)
}

// itemEntry builds the one ledger entry of a verified item: the collection
// of the payment into the reserve, then BuildEntry's settlement. Its key is
// the payment's, and everything in it is fixed by the item, so a retry
// builds the same request and the ledger answers it as a replay.
func (s *Service) itemEntry(ctx context.Context, actor ledger.Actor, it *Item) (ledger.EntryRequest, error) {
	t, err := it.transfer()
	if err != nil {
		return ledger.EntryRequest{}, err
	}
	refs, err := t.Accounts()
	if err != nil {
		return ledger.EntryRequest{}, err
	}
	refs = append(refs, AccountOf(Reserve, it.Currency))
	set, err := s.accounts.Resolve(ctx, actor, refs...)
	if err != nil {
		return ledger.EntryRequest{}, err
	}
	req, err := BuildEntry(settleKey(actor.Tenant, it.PayTransactionID), t, set)
	if err != nil {
		return ledger.EntryRequest{}, err
	}
	return funded(req, set, it)
}

// funded puts the collection of the payment in front of the settlement
// postings: Dr reserve / Cr buyer_funds, in the payment's currency, for the
// payment's amount. The payment record on a verified chain is the evidence
// that the institution collected the funds; booking the collection with the
// settlement, in the same entry, means buyer funds never hold money the
// ledger cannot tie to a verified chain (docs/settlement.md, "Funding").
func funded(req ledger.EntryRequest, set AccountSet, it *Item) (ledger.EntryRequest, error) {
	reserve, _ := set.Get(AccountOf(Reserve, it.Currency))
	buyer, ok := set.Get(AccountOf(BuyerFunds, it.Currency))
	if !ok {
		return ledger.EntryRequest{}, fmt.Errorf("item %s: buyer funds %s not resolved", it.ID, it.Currency)
	}
	req.Postings = append([]ledger.PostingRequest{
		{AccountID: reserve.ID, Direction: ledger.Debit, Amount: it.Amount, Currency: it.Currency},
		{AccountID: buyer.ID, Direction: ledger.Credit, Amount: it.Amount, Currency: it.Currency},
	}, req.Postings...)
	var meta map[string]json.RawMessage
	if err := json.Unmarshal(req.Metadata, &meta); err != nil {
		return ledger.EntryRequest{}, fmt.Errorf("item %s: entry metadata: %w", it.ID, err)
	}
	extra := map[string]any{"item_id": it.ID, "instruction_id": it.InstructionID, "funding": "reserve",
		"payment": map[string]string{"ebpCode": it.EbpCode, "orderNo": it.OrderNo, "payTransactionId": it.PayTransactionID}}
	for k, v := range extra {
		raw, _ := json.Marshal(v)
		meta[k] = raw
	}
	b, err := json.Marshal(meta)
	if err != nil {
		return ledger.EntryRequest{}, fmt.Errorf("item %s: entry metadata: %w", it.ID, err)
	}
	req.Metadata = b
	return req, nil
}

// transfer rebuilds a verified item's transfer from what verification
// fixed. Conversion is exact, so the figures come out as they were stored;
// if one does not, that is a bug and nothing is posted.
func (it *Item) transfer() (Transfer, error) {
	t := Transfer{Flow: it.Flow, Enterprise: it.Enterprise, Fee: it.Fee}
	if it.Flow == FlowCIPS {
		t.Amount = it.Amount
		return t, nil
	}
	if it.Quotation == nil {
		return Transfer{}, fmt.Errorf("item %s: a %s item without its quotation", it.ID, it.Flow)
	}
	c, err := Convert(it.Amount, it.Currency, it.PayoutCurrency, *it.Quotation)
	if err != nil {
		return Transfer{}, err
	}
	t.Conversion = &c
	if f := figuresOf(t); !f.cny.Decimal.Equal(it.CNYAmount.Decimal) || !f.foreign.Decimal.Equal(it.ForeignAmount.Decimal) ||
		!f.spread.Decimal.Equal(it.SpreadCNY.Decimal) || !f.net.Decimal.Equal(it.PayoutAmount.Decimal) {
		return Transfer{}, fmt.Errorf("item %s: the conversion no longer gives the verified figures", it.ID)
	}
	return t, nil
}
