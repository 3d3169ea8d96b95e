package clearance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/jmoiron/sqlx"
)

// MaxMatchBatch bounds the chains one evaluation round reads and writes;
// MatchChains splits larger sets.
const MaxMatchBatch = 1000

// maxMatchRounds bounds how often MatchChains evaluates again chains that
// changed while it evaluated them.
const maxMatchRounds = 5

// ErrChainsBusy: chains kept changing during every round of MatchChains.
// The task that called it is retried; nothing is lost, the chains are dirty.
var ErrChainsBusy = errors.New("chains changed during every evaluation round")

// evaluation is one chain evaluated in one round.
type evaluation struct {
	key     ChainKey
	version int64 // the dirty version the documents stand for
	docs    []storedDoc
	chain   Chain
	state   ChainStatus
	by      *buyerYear // import chains with a buyer: their quota ledger

	verdict     Verdict
	verdictJSON []byte
	prev        chainRow // as locked for the write: the verdict in force
	wasVerified bool
}

// verified reports whether the chain counts as a real trade: every rule
// holds and it was neither cancelled nor returned.
func (e *evaluation) verified() bool {
	return e.verdict.Status == StatusVerified && e.state == ChainOpen
}

// match evaluates the chain with facts and the buyer's other purchases.
func (e *evaluation) match(facts Facts) error {
	e.chain.Facts = facts
	e.verdict = Match(e.chain)
	var err error
	if e.verdictJSON, err = json.Marshal(e.verdict); err != nil {
		return fmt.Errorf("encode verdict of %s/%s: %w", e.key.EbpCode, e.key.OrderNo, err)
	}
	return nil
}

// MatchChains evaluates the chains that are dirty among keys and records
// their verdicts. It loads all of their documents in one query, evaluates in
// Go and writes in a few set-based statements. A chain whose dirty version
// moved on while it was evaluated is not written (compare-and-clear) but
// evaluated again, up to maxMatchRounds; so no chain is left evaluated
// against a stale set. It is idempotent: a clean chain is skipped.
//
// Errors: ErrChainsBusy when chains still changed in the last round.
func (s *Service) MatchChains(ctx context.Context, keys []ChainKey) error {
	keys = slices.Clone(keys)
	slices.SortFunc(keys, compareKeys)
	keys = slices.Compact(keys)
	for len(keys) > 0 {
		n := min(len(keys), MaxMatchBatch)
		if err := s.matchSet(ctx, keys[:n]); err != nil {
			return err
		}
		keys = keys[n:]
	}
	return nil
}

func (s *Service) matchSet(ctx context.Context, keys []ChainKey) error {
	release, err := s.evaluating.lock(ctx, keys)
	if err != nil {
		return err
	}
	defer release()
	for round := 0; round < maxMatchRounds; round++ {
		left, err := s.matchRound(ctx, keys)
		if err != nil {
			return err
		}
		if len(left) == 0 {
			return nil
		}
		keys = left
	}
	return fmt.Errorf("%d chains, %d rounds: %w", len(keys), maxMatchRounds, ErrChainsBusy)
}

// matchRound evaluates keys once and returns those to evaluate again.
func (s *Service) matchRound(ctx context.Context, keys []ChainKey) ([]ChainKey, error) {
	snap, err := s.readSnapshot(ctx, keys)
	if err != nil || len(snap.chains) == 0 {
		return nil, err
	}
	if s.afterSnapshot != nil {
		s.afterSnapshot()
	}
	tariff, err := s.currentTariff(ctx)
	if err != nil {
		return nil, err
	}
	evs := make([]*evaluation, 0, len(snap.chains))
	var codes []string
	for _, c := range snap.chains {
		e, err := newEvaluation(c, snap.docs[c.key()])
		if err != nil {
			return nil, err
		}
		evs = append(evs, e)
		codes = append(codes, e.chain.parties()...)
	}
	reg, err := registryOf(ctx, s.db, codes)
	if err != nil {
		return nil, err
	}
	facts := Facts{Registry: reg, Tariff: tariff}
	var left []ChainKey
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		var cleared []*evaluation
		var err error
		if cleared, left, err = claim(ctx, tx, evs); err != nil || len(cleared) == 0 {
			return err
		}
		if err := evaluate(ctx, tx, cleared, facts); err != nil {
			return err
		}
		if err := writeVerdicts(ctx, tx, cleared); err != nil {
			return err
		}
		if err := writeQuotaUses(ctx, tx, cleared); err != nil {
			return err
		}
		return writeTradeChains(ctx, tx, cleared)
	})
	if err != nil {
		return nil, fmt.Errorf("match %d chains: %w", len(evs), err)
	}
	return left, nil
}

// claim locks the evaluated chains and keeps those still at the version
// evaluated (compare-and-clear); the others, still dirty, go again.
func claim(ctx context.Context, tx *sqlx.Tx, evs []*evaluation) (cleared []*evaluation, left []ChainKey, err error) {
	keys := make([]ChainKey, len(evs))
	for i, e := range evs {
		keys[i] = e.key
	}
	locked, err := lockEvaluated(ctx, tx, keys)
	if err != nil {
		return nil, nil, err
	}
	for _, e := range evs {
		row := locked[e.key]
		switch {
		case row.Dirty == e.version && row.Clean < e.version:
			e.prev, e.wasVerified = row, row.Status == StatusVerified && row.State == ChainOpen
			cleared = append(cleared, e)
		case row.Dirty > row.Clean:
			left = append(left, e.key)
		}
	}
	return cleared, left, nil
}

// newEvaluation decodes a chain's documents in force into a Chain and its
// state. A delete in force leaves its document out; of a cancellation and a
// return the later one counts.
func newEvaluation(c chainRow, docs []storedDoc) (*evaluation, error) {
	e := &evaluation{key: c.key(), version: c.Dirty, docs: docs, state: ChainOpen}
	var closing *Cancellation
	for _, sd := range docs {
		d, err := sd.decode()
		if err != nil {
			return nil, fmt.Errorf("chain %s/%s: %w", c.Tenant, c.OrderNo, err)
		}
		switch d := d.(type) {
		case *Cancellation:
			if closing == nil || Supersedes(&d.Head, &closing.Head) {
				closing = d
			}
			continue
		}
		if d.Header().AppType == AppDelete {
			continue
		}
		e.chain.set(d)
	}
	e.state = StatusOf(closing)
	e.by = buyerYearOf(e.chain.Order)
	return e, nil
}

// set puts d in its place in the chain.
func (c *Chain) set(d Document) {
	switch d := d.(type) {
	case *Order:
		c.Order = d
	case *Payment:
		c.Payment = d
	case *Waybill:
		c.Waybill = d
	case *Inventory:
		c.Inventory = d
	}
}

// parties are the enterprise codes rule PARTIES checks.
func (c Chain) parties() []string {
	var codes []string
	if c.Order != nil {
		codes = append(codes, c.Order.EbpCode, c.Order.EbcCode)
	}
	if c.Inventory != nil {
		codes = append(codes, c.Inventory.EbpCode, c.Inventory.EbcCode)
	}
	return codes
}

// seller is the chain's seller (ebcCode) as risk counts it: the order's,
// else the inventory's; "" when neither is in force (a delete in force is
// not). Rule PARTIES holds the two equal; when they differ the order's
// counts, as it does for the trade chain.
func (c Chain) seller() string {
	if c.Order != nil && c.Order.EbcCode != "" {
		return c.Order.EbcCode
	}
	if c.Inventory != nil {
		return c.Inventory.EbcCode
	}
	return ""
}
