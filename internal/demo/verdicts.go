package demo

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// chainView is the part of GET /v1/chains/{ebpCode}/{orderNo} the demo
// reads.
type chainView struct {
	Verdict     string     `json:"verdict"`
	Pending     bool       `json:"pending"`
	State       string     `json:"state"`
	Missing     []string   `json:"missing"`
	FailedRules []ruleView `json:"failed_rules"`
	Warnings    []ruleView `json:"warnings"`
}

// ruleView is one failed rule (or warning) of a verdict.
type ruleView struct {
	Code     string `json:"code"`
	Document string `json:"document"`
	Field    string `json:"field"`
	Expected string `json:"expected"`
	Actual   string `json:"actual"`
}

// rules lists the chain's failed rule codes, once each, and WAYBILL_MISSING
// and the like for the documents it lacks.
func (v *chainView) rules() []string {
	var out []string
	for _, f := range v.FailedRules {
		if !slices.Contains(out, f.Code) {
			out = append(out, f.Code)
		}
	}
	for _, m := range v.Missing {
		out = append(out, m+"_MISSING")
	}
	return out
}

// pollers is how many chains are read at once.
const pollers = 16

// awaitVerdicts has the platforms follow their chains (GET
// /v1/chains/{ebpCode}/{orderNo} with their own keys) until the workers
// have matched every document they sent: the chain is no longer pending,
// and it lacks only the documents that were never sent.
func (r *run) awaitVerdicts(ctx context.Context) error {
	r.chains = make(map[string]*chainView, len(r.day.Parcels))
	waiting := slices.Clone(r.day.Parcels)
	r.prog.start("matching", len(waiting))
	err := await(ctx, 500*time.Millisecond, "matching", func(ctx context.Context) (bool, error) {
		found := make([]*chainView, len(waiting))
		idx := make([]int, len(waiting))
		for i := range idx {
			idx[i] = i
		}
		err := parallel(ctx, pollers, idx, func(ctx context.Context, i int) error {
			p := waiting[i]
			path := "/v1/chains/" + url.PathEscape(p.Platform.Code) + "/" + url.PathEscape(p.OrderNo)
			found[i] = &chainView{}
			return r.c.do(ctx, req{key: r.keys[p.Platform.Code], method: http.MethodGet, path: path}, found[i])
		})
		if err != nil {
			return false, err
		}
		var next []*Parcel
		for i, p := range waiting {
			if v := found[i]; settled(p, v) {
				r.chains[p.OrderNo] = v
			} else {
				next = append(next, p)
			}
		}
		r.prog.set(len(r.chains))
		waiting = next
		return len(waiting) == 0, nil
	})
	if err != nil {
		if len(waiting) > 0 {
			err = fmt.Errorf("%w: %d chains, such as %s/%s", err, len(waiting), waiting[0].Platform.Code, waiting[0].OrderNo)
		}
		return err
	}
	byVerdict := map[string]int{}
	for _, v := range r.chains {
		byVerdict[v.Verdict]++
	}
	r.prog.finish(fmt.Sprintf("%s verified, %s mismatched, %s incomplete", count(byVerdict[VerdictVerified]),
		count(byVerdict[VerdictMismatched]), count(byVerdict[VerdictIncomplete])))
	return nil
}

// settled reports whether the chain's verdict covers every document the
// parcel sent: matched, and lacking only what was never sent.
func settled(p *Parcel, v *chainView) bool {
	if v.Pending || v.Verdict == "" {
		return false
	}
	want := ""
	if p.Defect == DefectMissingWaybill {
		want = "WAYBILL"
	}
	return strings.Join(v.Missing, ",") == want
}
