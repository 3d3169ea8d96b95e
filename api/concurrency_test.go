package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/shopspring/decimal"
)

// race runs n calls of fn over clients goroutines and returns how many
// answers each (status, code) got. fn gets the call's number.
func race(n, clients int, fn func(i int) (int, string)) map[string]int {
	var mu sync.Mutex
	counts := map[string]int{}
	next := atomic.Int64{}
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				status, code := fn(i)
				mu.Lock()
				counts[fmt.Sprintf("%d %s", status, code)]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return counts
}

// outcome is the status and, for an error, the code of an answer.
func outcome(t testing.TB, r response) (int, string) {
	if r.Status >= 400 {
		return r.Status, r.problem(t).Code
	}
	return r.Status, ""
}

// limitedAccount opens a liability account that must not go negative,
// funded with 100.00 from an asset account, and a sink to pay into.
func limitedAccount(b *bundle) (merchant, sink account) {
	cash := b.openAccount(b.pi, "cash:CNY", "CNY", "asset")
	merchant = b.openAccount(b.pi, "merchant:CNY", "CNY", "liability", "debits_must_not_exceed_credits")
	sink = b.openAccount(b.pi, "payout:CNY", "CNY", "liability")
	b.post(b.pi, "fund", transfer(cash.ID, merchant.ID, "100.00"))
	return merchant, sink
}

// TestNoOverspend: 500 debits of 1.00 from 32 clients against 100.00:
// exactly 100 pass, the rest are INSUFFICIENT_FUNDS, and 0.00 is left.
func TestNoOverspend(t *testing.T) {
	bothLedgerPaths(t, func(t *testing.T, b *bundle) {
		merchant, sink := limitedAccount(b)
		counts := race(500, 32, func(i int) (int, string) {
			return outcome(t, b.do(req{method: "POST", path: "/v1/entries", key: b.pi,
				body: transfer(merchant.ID, sink.ID, "1.00"), headers: []string{"Idempotency-Key", fmt.Sprintf("spend-%d", i)}}))
		})
		want := map[string]int{"201 ": 100, "422 INSUFFICIENT_FUNDS": 400}
		if fmt.Sprint(counts) != fmt.Sprint(want) {
			t.Fatalf("answers %v, want %v", counts, want)
		}
		if bal := b.balance(b.pi, merchant.ID); bal.Posted != "0.00" || bal.Available != "0.00" || bal.PostedDebits != "100.00" {
			t.Fatalf("merchant balance %+v", bal)
		}
		if bal := b.balance(b.pi, sink.ID); bal.Posted != "100.00" {
			t.Fatalf("payout balance %+v", bal)
		}
		var entries int
		if err := b.db.Get(&entries, `SELECT count(*) FROM entries WHERE idempotency_key LIKE 'spend-%'`); err != nil || entries != 100 {
			t.Fatalf("%d spend entries (%v), want 100", entries, err)
		}
	})
}

// TestNoOverspendWithHolds: 500 holds of 1.00 from 32 clients against
// 100.00: exactly 100 are taken and available is never seen below zero.
func TestNoOverspendWithHolds(t *testing.T) {
	bothLedgerPaths(t, func(t *testing.T, b *bundle) {
		merchant, sink := limitedAccount(b)

		// A watcher reads the balance all through the race.
		stop := make(chan struct{})
		var low atomic.Value
		var watcher sync.WaitGroup
		watcher.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				r := b.do(req{method: "GET", path: "/v1/accounts/" + merchant.ID + "/balance", key: b.pi})
				var bal balance
				r.into(t, &bal)
				if d, err := decimal.NewFromString(bal.Available); err != nil || d.IsNegative() {
					low.Store(bal.Available)
				}
			}
		})
		counts := race(500, 32, func(i int) (int, string) {
			return outcome(t, b.do(req{method: "POST", path: "/v1/holds", key: b.pi,
				body: transfer(merchant.ID, sink.ID, "1.00"), headers: []string{"Idempotency-Key", fmt.Sprintf("hold-%d", i)}}))
		})
		close(stop)
		watcher.Wait()
		want := map[string]int{"201 ": 100, "422 INSUFFICIENT_FUNDS": 400}
		if fmt.Sprint(counts) != fmt.Sprint(want) {
			t.Fatalf("answers %v, want %v", counts, want)
		}
		if v := low.Load(); v != nil {
			t.Fatalf("available seen at %v", v)
		}
		bal := b.balance(b.pi, merchant.ID)
		if bal.Posted != "100.00" || bal.Available != "0.00" || bal.PendingDebits != "100.00" {
			t.Fatalf("merchant balance %+v", bal)
		}
	})
}

