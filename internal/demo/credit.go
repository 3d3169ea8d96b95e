package demo

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/xbsettle/xbsettle/ledger"
	"github.com/xbsettle/xbsettle/risk"
)

// assessmentView is a credit assessment as the bank reads it.
type assessmentView struct {
	ID                  string             `json:"id"`
	Enterprise          string             `json:"enterprise"`
	Status              string             `json:"status"`
	Error               *string            `json:"error"`
	Score               *int               `json:"score"`
	Grade               *string            `json:"grade"`
	RecommendedLimitCNY *string            `json:"recommended_limit_cny"`
	Reasons             []risk.ScoreReason `json:"reasons"`
}

// assessed is how many sellers the bank assesses.
const assessed = 2

// consentDays is how long a seller lets the bank assess it.
const consentDays = 90

// assess is the bank's part: the two Shenzhen exporters that sold the most
// today grant the bank consent (POST /v1/enterprises/{id}/consents, with
// their own keys), and the bank asks for an assessment of each (POST
// /v1/credit-assessments) and waits for the scores.
func (r *run) assess(ctx context.Context) error {
	sellers := r.topExporters(assessed)
	r.prog.start("credit", 2*len(sellers))
	bank := r.day.cast.bank
	var ids []string
	for _, s := range sellers {
		body := map[string]string{"bank": bank.Code, "valid_until": r.cfg.Now().Add(consentDays * 24 * time.Hour).UTC().Format(time.RFC3339)}
		if err := r.c.do(ctx, req{key: r.keys[s.Code], method: http.MethodPost, path: "/v1/enterprises/" + s.Code + "/consents", body: body}, nil); err != nil {
			return fmt.Errorf("%s consents to %s: %w", s.Name, bank.Name, err)
		}
		var a assessmentView
		idem := fmt.Sprintf("demo-%s-%d-%s-%s", r.day.Date.Format("20060102"), r.day.Seed, r.day.Tag, s.Code)
		if err := r.c.do(ctx, req{key: r.keys[bank.Code], method: http.MethodPost, path: "/v1/credit-assessments",
			body: map[string]string{"enterprise": s.Code}, headers: []string{"Idempotency-Key", idem}}, &a); err != nil {
			return fmt.Errorf("%s assesses %s: %w", bank.Name, s.Name, err)
		}
		ids = append(ids, a.ID)
		r.prog.add(1)
	}
	r.assessments = r.assessments[:0]
	for _, id := range ids {
		err := await(ctx, 250*time.Millisecond, "credit assessment "+id, func(ctx context.Context) (bool, error) {
			var a assessmentView
			if err := r.c.do(ctx, req{key: r.keys[bank.Code], method: http.MethodGet, path: "/v1/credit-assessments/" + id}, &a); err != nil {
				return false, err
			}
			switch a.Status {
			case "failed":
				return false, fmt.Errorf("credit assessment of %s failed: %s", a.Enterprise, deref(a.Error))
			case "done":
				r.assessments = append(r.assessments, a)
				r.prog.add(1)
				return true, nil
			}
			return false, nil
		})
		if err != nil {
			return err
		}
	}
	var notes []string
	for _, a := range r.assessments {
		notes = append(notes, fmt.Sprintf("%s scored %d (%s)", a.Enterprise, deref(a.Score), deref(a.Grade)))
	}
	r.prog.finish(strings.Join(notes, ", "))
	return nil
}

// topExporters are the n Shenzhen exporters with the largest verified
// sales of the day, valued in CNY at the day's parity (ties by code).
func (r *run) topExporters(n int) []*Party {
	volume := map[*Party]decimal.Decimal{}
	for _, p := range r.day.Parcels {
		if p.Export && r.chains[p.OrderNo].Verdict == VerdictVerified {
			volume[p.Seller] = volume[p.Seller].Add(r.day.parityCNY(p.Currency, p.Paid))
		}
	}
	sellers := slices.Clone(r.day.cast.exportSellers)
	slices.SortFunc(sellers, func(a, b *Party) int {
		return cmp.Or(volume[b].Cmp(volume[a]), cmp.Compare(a.Code, b.Code))
	})
	return sellers[:min(n, len(sellers))]
}

// parityCNY values an amount in CNY at the day's central parity.
func (d *Day) parityCNY(cur ledger.Currency, amount decimal.Decimal) decimal.Decimal {
	for _, b := range d.Board {
		if b.Currency == string(cur) {
			return amount.Mul(b.Parity).Div(decimal.NewFromInt(int64(b.Unit)))
		}
	}
	return amount // CNY
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
