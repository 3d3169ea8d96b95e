package risk

import "context"

// EnterpriseProfile is an enterprise as the registry keeps it, with its FX
// category in effect now and its latest export-rebate class (nil for an
// enterprise without a tax profile).
type EnterpriseProfile struct {
	Enterprise
	InEffect InEffect
	TaxClass *TaxClassification
}

// Profile returns an enterprise's profile. Errors: ErrEnterpriseNotFound.
func (s *Service) Profile(ctx context.Context, code string) (EnterpriseProfile, error) {
	e, err := s.Enterprise(ctx, code)
	if err != nil {
		return EnterpriseProfile{}, err
	}
	p := EnterpriseProfile{Enterprise: e}
	if p.InEffect, err = s.CategoryAt(ctx, code, s.clock()); err != nil {
		return EnterpriseProfile{}, err
	}
	tcs, err := s.TaxClassHistory(ctx, code, 1)
	if err != nil {
		return EnterpriseProfile{}, err
	}
	if len(tcs) > 0 {
		p.TaxClass = &tcs[0]
	}
	return p, nil
}
