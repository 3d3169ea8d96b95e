package demo

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/xbsettle/xbsettle/ledger"
	"github.com/xbsettle/xbsettle/settlement"
)

// instructionSize is how many items an institution puts in one
// instruction (the API takes up to 1,000).
const instructionSize = 500

// fees are what each institution charges a seller per payment, in the
// currency it pays out; one charges nothing.
var fees = map[string]map[ledger.Currency]string{
	"4403169D3W": {"CNY": "2.00", "USD": "0.30", "EUR": "0.30", "JPY": "40"},
	"4401169E2K": {"CNY": "1.50", "USD": "0.20", "EUR": "0.20", "JPY": "30"},
}

// itemBody is one item of POST /v1/settlements.
type itemBody struct {
	EbpCode          string `json:"ebpCode"`
	OrderNo          string `json:"orderNo"`
	PayTransactionID string `json:"payTransactionId"`
	Enterprise       string `json:"enterprise"`
	Currency         string `json:"currency"`
	Amount           string `json:"amount"`
	PayoutCurrency   string `json:"payout_currency"`
	QuoteID          string `json:"quote_id,omitempty"`
	Fee              string `json:"fee,omitempty"`
}

// instructionView is the part of a settlement instruction the demo reads.
type instructionView struct {
	ID      string         `json:"id"`
	Summary map[string]int `json:"summary"`
	Items   []itemView     `json:"items"`
}

// itemView is one item of an instruction, as it stands.
type itemView struct {
	OrderNo        string          `json:"orderNo"`
	Enterprise     string          `json:"enterprise"`
	Currency       ledger.Currency `json:"currency"`
	Amount         string          `json:"amount"`
	PayoutCurrency ledger.Currency `json:"payout_currency"`
	Fee            string          `json:"fee"`
	Status         string          `json:"status"`
	Codes          []string        `json:"codes"`
	Route          *string         `json:"route"`
	Conversion     *struct {
		SpreadCNY *string `json:"spread_cny"`
	} `json:"conversion"`
	PayoutGross  *string `json:"payout_gross"`
	PayoutAmount *string `json:"payout_amount"`
	ValueDate    *string `json:"value_date"`
}

// batchView is a net settlement batch.
type batchView struct {
	Enterprise string          `json:"enterprise"`
	Currency   ledger.Currency `json:"currency"`
	ValueDate  string          `json:"value_date"`
	Status     string          `json:"status"`
	ItemCount  int             `json:"item_count"`
	Gross      string          `json:"gross"`
	Fees       string          `json:"fees"`
	Net        string          `json:"net"`
}

// settle has each payment institution settle the payments of its verified
// chains: items of up to instructionSize, each converting item naming a
// quote it took just before (购汇 for imports paid out in foreign
// currency, 结汇 for exports, none for cross-border RMB), then waits until
// the workers have put every item at rest.
func (r *run) settle(ctx context.Context) error {
	byInstitution := map[*Party][]*Parcel{}
	for _, p := range r.day.Parcels {
		if r.chains[p.OrderNo].Verdict == VerdictVerified {
			byInstitution[p.Institution] = append(byInstitution[p.Institution], p)
		}
	}
	total := 0
	for _, ps := range byInstitution {
		total += len(ps)
	}
	r.prog.start("settlement", total)
	type sent struct {
		by *Party
		id string
	}
	var ids []sent
	for _, inst := range r.day.cast.institutions {
		ps := byInstitution[inst]
		for n := 0; len(ps) > 0; n++ {
			chunk := ps[:min(instructionSize, len(ps))]
			ps = ps[len(chunk):]
			id, err := r.instruct(ctx, inst, n, chunk)
			if err != nil {
				return err
			}
			ids = append(ids, sent{inst, id})
		}
	}
	// Wait for every instruction to come to rest.
	r.instructions = r.instructions[:0]
	for _, s := range ids {
		err := await(ctx, 250*time.Millisecond, "instruction "+s.id, func(ctx context.Context) (bool, error) {
			var ins instructionView
			if err := r.c.do(ctx, req{key: r.keys[s.by.Code], method: http.MethodGet, path: "/v1/settlements/" + s.id}, &ins); err != nil {
				return false, err
			}
			if ins.Summary["accepted"]+ins.Summary["verified"]+ins.Summary["posted"] > 0 {
				return false, nil // items in flight
			}
			r.instructions = append(r.instructions, ins)
			r.prog.add(len(ins.Items))
			return true, nil
		})
		if err != nil {
			return err
		}
	}
	st := map[string]int{}
	for _, ins := range r.instructions {
		for _, it := range ins.Items {
			st[it.Status]++
		}
	}
	r.prog.finish(fmt.Sprintf("%d instructions: %s items batched, %s rejected, %s held", len(ids), count(st["batched"]),
		count(st["rejected"]), count(st["held"])))
	return nil
}

