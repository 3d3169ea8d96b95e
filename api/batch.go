package api

import (
	"net/http"
	"strings"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/xbsettle/xbsettle/ledger"
)

// batchItem is one entry of POST /v1/entries/batch: an entry with its own
// idempotency key.
type batchItem struct {
	entryInput
	IdempotencyKey string `json:"idempotency_key"`
}

// batchInput is the body of POST /v1/entries/batch.
type batchInput struct {
	Entries []batchItem `json:"entries"`
}

// batchResult is the outcome of one item: status is what the item would
// have got as a request of its own (201, 200 for a replay, or a 4xx), with
// either the entry (or only its id, when the caller prefers a minimal
// answer) or the problem.
type batchResult struct {
	Index   int        `json:"index"`
	Status  int        `json:"status"`
	EntryID *uuid.UUID `json:"entry_id,omitempty"`
	Entry   *entryView `json:"entry,omitempty"`
	Error   *Problem   `json:"error,omitempty"`
}

// prefersMinimal reports whether the request asks, by RFC 7240's
// "Prefer: return=minimal", for entry ids instead of whole entries: a bulk
// caller that kept its requests has no use for them echoed back, and
// encoding them costs both sides more than posting them.
func prefersMinimal(r *http.Request) bool {
	for _, v := range r.Header.Values("Prefer") {
		for _, p := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(p), "return=minimal") {
				return true
			}
		}
	}
	return false
}

type batchOutput struct {
	Results []batchResult `json:"results"`
}

// postBatch: POST /v1/entries/batch. Each item succeeds or fails on its own,
// as if posted alone in order; the response is 200 with a result per item.
// A body that is not valid JSON, has unknown fields or too many entries is
// refused as a whole; reading stops at the entry one too many.
func (s *Server) postBatch(c echo.Context) error {
	var in batchInput
	if err := decodeBody(c, &in, maxBatchBody, false); err != nil {
		if tooManyElements(err, "entries") {
			return errBatchTooLarge.With("a batch has at most %d entries; reading stopped after %d", ledger.MaxBatch, maxJSONElements)
		}
		return err
	}
	switch n := len(in.Entries); {
	case n == 0:
		var f fields
		f.add("entries", "REQUIRED", "send at least one entry")
		return f.err()
	case n > ledger.MaxBatch:
		return errBatchTooLarge.With("a batch has at most %d entries, got %d", ledger.MaxBatch, n)
	}
	minimal := prefersMinimal(c.Request())
	out := batchOutput{Results: make([]batchResult, len(in.Entries))}
	var reqs []ledger.EntryRequest
	var at []int // reqs[j] is item at[j]
	for i := range in.Entries {
		item := &in.Entries[i]
		prefix := indexed("entries", i)
		var f fields
		if item.IdempotencyKey == "" {
			f.add(nested(prefix, "idempotency_key"), "REQUIRED", "every batch item needs its own idempotency_key")
		}
		checkKey(item.IdempotencyKey, nested(prefix, "idempotency_key"), &f)
		req := item.parse(prefix, item.IdempotencyKey, &f)
		out.Results[i].Index = i
		if err := f.err(); err != nil {
			out.Results[i].fail(err)
			continue
		}
		reqs, at = append(reqs, req), append(at, i)
	}
	if len(reqs) > 0 {
		for j, r := range s.ledger.PostBatch(c.Request().Context(), actor(c), reqs) {
			res := &out.Results[at[j]]
			switch {
			case r.Err != nil && problemOf(r.Err).Status >= 500:
				// The transaction failed as a whole: no item was written,
				// so the batch answers as one failed request.
				return r.Err
			case r.Err != nil:
				res.fail(r.Err)
			default:
				res.Status = http.StatusCreated
				if r.Replayed {
					res.Status = http.StatusOK
				}
				if id := r.Entry.ID; minimal {
					res.EntryID = &id
				} else {
					v := viewEntry(r.Entry)
					res.Entry = &v
				}
			}
		}
	}
	if minimal {
		c.Response().Header().Set("Preference-Applied", "return=minimal")
	}
	return c.JSON(http.StatusOK, out)
}

func (r *batchResult) fail(err error) {
	p := problemOf(err)
	r.Status, r.Error = p.Status, &p
}