// TestHoldResolvesOnce: a hold raced by posts and voids from many clients
// is resolved by exactly one; the others are told it is resolved, or, when
// they repeat the winner's request, get its replay.
func TestHoldResolvesOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	merchant, sink := limitedAccount(b)
	for _, keyed := range []bool{true, false} {
		t.Run(fmt.Sprintf("own keys %v", keyed), func(t *testing.T) {
			r := b.do(req{method: "POST", path: "/v1/holds", key: b.pi, body: transfer(merchant.ID, sink.ID, "10.00"),
				headers: []string{"Idempotency-Key", fmt.Sprintf("contested-%v", keyed)}})
			var h hold
			if r.Status != http.StatusCreated {
				t.Fatalf("hold: %d %s", r.Status, r.Body)
			}
			r.into(t, &h)
			var mu sync.Mutex
			wins := map[string]int{} // action → fresh successes
			replays := map[string]int{}
			counts := race(64, 32, func(i int) (int, string) {
				action := []string{"post", "void"}[i%2]
				rq := req{method: "POST", path: "/v1/holds/" + h.ID + "/" + action, key: b.pi}
				if keyed {
					rq.headers = []string{"Idempotency-Key", fmt.Sprintf("%s-%d", action, i)}
				}
				resp := b.do(rq)
				if resp.Status == http.StatusOK {
					mu.Lock()
					if resp.Header.Get("Idempotent-Replayed") == "true" {
						replays[action]++
					} else {
						wins[action]++
					}
					mu.Unlock()
				}
				return outcome(t, resp)
			})
			if len(wins) != 1 || wins["post"]+wins["void"] != 1 {
				t.Fatalf("fresh successes %v (answers %v), want exactly one", wins, counts)
			}
			winner := "post"
			if wins["void"] == 1 {
				winner = "void"
			}
			for action, n := range replays {
				if keyed || action != winner {
					t.Fatalf("%d replays of %s (winner %s, own keys %v)", n, action, winner, keyed)
				}
			}
			if counts["200 "]+counts["409 HOLD_ALREADY_RESOLVED"] != 64 {
				t.Fatalf("answers %v", counts)
			}
			r = b.do(req{method: "GET", path: "/v1/holds/" + h.ID, key: b.pi})
			if want := map[string]string{"post": "posted", "void": "voided"}[winner]; !strings.Contains(string(r.Body), `"status":"`+want+`"`) {
				t.Fatalf("hold after the race (winner %s): %s", winner, r.Body)
			}
			var resolutions int
			if err := b.db.Get(&resolutions, `SELECT count(*) FROM entries WHERE hold_id = $1 AND kind <> 'hold'`, h.ID); err != nil || resolutions != 1 {
				t.Fatalf("%d resolving entries (%v), want 1", resolutions, err)
			}
		})
	}
	// Whatever won, nothing is pending and the money adds up.
	bal := b.balance(b.pi, merchant.ID)
	if bal.PendingDebits != "0.00" || bal.Available != bal.Posted {
		t.Fatalf("merchant balance %+v", bal)
	}
}

// TestIdempotentConcurrentPosts: 50 requests with one key and body at once
// make one entry; all get its id, one 201 and 49 replays. The key with
// another body is a conflict.
func TestIdempotentConcurrentPosts(t *testing.T) {
	bothLedgerPaths(t, func(t *testing.T, b *bundle) {
		merchant, sink := limitedAccount(b)
		body := transfer(merchant.ID, sink.ID, "3.00")
		body["description"] = "one payout"
		var mu sync.Mutex
		ids := map[string]int{}
		counts := race(50, 50, func(int) (int, string) {
			r := b.do(req{method: "POST", path: "/v1/entries", key: b.pi, body: body, headers: []string{"Idempotency-Key", "payout-1"}})
			if r.Status < 300 {
				var e entry
				r.into(t, &e)
				mu.Lock()
				ids[e.ID]++
				mu.Unlock()
			}
			return outcome(t, r)
		})
		if counts["201 "] != 1 || counts["200 "] != 49 || len(ids) != 1 {
			t.Fatalf("answers %v, ids %v; want one 201, 49 200s and one id", counts, ids)
		}
		var n int
		if err := b.db.Get(&n, `SELECT count(*) FROM entries WHERE idempotency_key = 'payout-1'`); err != nil || n != 1 {
			t.Fatalf("%d entries (%v), want 1", n, err)
		}
		if bal := b.balance(b.pi, merchant.ID); bal.Posted != "97.00" {
			t.Fatalf("merchant balance %+v", bal)
		}
		other := transfer(merchant.ID, sink.ID, "4.00")
		wantProblem(t, b.do(req{method: "POST", path: "/v1/entries", key: b.pi, body: other, headers: []string{"Idempotency-Key", "payout-1"}}),
			http.StatusConflict, "IDEMPOTENCY_CONFLICT")
		// The key is the tenant's: another tenant may use it for its own entry.
		theirs := b.openAccount(b.piOther, "a:CNY", "CNY", "asset")
		theirs2 := b.openAccount(b.piOther, "b:CNY", "CNY", "liability")
		b.post(b.piOther, "payout-1", transfer(theirs.ID, theirs2.ID, "1.00"))
	})
}

