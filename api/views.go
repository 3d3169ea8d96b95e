package api

import (
	"encoding/hex"
	"encoding/json"
	"time"

	"github.com/google/uuid"

	"github.com/xbsettle/xbsettle/ledger"
)

// The response shapes of DESIGN §8. Amounts are strings with exactly the
// currency's minor units; times are RFC 3339 in UTC.

type accountView struct {
	ID                uuid.UUID       `json:"id"`
	Code              string          `json:"code"`
	Currency          ledger.Currency `json:"currency"`
	Kind              ledger.Kind     `json:"kind"`
	Flags             []ledger.Flag   `json:"flags"`
	Status            ledger.Status   `json:"status"`
	OwnerEnterpriseID *string         `json:"owner_enterprise_id"`
	Metadata          json.RawMessage `json:"metadata"`
	CreatedAt         time.Time       `json:"created_at"`
}

func viewAccount(a ledger.Account) accountView {
	return accountView{ID: a.ID, Code: a.Code, Currency: a.Currency, Kind: a.Kind, Flags: a.Flags(),
		Status: a.Status, OwnerEnterpriseID: a.OwnerEnterpriseID, Metadata: object(a.Metadata), CreatedAt: a.CreatedAt.UTC()}
}

type postingView struct {
	AccountID uuid.UUID        `json:"account_id"`
	Direction ledger.Direction `json:"direction"`
	Phase     ledger.Phase     `json:"phase"`
	Amount    string           `json:"amount"`
	Currency  ledger.Currency  `json:"currency"`
}

type entryView struct {
	ID              uuid.UUID        `json:"id"`
	IdempotencyKey  string           `json:"idempotency_key"`
	Kind            ledger.EntryKind `json:"kind"`
	EffectiveAt     time.Time        `json:"effective_at"`
	CreatedAt       time.Time        `json:"created_at"`
	CreatedBy       string           `json:"created_by"`
	Description     string           `json:"description"`
	Metadata        json.RawMessage  `json:"metadata"`
	Postings        []postingView    `json:"postings"`
	Hash            string           `json:"hash,omitempty"`
	ReversesEntryID *uuid.UUID       `json:"reverses_entry_id,omitempty"`
	HoldID          *uuid.UUID       `json:"hold_id,omitempty"`
}

func viewEntry(e ledger.Entry) entryView {
	v := entryView{ID: e.ID, IdempotencyKey: e.IdempotencyKey, Kind: e.Kind, EffectiveAt: e.EffectiveAt.UTC(),
		CreatedAt: e.CreatedAt.UTC(), CreatedBy: e.CreatedBy, Description: e.Description, Metadata: object(e.Metadata),
		Postings: make([]postingView, len(e.Postings)), ReversesEntryID: e.ReversesEntryID, HoldID: e.HoldID}
	for i, p := range e.Postings {
		v.Postings[i] = postingView{AccountID: p.AccountID, Direction: p.Direction, Phase: p.Phase,
			Amount: p.Currency.Format(p.Amount), Currency: p.Currency}
	}
	if len(e.Hash) > 0 {
		v.Hash = hex.EncodeToString(e.Hash)
	}
	return v
}

type holdView struct {
	ID              uuid.UUID         `json:"id"`
	Status          ledger.HoldStatus `json:"status"`
	ExpiresAt       *time.Time        `json:"expires_at"`
	ResolvedEntryID *uuid.UUID        `json:"resolved_entry_id"`
	ResolvedAt      *time.Time        `json:"resolved_at"`
	Entry           entryView         `json:"entry"`
	Resolution      *entryView        `json:"resolution"`
}

func viewHold(h ledger.Hold) holdView {
	v := holdView{ID: h.ID, Status: h.Status, ExpiresAt: utc(h.ExpiresAt), ResolvedEntryID: h.ResolvedEntryID,
		ResolvedAt: utc(h.ResolvedAt), Entry: viewEntry(h.Entry)}
	if h.Resolution != nil {
		r := viewEntry(*h.Resolution)
		v.Resolution = &r
	}
	return v
}

type balanceView struct {
	AccountID      uuid.UUID       `json:"account_id"`
	Currency       ledger.Currency `json:"currency"`
	PostedDebits   string          `json:"posted_debits"`
	PostedCredits  string          `json:"posted_credits"`
	PendingDebits  string          `json:"pending_debits"`
	PendingCredits string          `json:"pending_credits"`
	Posted         string          `json:"posted"`
	Available      string          `json:"available"`
	AsOf           time.Time       `json:"as_of"`
}

func viewBalance(r ledger.BalanceReport) balanceView {
	cur, kind, b := r.Account.Currency, r.Account.Kind, r.Balance
	return balanceView{AccountID: r.Account.ID, Currency: cur,
		PostedDebits: cur.Format(b.PostedDebits), PostedCredits: cur.Format(b.PostedCredits),
		PendingDebits: cur.Format(b.PendingDebits), PendingCredits: cur.Format(b.PendingCredits),
		Posted: cur.Format(b.Posted(kind)), Available: cur.Format(b.Available(kind)), AsOf: r.AsOf.UTC()}
}

type postingLineView struct {
	EntryID     uuid.UUID        `json:"entry_id"`
	Index       int              `json:"index"`
	Direction   ledger.Direction `json:"direction"`
	Phase       ledger.Phase     `json:"phase"`
	Amount      string           `json:"amount"`
	Currency    ledger.Currency  `json:"currency"`
	EffectiveAt time.Time        `json:"effective_at"`
}

func viewPostingLine(p ledger.PostingLine) postingLineView {
	return postingLineView{EntryID: p.EntryID, Index: p.Index, Direction: p.Direction, Phase: p.Phase,
		Amount: p.Currency.Format(p.Amount), Currency: p.Currency, EffectiveAt: p.EffectiveAt.UTC()}
}

// viewAll maps a slice through a view function.
func viewAll[T, V any](items []T, view func(T) V) []V {
	out := make([]V, len(items))
	for i, it := range items {
		out[i] = view(it)
	}
	return out
}

// object is metadata as sent to clients: always an object, never null.
func object(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 || string(raw) == "null" {
		return json.RawMessage("{}")
	}
	return raw
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
