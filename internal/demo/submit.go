package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"time"
)

// waves is how many times a day each declarant sends what it has: every
// four hours, as the platforms' and carriers' customs software does.
const waves = 6

// docBatch is the most documents one POST /v1/documents/batch carries
// (the API takes up to 1,000; half keeps each request short).
const docBatch = 500

// submitDocuments has every declarant post its documents of the day
// through POST /v1/documents/batch with its own key: the platforms their
// orders and inventories, the institutions their payment records, the
// carriers their waybills. The day is sent in waves by document time; in a
// wave the declarants post at once, so documents of one chain arrive in
// any order, as they do in life.
func (r *run) submitDocuments(ctx context.Context) error {
	var docs []document
	for _, p := range r.day.Parcels {
		docs = append(docs, p.documents()...)
	}
	slices.SortStableFunc(docs, func(a, b document) int { return a.at.Compare(b.at) })
	r.prog.start("documents", len(docs))
	start := time.Date(r.day.Date.Year(), r.day.Date.Month(), r.day.Date.Day(), 0, 0, 0, 0, beijing)
	requests := 0
	for w := range waves {
		until := start.Add(time.Duration(w+1) * 24 * time.Hour / waves)
		n, _ := slices.BinarySearchFunc(docs, until, func(d document, t time.Time) int { return d.at.Compare(t) })
		if w == waves-1 {
			n = len(docs)
		}
		sent, err := r.sendWave(ctx, docs[:n])
		if err != nil {
			return err
		}
		requests += sent
		docs = docs[n:]
	}
	r.prog.finish(fmt.Sprintf("%s documents of %s parcels in %d requests", count(r.prog.total), count(len(r.day.Parcels)), requests))
	return nil
}

// sendWave posts one wave: each declarant's documents, in batches, the
// declarants in parallel. A carrier that speaks XML posts CEB messages
// (POST /v1/waybills, application/xml) instead. It answers how many
// requests it sent.
func (r *run) sendWave(ctx context.Context, docs []document) (int, error) {
	byParty := map[*Party][]document{}
	var order []*Party
	for _, d := range docs {
		if _, ok := byParty[d.by]; !ok {
			order = append(order, d.by)
		}
		byParty[d.by] = append(byParty[d.by], d)
	}
	type request struct {
		by  *Party
		n   int // documents
		req req
	}
	var requests []request
	for _, p := range order {
		all := byParty[p]
		if p.speaksXML {
			for _, msg := range cebMessages(p, all) {
				requests = append(requests, request{p, msg.n, req{key: r.keys[p.Code], method: http.MethodPost, path: "/v1/waybills", xml: msg.body}})
			}
			continue
		}
		for len(all) > 0 {
			n := min(docBatch, len(all))
			bodies := make([]json.RawMessage, n)
			for i, d := range all[:n] {
				bodies[i] = d.body
			}
			requests = append(requests, request{p, n, req{key: r.keys[p.Code], method: http.MethodPost, path: "/v1/documents/batch",
				body: map[string]any{"documents": bodies}}})
			all = all[n:]
		}
	}
	err := parallel(ctx, max(1, len(order)), requests, func(ctx context.Context, q request) error {
		if err := r.c.do(ctx, q.req, nil); err != nil {
			return fmt.Errorf("%s posts %d documents: %w", q.by.Name, q.n, err)
		}
		r.prog.add(q.n)
		return nil
	})
	return len(requests), err
}
