package ledger

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
)

// Direction is the side of a posting.
type Direction string

// The two sides.
const (
	Debit  Direction = "debit"
	Credit Direction = "credit"
)

// Phase says which balance a posting moves.
type Phase string

// Posted moves the posted balance; Pending reserves funds for a hold; Release
// gives a reservation back when the hold is posted, voided or expires. All
// three keep amounts positive, so every balance is a plain sum of postings.
const (
	Posted  Phase = "posted"
	Pending Phase = "pending"
	Release Phase = "release"
)

// EntryKind says why an entry exists.
type EntryKind string

// Entry kinds.
const (
	Standard   EntryKind = "standard"
	HoldEntry  EntryKind = "hold"
	HoldPost   EntryKind = "hold_post"
	HoldVoid   EntryKind = "hold_void"
	HoldExpire EntryKind = "hold_expire"
	Reversal   EntryKind = "reversal"
)

// MaxPostings bounds the postings of one entry.
const MaxPostings = 64

// Posting is one line of an entry.
type Posting struct {
	AccountID uuid.UUID       `json:"account_id"`
	Direction Direction       `json:"direction"`
	Phase     Phase           `json:"phase"`
	Amount    decimal.Decimal `json:"amount"`
	Currency  Currency        `json:"currency"`
}

// Entry is a journal transaction: two or more postings, balanced per
// currency, never changed once written.
type Entry struct {
	ID              uuid.UUID       `json:"id"`
	TenantID        string          `json:"tenant_id"`
	IdempotencyKey  string          `json:"idempotency_key"`
	Kind            EntryKind       `json:"kind"`
	HoldID          *uuid.UUID      `json:"hold_id,omitempty"`
	ReversesEntryID *uuid.UUID      `json:"reverses_entry_id,omitempty"`
	EffectiveAt     time.Time       `json:"effective_at"`
	CreatedAt       time.Time       `json:"created_at"`
	Description     string          `json:"description"`
	Metadata        json.RawMessage `json:"metadata"`
	CreatedBy       string          `json:"created_by"`
	Postings        []Posting       `json:"postings"`
	Hash            []byte          `json:"hash,omitempty"` // set once the sealer has chained it
}

// PostingRequest is a posting as a client asks for it. Currency is optional;
// when given it must be the account's.
type PostingRequest struct {
	AccountID uuid.UUID
	Direction Direction
	Amount    decimal.Decimal
	Currency  Currency
	phase     Phase // set only by the ledger itself, for the releases that end a hold
}

// EntryRequest asks for one entry. The API has already checked the shapes
// (parsed amounts, known directions); the ledger checks what needs the
// accounts: existence, currency, minor units, balance and flags.
type EntryRequest struct {
	IdempotencyKey string
	Description    string
	EffectiveAt    time.Time // zero means now
	Metadata       json.RawMessage
	Postings       []PostingRequest
}

// Result is the outcome of one entry of a batch.
type Result struct {
	Entry    Entry
	Replayed bool // the idempotency key had posted before; Entry is that first result
	Err      error
}

// draft is an entry on its way into the database.
type draft struct {
	entry       Entry
	requestHash []byte
}

// fingerprint hashes what a request asks for, so a replay with the same key
// can be told from a different request that reuses it.
func fingerprint(kind EntryKind, target *uuid.UUID, r *EntryRequest) []byte {
	type posting struct {
		A uuid.UUID `json:"a"`
		D Direction `json:"d"`
		P Phase     `json:"p,omitempty"`
		M string    `json:"m"`
		C Currency  `json:"c"`
	}
	ps := make([]posting, len(r.Postings))
	for i, p := range r.Postings {
		ps[i] = posting{p.AccountID, p.Direction, p.phase, p.Amount.String(), p.Currency}
	}
	var eff string
	if !r.EffectiveAt.IsZero() {
		eff = r.EffectiveAt.UTC().Format(time.RFC3339Nano)
	}
	b, _ := json.Marshal(struct {
		K EntryKind       `json:"k"`
		T *uuid.UUID      `json:"t"`
		D string          `json:"d"`
		E string          `json:"e"`
		M json.RawMessage `json:"m"`
		P []posting       `json:"p"`
	}{kind, target, r.Description, eff, canonicalJSON(r.Metadata), ps})
	sum := sha256.Sum256(b)
	return sum[:]
}

// canonicalJSON re-encodes a JSON object with sorted keys and the numbers'
// own digits, so equal metadata hashes equal whatever its spacing or order.
func canonicalJSON(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 {
		return json.RawMessage("{}")
	}
	var v any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		return raw
	}
	b, err := json.Marshal(v)
	if err != nil {
		return raw
	}
	return b
}