// batchAnswer is the body of POST /v1/entries/batch, as far as these tests read it.
type batchAnswer struct {
	Results []struct {
		Status int    `json:"status"`
		Entry  *entry `json:"entry"`
		Error  *struct {
			Code string `json:"code"`
		} `json:"error"`
	} `json:"results"`
}

// TestNoOverspendThroughBatches: the overspend race through the batch
// endpoint. 10 clients each send 5 batches of 10 debits of 1.00 against
// 100.00 (500 in all): exactly 100 are taken, 0.00 is left.
func TestNoOverspendThroughBatches(t *testing.T) {
	bothLedgerPaths(t, func(t *testing.T, b *bundle) {
		merchant, sink := limitedAccount(b)
		var taken, refused atomic.Int64
		race(50, 10, func(i int) (int, string) {
			entries := make([]map[string]any, 10)
			for j := range entries {
				entries[j] = map[string]any{"idempotency_key": fmt.Sprintf("spend-%d-%d", i, j), "postings": transfer(merchant.ID, sink.ID, "1.00")["postings"]}
			}
			r := b.do(req{method: "POST", path: "/v1/entries/batch", key: b.pi, body: map[string]any{"entries": entries}})
			var out batchAnswer
			r.into(t, &out)
			for _, res := range out.Results {
				switch {
				case res.Status == http.StatusCreated:
					taken.Add(1)
				case res.Error != nil && res.Error.Code == "INSUFFICIENT_FUNDS":
					refused.Add(1)
				default:
					t.Errorf("batch item: %+v", res)
				}
			}
			return r.Status, ""
		})
		if taken.Load() != 100 || refused.Load() != 400 {
			t.Fatalf("%d taken and %d refused, want 100 and 400", taken.Load(), refused.Load())
		}
		if bal := b.balance(b.pi, merchant.ID); bal.Posted != "0.00" || bal.Available != "0.00" {
			t.Fatalf("merchant balance %+v", bal)
		}
	})
}

// TestIdempotentConcurrentBatches: 50 batches at once, each carrying the
// same key and entry among fresh ones: the key makes one entry, and every
// batch names it.
func TestIdempotentConcurrentBatches(t *testing.T) {
	bothLedgerPaths(t, func(t *testing.T, b *bundle) {
		merchant, sink := limitedAccount(b)
		var mu sync.Mutex
		ids := map[string]int{}
		race(50, 50, func(i int) (int, string) {
			r := b.do(req{method: "POST", path: "/v1/entries/batch", key: b.pi, body: map[string]any{"entries": []map[string]any{
				{"idempotency_key": fmt.Sprintf("own-%d", i), "postings": transfer(merchant.ID, sink.ID, "0.10")["postings"]},
				{"idempotency_key": "shared", "postings": transfer(merchant.ID, sink.ID, "3.00")["postings"]},
			}}})
			var out batchAnswer
			r.into(t, &out)
			if len(out.Results) != 2 || out.Results[1].Entry == nil {
				t.Errorf("batch %d: %s", i, r.Body)
				return r.Status, ""
			}
			mu.Lock()
			ids[out.Results[1].Entry.ID]++
			mu.Unlock()
			return r.Status, ""
		})
		if len(ids) != 1 {
			t.Fatalf("the shared key answered with %d entries: %v", len(ids), ids)
		}
		var n int
		if err := b.db.Get(&n, `SELECT count(*) FROM entries WHERE idempotency_key = 'shared'`); err != nil || n != 1 {
			t.Fatalf("%d entries for the shared key (%v), want 1", n, err)
		}
		// 100.00 − 3.00 once − 50 × 0.10
		if bal := b.balance(b.pi, merchant.ID); bal.Posted != "92.00" {
			t.Fatalf("merchant balance %+v, want 92.00", bal)
		}
	})
}
