package clearance

import (
	"context"
	"fmt"
	"time"

	"github.com/lib/pq"
)

// Enterprise is a registered enterprise, named by its customs registration
// code (the code documents carry as ebpCode, ebcCode, payCode, logisticsCode).
type Enterprise struct {
	CustomsCode string `db:"customs_code"`
	Name        string `db:"name"`
	// Kind is seller, platform, carrier, payment_institution or bank.
	Kind string `db:"kind"`
	// USCC is the 18-character unified social credit code, when known.
	USCC      *string   `db:"unified_social_credit_code"`
	CreatedAt time.Time `db:"created_at"`
}

// registerSQL adds enterprises in one statement; one already registered is
// left as it is, so registering is idempotent.
const registerSQL = `
INSERT INTO enterprises (customs_code, name, kind, unified_social_credit_code)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])
ON CONFLICT (customs_code) DO NOTHING`

// RegisterEnterprises adds enterprises to the registry that rule PARTIES
// consults. The admin API for it comes with the risk issue; until then tests
// and operators call this.
func (s *Service) RegisterEnterprises(ctx context.Context, es []Enterprise) error {
	codes, names, kinds := make([]string, len(es)), make([]string, len(es)), make([]string, len(es))
	usccs := make([]*string, len(es))
	for i, e := range es {
		codes[i], names[i], kinds[i], usccs[i] = e.CustomsCode, e.Name, e.Kind, e.USCC
	}
	if _, err := s.db.ExecContext(ctx, registerSQL, pq.Array(codes), pq.Array(names), pq.Array(kinds), pq.Array(usccs)); err != nil {
		return fmt.Errorf("register %d enterprises: %w", len(es), err)
	}
	return nil
}

// registryOf returns which of codes are registered, as a Registry, in one query.
func registryOf(ctx context.Context, q querier, codes []string) (EnterpriseSet, error) {
	var found []string
	if err := q.SelectContext(ctx, &found, `SELECT customs_code FROM enterprises WHERE customs_code = ANY($1)`, pq.Array(codes)); err != nil {
		return nil, fmt.Errorf("look up %d enterprises: %w", len(codes), err)
	}
	set := make(EnterpriseSet, len(found))
	for _, c := range found {
		set[c] = true
	}
	return set, nil
}
