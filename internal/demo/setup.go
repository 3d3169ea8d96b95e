package demo

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/xbsettle/xbsettle/api"
	"github.com/xbsettle/xbsettle/risk"
)

// setup is the operator's part: an API key for every party (made in the
// database, as `xbsettle keys create` does), then through the API the
// enterprises with their credit codes and registration dates, and today's
// FX board.
func (r *run) setup(ctx context.Context) error {
	parties := r.day.cast.all()
	r.prog.start("setup", len(parties)*2+len(r.day.Board))
	var err error
	if r.admin, err = r.key(ctx, api.RoleAdmin, ""); err != nil {
		return err
	}
	if r.bureau, err = r.key(ctx, api.RoleFXBureau, ""); err != nil {
		return err
	}
	if err := r.checkAPI(ctx); err != nil {
		return err
	}
	for _, p := range parties {
		if r.keys[p.Code], err = r.key(ctx, p.Role(), p.Code); err != nil {
			return err
		}
		r.prog.add(1)
	}
	earlier := 0
	for _, p := range parties {
		created, err := r.register(ctx, p)
		if err != nil {
			return err
		}
		if !created {
			earlier++
		}
		r.prog.add(1)
	}
	if err := r.loadBoard(ctx); err != nil {
		return err
	}
	r.prog.add(len(r.day.Board))
	r.prog.finish(fmt.Sprintf("%d enterprises (%d registered before), %d API keys, FX board of %s",
		len(parties), earlier, len(r.keyIDs), r.day.Date.AddDate(0, 0, 1).Format(time.DateOnly)))
	return nil
}

// checkAPI makes sure the API answers and knows the keys just made: an API
// that answers 401 runs on another database than the operator's.
func (r *run) checkAPI(ctx context.Context) error {
	if err := r.c.do(ctx, req{method: http.MethodGet, path: "/readyz"}, nil); err != nil {
		return fmt.Errorf("the API at %s is not ready: %w", r.c.base, err)
	}
	err := r.c.do(ctx, req{key: r.admin, method: http.MethodGet, path: "/v1/fx/rates?pair=USD/CNY"}, nil)
	switch {
	case err == nil, isCode(err, "FX_RATE_NOT_FOUND"):
		return nil
	case isCode(err, "UNAUTHENTICATED"):
		return fmt.Errorf("the API at %s does not know the keys made in this database: it runs on another one (check XBS_DATABASE_URL)", r.c.base)
	}
	return err
}

// enterpriseBody is POST /v1/enterprises.
type enterpriseBody struct {
	CustomsCode  string      `json:"customs_code"`
	Name         string      `json:"name"`
	Kind         string      `json:"kind"`
	USCC         string      `json:"unified_social_credit_code"`
	RegisteredAt string      `json:"registered_at"`
	TaxProfile   *taxProfile `json:"tax_profile,omitempty"`
}

// register registers one enterprise (admin). An enterprise registered
// before with other details (an earlier day counted its months from
// another date) keeps its first registration: the registry is the
// operator's record, and the day's trade does not depend on it.
func (r *run) register(ctx context.Context, p *Party) (created bool, err error) {
	body := enterpriseBody{CustomsCode: p.Code, Name: p.Name, Kind: p.Kind, USCC: p.USCC(),
		RegisteredAt: r.monthsBefore(p.Months).Format(time.DateOnly), TaxProfile: r.taxProfile(p)}
	status, err := r.c.call(ctx, req{key: r.admin, method: http.MethodPost, path: "/v1/enterprises", body: body}, nil)
	switch {
	case err == nil:
		// 201 registered now, 200 registered before with the same details.
		return status == http.StatusCreated, nil
	case isCode(err, risk.ErrEnterpriseExists.Code):
		return false, nil
	}
	return false, fmt.Errorf("register %s %s: %w", p.Code, p.Name, err)
}

// monthsBefore is the day's date n calendar months earlier.
func (r *run) monthsBefore(n int) time.Time { return r.day.Date.AddDate(0, -n, 0) }

// rateBody is one rate of POST /v1/fx/rates.
type rateBody struct {
	Pair   string `json:"pair"`
	Date   string `json:"date"`
	Unit   int    `json:"unit"`
	Parity string `json:"parity"`
	Buy    string `json:"buy"`
	Sell   string `json:"sell"`
	Source string `json:"source"`
}

// loadBoard loads today's board (admin): quotes lock today's rates, and the
// day's parcels are settled today.
func (r *run) loadBoard(ctx context.Context) error {
	var rates []rateBody
	today := r.day.Date.AddDate(0, 0, 1).Format(time.DateOnly)
	for _, b := range r.day.Board {
		rates = append(rates, rateBody{Pair: b.Currency + "/CNY", Date: today, Unit: b.Unit,
			Parity: b.Parity.StringFixed(4), Buy: b.Buy.StringFixed(4), Sell: b.Sell.StringFixed(4),
			Source: "CFETS central parity; Pearl River Commercial Bank board 09:30 (xbsettle demo)"})
	}
	if err := r.c.do(ctx, req{key: r.admin, method: http.MethodPost, path: "/v1/fx/rates", body: map[string]any{"rates": rates}}, nil); err != nil {
		return fmt.Errorf("load the FX board: %w", err)
	}
	return nil
}

// taxProfile is the tax_profile of POST /v1/enterprises.
type taxProfile struct {
	ExporterKind       string  `json:"exporter_kind"`
	TaxCreditRating    *string `json:"tax_credit_rating"`
	FirstRebateClaimOn string  `json:"first_rebate_claim_on,omitempty"`
	NetAssetsCNY       string  `json:"net_assets_cny"`
	RebatesCNY         string  `json:"rebates_cny"`
	RiskControlSystem  bool    `json:"risk_control_system"`
	CapacityMatched    bool    `json:"capacity_matched"`
}

// taxProfile is the exporter's tax record as the operator registers it;
// nil for the enterprises that claim no export rebates.
func (r *run) taxProfile(p *Party) *taxProfile {
	t := p.tax
	if t == nil {
		return nil
	}
	out := &taxProfile{ExporterKind: string(risk.Trader), TaxCreditRating: &t.rating, NetAssetsCNY: t.netAssets,
		RebatesCNY: t.rebates, RiskControlSystem: t.riskControl, CapacityMatched: t.capacity}
	if t.manufacturer {
		out.ExporterKind = string(risk.Manufacturer)
	}
	if t.claimMonths > 0 {
		out.FirstRebateClaimOn = r.monthsBefore(t.claimMonths).Format(time.DateOnly)
	}
	return out
}
