package bench

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"

	"github.com/xbsettle/xbsettle/ledger"
)

// singleEntries: 32 clients post one entry per request between random pairs
// of 1,000 accounts. Target ≥ 3,000 entries/s with p99 ≤ 20 ms.
func singleEntries(ctx context.Context, h *harness) (Result, error) {
	assets, err := h.accounts(ctx, "single-a", 500, ledger.Asset)
	if err != nil {
		return Result{}, err
	}
	liabs, err := h.accounts(ctx, "single-l", 500, ledger.Liability)
	if err != nil {
		return Result{}, err
	}
	r, err := h.timedClients(ctx, "single", 32, func(ctx context.Context, c, seq int) error {
		i := (c*7919 + seq*104729) % len(assets)
		code, err := h.do(ctx, http.MethodPost, "/v1/entries", fmt.Sprintf("s-%d-%d", c, seq), entry(assets[i], liabs[(i+seq)%len(liabs)], "1.00"), nil)
		return statusErr(code, http.StatusCreated, err)
	})
	if err != nil {
		return Result{}, err
	}
	r.Target, r.Met = "≥ 3000/s, p99 ≤ 20 ms", r.PerSecond >= 3000 && r.P99ms <= 20
	return r, nil
}

// bulkEntries: POST /v1/entries/batch of 1,000 two-posting entries over
// 10,000 accounts from 4 clients, which want only each item's status and
// entry id back (Prefer: return=minimal). Target ≥ 50,000 entries/s.
func bulkEntries(ctx context.Context, h *harness) (Result, error) {
	const batch = 1000
	assets, err := h.accounts(ctx, "bulk-a", 5000, ledger.Asset)
	if err != nil {
		return Result{}, err
	}
	liabs, err := h.accounts(ctx, "bulk-l", 5000, ledger.Liability)
	if err != nil {
		return Result{}, err
	}
	var failed atomic.Int64
	r, err := h.timedClients(ctx, "bulk", 4, func(ctx context.Context, c, seq int) error {
		entries := make([]entryBody, batch)
		for j := range entries {
			i := (c*batch*31 + seq*batch + j) * 7919
			entries[j] = entry(assets[i%len(assets)], liabs[(i/7)%len(liabs)], "2.50")
			entries[j].IdempotencyKey = fmt.Sprintf("b-%d-%d-%d", c, seq, j)
		}
		var out struct {
			Results []struct {
				Status int `json:"status"`
			} `json:"results"`
		}
		code, err := h.do(ctx, http.MethodPost, "/v1/entries/batch", "", struct {
			Entries []entryBody `json:"entries"`
		}{entries}, &out, "Prefer", "return=minimal")
		if err := statusErr(code, http.StatusOK, err); err != nil {
			return err
		}
		for _, res := range out.Results {
			if res.Status >= 300 {
				failed.Add(1)
			}
		}
		return nil
	})
	if err != nil {
		return Result{}, err
	}
	// timedClients counted requests; each carried a batch.
	r.Entries = r.Entries*batch - failed.Load()
	r.Errors = r.Errors*batch + failed.Load()
	r.PerSecond = float64(r.Entries) / r.Seconds
	r.P50ms, r.P99ms = 0, 0
	r.Target, r.Met = "≥ 50000/s", r.PerSecond >= 50000
	return r, nil
}

// hotAccount: 32 clients post single entries that all debit one account.
// Target ≥ 10,000 entries/s.
func hotAccount(ctx context.Context, h *harness) (Result, error) {
	hot, err := h.accounts(ctx, "hot", 1, ledger.Asset)
	if err != nil {
		return Result{}, err
	}
	liabs, err := h.accounts(ctx, "hot-l", 1000, ledger.Liability)
	if err != nil {
		return Result{}, err
	}
	r, err := h.timedClients(ctx, "hot", 32, func(ctx context.Context, c, seq int) error {
		code, err := h.do(ctx, http.MethodPost, "/v1/entries", fmt.Sprintf("h-%d-%d", c, seq), entry(hot[0], liabs[(c*1000+seq)%len(liabs)], "0.01"), nil)
		return statusErr(code, http.StatusCreated, err)
	})
	if err != nil {
		return Result{}, err
	}
	r.Target, r.Met = "≥ 10000/s", r.PerSecond >= 10000
	return r, nil
}

func statusErr(got, want int, err error) error {
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("status %d, want %d", got, want)
	}
	return nil
}