// instruct submits one instruction of the institution's and answers its id.
func (r *run) instruct(ctx context.Context, inst *Party, n int, ps []*Parcel) (string, error) {
	key := r.keys[inst.Code]
	quotes := map[string]string{} // pair/side → quote id
	items := make([]itemBody, len(ps))
	for i, p := range ps {
		it := itemBody{EbpCode: p.Platform.Code, OrderNo: p.OrderNo, PayTransactionID: p.PayRef, Enterprise: p.Seller.Code,
			Currency: string(p.Currency), Amount: p.amount(p.Paid), PayoutCurrency: string(p.PayoutCurrency),
			Fee: fees[inst.Code][p.PayoutCurrency]}
		if pair, side, ok := p.Conversion(); ok {
			q := pair + "/" + string(side)
			if quotes[q] == "" {
				var out struct {
					ID string `json:"id"`
				}
				if err := r.c.do(ctx, req{key: key, method: http.MethodPost, path: "/v1/fx/quotes",
					body: map[string]string{"pair": pair, "side": string(side)}}, &out); err != nil {
					return "", fmt.Errorf("%s asks a %s %s quote: %w", inst.Name, pair, side, err)
				}
				quotes[q] = out.ID
			}
			it.QuoteID = quotes[q]
		}
		items[i] = it
	}
	var out instructionView
	idem := fmt.Sprintf("demo-%s-%d-%s-%03d", r.day.Date.Format("20060102"), r.day.Seed, r.day.Tag, n)
	if err := r.c.do(ctx, req{key: key, method: http.MethodPost, path: "/v1/settlements", body: map[string]any{"items": items},
		headers: []string{"Idempotency-Key", idem}}, &out); err != nil {
		return "", fmt.Errorf("%s submits %d items: %w", inst.Name, len(items), err)
	}
	return out.ID, nil
}

// Conversion is the quote a parcel's settlement needs: an import paid out
// in foreign currency buys it (购汇), an export received in foreign
// currency sells it (结汇); cross-border RMB needs none.
func (p *Parcel) Conversion() (pair string, side settlement.Side, ok bool) {
	switch {
	case p.Currency == "CNY" && p.PayoutCurrency == "CNY":
		return "", "", false
	case p.Currency == "CNY":
		return string(p.PayoutCurrency) + "/CNY", settlement.CustomerBuysFX, true
	}
	return string(p.Currency) + "/CNY", settlement.CustomerSellsFX, true
}

// cutoff runs the cut-off of the value dates the items were batched on,
// as the operator does on demand (POST /v1/settlement-batches/cutoff, per
// institution), then reads back the batches and the items as they ended.
// A value date after today (the day was settled after today's cut-off
// time) cannot be cut off yet: its batches stay open for the scheduled
// cut-off, and the report says so.
func (r *run) cutoff(ctx context.Context) error {
	today := settlement.Today(r.cfg.Now()).Format(time.DateOnly)
	dates := map[string]map[string]bool{} // institution code → value dates
	for _, ins := range r.instructions {
		for _, it := range ins.Items {
			if it.ValueDate != nil {
				inst := r.institutionOf(it.OrderNo)
				if dates[inst] == nil {
					dates[inst] = map[string]bool{}
				}
				dates[inst][*it.ValueDate] = true
			}
		}
	}
	r.prog.start("cut-off", len(r.day.cast.institutions))
	r.batches = r.batches[:0]
	open := map[string]bool{}
	for _, inst := range r.day.cast.institutions {
		var ds []string
		for d := range dates[inst.Code] {
			ds = append(ds, d)
		}
		slices.Sort(ds)
		for _, d := range ds {
			if d > today {
				open[d] = true
				continue
			}
			if err := r.c.do(ctx, req{key: r.admin, method: http.MethodPost, path: "/v1/settlement-batches/cutoff?date=" + d,
				headers: []string{"X-Tenant-ID", inst.Code}}, nil); err != nil {
				return fmt.Errorf("cut-off of %s for %s: %w", d, inst.Name, err)
			}
		}
		for _, d := range ds {
			bs, err := list[batchView](ctx, r.c, r.keys[inst.Code], "/v1/settlement-batches?date="+d)
			if err != nil {
				return err
			}
			r.batches = append(r.batches, bs...)
		}
		r.prog.add(1)
	}
	for d := range open {
		r.openDates = append(r.openDates, d)
	}
	slices.Sort(r.openDates)
	// The items as they ended: settled by the cut-off.
	for i, ins := range r.instructions {
		inst := r.institutionOf(ins.Items[0].OrderNo)
		if err := r.c.do(ctx, req{key: r.keys[inst], method: http.MethodGet, path: "/v1/settlements/" + ins.ID}, &r.instructions[i]); err != nil {
			return err
		}
	}
	settled := 0
	for _, b := range r.batches {
		if b.Status == "settled" {
			settled++
		}
	}
	note := fmt.Sprintf("%d batches, %d paid out", len(r.batches), settled)
	if len(r.openDates) > 0 {
		note += fmt.Sprintf("; value dates %v close at their cut-off", r.openDates)
	}
	r.prog.finish(note)
	return nil
}

// institutionOf is the customs code of the institution that paid a parcel.
func (r *run) institutionOf(orderNo string) string {
	return r.parcel(orderNo).Institution.Code
}

// parcel finds a parcel by order number.
func (r *run) parcel(orderNo string) *Parcel {
	if r.byOrder == nil {
		r.byOrder = make(map[string]*Parcel, len(r.day.Parcels))
		for _, p := range r.day.Parcels {
			r.byOrder[p.OrderNo] = p
		}
	}
	return r.byOrder[orderNo]
}
