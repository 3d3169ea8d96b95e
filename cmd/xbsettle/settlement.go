package main

import (
	"fmt"

	"github.com/hibiken/asynq"
	"github.com/jmoiron/sqlx"

	"github.com/xbsettle/xbsettle/internal/config"
	"github.com/xbsettle/xbsettle/ledger"
	"github.com/xbsettle/xbsettle/risk"
	"github.com/xbsettle/xbsettle/settlement"
)

// newSettlement builds the FX desk and the settlement service over d and
// led: instructions reach the workers through client, batches close at the
// configured cut-off (XBS_CUTOFF), and items are judged by the FX category
// in effect (policy: risk's decisions).
func newSettlement(d *sqlx.DB, led *ledger.Service, client *asynq.Client, cfg config.Config, policy settlement.CategoryPolicy) (*settlement.FX, *settlement.Service, error) {
	fx, err := settlement.NewFX(d)
	if err != nil {
		return nil, nil, err
	}
	cut, err := settlement.ParseCutoff(cfg.Cutoff)
	if err != nil {
		return nil, nil, fmt.Errorf("XBS_CUTOFF: %w", err)
	}
	svc := settlement.NewService(d, led, fx, settlement.WithEnqueuer(settlement.NewTaskEnqueuer(client)), settlement.WithCutoff(cut),
		settlement.WithCategoryPolicy(policy))
	return fx, svc, nil
}

// newRisk builds the risk service over d: assessments and classification
// runs reach the workers through client.
func newRisk(d *sqlx.DB, client *asynq.Client) (*risk.Service, error) {
	return risk.NewService(d, risk.WithEnqueuer(risk.NewTaskEnqueuer(client)))
}
