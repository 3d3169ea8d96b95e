// Package jobs is what every periodic job (sealer, sweepers, outboxes) does
// with one item that fails: it counts the failure under the job's name,
// logs it with the item's id, and goes on with the rest. One bad hold,
// tenant or chain must never stop the others' work.
//
//	for _, h := range due {
//		if err := expire(ctx, h); err != nil {
//			jobs.Skip(ctx, jobs.HoldExpiry, h.ID.String(), err)
//		}
//	}
package jobs

import (
	"context"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Names of the periodic jobs, the job label of the failure counter.
const (
	Seal              = "ledger_seal"
	HoldExpiry        = "ledger_hold_expiry"
	ClearanceSweep    = "clearance_sweep"
	SettlementOutbox  = "settlement_outbox"
	AssessmentOutbox  = "risk_assessment_outbox"
	ClassificationRun = "risk_classification_outbox"
)

var failures = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "xbsettle_job_item_failures_total",
	Help: "Items a periodic job could not process and skipped, by job; the log names each item.",
}, []string{"job"})

// Collector exposes the failure counter, for the metrics registry.
func Collector() prometheus.Collector { return failures }

// Skip counts one item of job that failed and logs it with its id. The
// caller goes on with the job's other items; the item is tried again on
// the job's next run.
func Skip(ctx context.Context, job, item string, err error) {
	failures.WithLabelValues(job).Inc()
	slog.ErrorContext(ctx, "periodic job skipped a failing item", "job", job, "item", item, "err", err)
}

// Failures is how many items job has skipped in this process, for tests
// and the bench.
func Failures(job string) float64 {
	var m dto.Metric
	if err := failures.WithLabelValues(job).Write(&m); err != nil {
		return 0
	}
	return m.GetCounter().GetValue()
}
