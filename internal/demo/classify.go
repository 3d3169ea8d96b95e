package demo

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/xbsettle/xbsettle/risk"
)

// proposalView is a proposed FX category in the bureau's queue.
type proposalView struct {
	ID          string        `json:"id"`
	Enterprise  string        `json:"enterprise"`
	Status      string        `json:"status"`
	Category    string        `json:"category"`
	Reasons     []risk.Reason `json:"reasons"`
	PeriodStart time.Time     `json:"period_start"`
	PeriodEnd   time.Time     `json:"period_end"`
}

// decisionView is the bureau's decision on a proposal.
type decisionView struct {
	Enterprise       string `json:"enterprise"`
	Action           string `json:"action"`
	Category         string `json:"category"`
	ProposedCategory string `json:"proposed_category"`
	Reason           string `json:"reason"`
}

// classify is the FX bureau's review of the day: it runs the classification
// of the day's sellers and platforms over the day and its settlement (POST
// /v1/classifications/run), waits for the workers, reads its review queue
// and decides: it approves every proposal but one, which it overrides with
// a reason (see override).
func (r *run) classify(ctx context.Context) error {
	var codes []string
	for _, p := range r.day.cast.all() {
		if p.Kind == risk.KindSeller || p.Kind == risk.KindPlatform {
			codes = append(codes, p.Code)
		}
	}
	r.prog.start("FX review", len(codes)+1)
	var started risk.Run
	// The period is the day and the day of its settlement (the end is
	// excluded): the goods flows are the day's verified chains, matched
	// today, and the fund flows their settlement, posted today.
	body := map[string]any{"period_start": r.day.Date.Format(time.DateOnly),
		"period_end": r.day.Date.AddDate(0, 0, 2).Format(time.DateOnly), "enterprises": codes}
	if err := r.c.do(ctx, req{key: r.bureau, method: http.MethodPost, path: "/v1/classifications/run", body: body}, &started); err != nil {
		return fmt.Errorf("start the classification run: %w", err)
	}
	if err := r.awaitRun(ctx, started.ID.String()); err != nil {
		return err
	}
	r.prog.add(1)
	// The queue holds the pending proposals of every enterprise and
	// period; the bureau here decides the day's. A proposal an earlier run
	// made the same is kept rather than repeated, so they are found by
	// enterprise and period, not by run.
	queue, err := list[proposalView](ctx, r.c, r.bureau, "/v1/classifications/queue?status=pending")
	if err != nil {
		return err
	}
	r.proposals = slices.DeleteFunc(queue, func(p proposalView) bool {
		return !slices.Contains(codes, p.Enterprise) || !p.PeriodStart.Equal(started.PeriodStart) || !p.PeriodEnd.Equal(started.PeriodEnd)
	})
	slices.SortFunc(r.proposals, func(a, b proposalView) int { return strings.Compare(a.Enterprise, b.Enterprise) })
	over := r.override()
	r.decisions = r.decisions[:0]
	for i, p := range r.proposals {
		in := map[string]string{"action": "approve"}
		if i == over {
			in = map[string]string{"action": "override", "category": r.overrideTo(p), "reason": r.overrideReason(p)}
		}
		var d decisionView
		if err := r.c.do(ctx, req{key: r.bureau, method: http.MethodPost, path: "/v1/classifications/" + p.ID + "/decision", body: in}, &d); err != nil {
			return fmt.Errorf("decide on %s's proposal: %w", p.Enterprise, err)
		}
		r.decisions = append(r.decisions, d)
		r.prog.add(1)
	}
	byCat := map[string]int{}
	for _, p := range r.proposals {
		byCat[p.Category]++
	}
	r.prog.finish(fmt.Sprintf("%d proposals (%s), %d decided", len(r.proposals), joinCounts(byCat, []string{"A", "B", "C"}), len(r.decisions)))
	return nil
}

// awaitRun waits for a classification run to be done.
func (r *run) awaitRun(ctx context.Context, id string) error {
	return await(ctx, 250*time.Millisecond, "classification run "+id, func(ctx context.Context) (bool, error) {
		var run risk.Run
		if err := r.c.do(ctx, req{key: r.bureau, method: http.MethodGet, path: "/v1/classifications/runs/" + id}, &run); err != nil {
			return false, err
		}
		if run.Status == "done" && run.Failures > 0 {
			return false, fmt.Errorf("classification run %s: %d enterprises could not be classified: %s", id, run.Failures, run.LastError)
		}
		return run.Status == "done", nil
	})
}

// override picks the proposal the bureau overrides: the first that is not
// A (staff look hardest at those), else the youngest seller's, whose
// guidance period the bureau chooses not to extend. -1: none to decide.
func (r *run) override() int {
	if len(r.proposals) == 0 {
		return -1
	}
	for i, p := range r.proposals {
		if p.Category != string(risk.CategoryA) {
			return i
		}
	}
	young, months := 0, 1<<30
	for i, p := range r.proposals {
		if party := r.day.cast.byCode(p.Enterprise); party.Kind == risk.KindSeller && party.Months < months {
			young, months = i, party.Months
		}
	}
	return young
}

// overrideTo is the category the bureau sets instead of the proposal's.
func (r *run) overrideTo(p proposalView) string {
	if p.Category == string(risk.CategoryA) {
		return string(risk.CategoryB)
	}
	return string(risk.CategoryA)
}

// overrideReason is the bureau's written reason, naming what it weighed:
// the rules the proposal cites and the chains behind them.
func (r *run) overrideReason(p proposalView) string {
	if p.Category == string(risk.CategoryA) {
		return "New enterprise: the bureau verifies its payments item by item until its first annual review, " +
			"whatever the guidance period would allow."
	}
	var cited []string
	for _, reason := range p.Reasons {
		if !reason.Waived && reason.Category != "" && reason.Category != risk.CategoryA {
			cited = append(cited, fmt.Sprintf("%s %s %s %s", reason.Code, reason.Value, reason.Op, reason.Threshold))
		}
	}
	chains, unverified, failed := 0, 0, map[string]int{}
	for _, parcel := range r.day.Parcels {
		if parcel.Seller.Code != p.Enterprise && parcel.Platform.Code != p.Enterprise {
			continue
		}
		chains++
		if v := r.chains[parcel.OrderNo]; v.Verdict != VerdictVerified {
			unverified++
			for _, code := range v.rules() {
				failed[code]++
			}
		}
	}
	return fmt.Sprintf("Reviewed %s: of its %d chains of the day, %d did not verify (%s), each a buyer's, carrier's or "+
		"payment institution's document error the parties are correcting; its fund flows agree with its goods flows. "+
		"Category A confirmed.", strings.Join(cited, "; "), chains, unverified, joinCounts(failed, nil))
}
