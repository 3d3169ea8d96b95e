package settlement

import (
	"context"
	"fmt"
	"time"
)

// Category is an enterprise's FX category (DESIGN §7): the FX bureau
// classifies enterprises by how their fund flows match their goods flows.
type Category string

// The three categories and what settlement does with each.
const (
	CategoryA Category = "A" // simplified: a verified chain that agrees with the item settles
	CategoryB Category = "B" // verified item by item: the amount must equal the customs value exactly
	CategoryC Category = "C" // registered case by case: the item is held for FX bureau registration
)

// CategoryPolicy answers the FX category in effect for an enterprise at an
// instant. The risk package implements it from the FX bureau's decisions
// (risk.Policy, wired by cmd/xbsettle); AllA is the default of a Service
// built without one.
type CategoryPolicy interface {
	CategoryOf(ctx context.Context, enterprise string, at time.Time) (Category, error)
}

// BatchCategoryPolicy is a CategoryPolicy that answers for many enterprises
// in one call. Verification uses it when the policy offers it, so an
// instruction of a thousand sellers costs one query, not a thousand.
type BatchCategoryPolicy interface {
	CategoryPolicy
	// CategoriesOf returns the category of every enterprise named.
	CategoriesOf(ctx context.Context, enterprises []string, at time.Time) (map[string]Category, error)
}

// categoriesOf asks p for the category of each enterprise at at, in one
// call when p can answer many.
func categoriesOf(ctx context.Context, p CategoryPolicy, enterprises []string, at time.Time) (map[string]Category, error) {
	if bp, ok := p.(BatchCategoryPolicy); ok {
		cats, err := bp.CategoriesOf(ctx, enterprises, at)
		if err != nil {
			return nil, fmt.Errorf("FX categories of %d enterprises: %w", len(enterprises), err)
		}
		return cats, nil
	}
	cats := make(map[string]Category, len(enterprises))
	for _, e := range enterprises {
		c, err := p.CategoryOf(ctx, e, at)
		if err != nil {
			return nil, fmt.Errorf("FX category of %s: %w", e, err)
		}
		cats[e] = c
	}
	return cats, nil
}

// AllA is the policy of a Service built without one: every enterprise is A.
type AllA struct{}

// CategoryOf implements CategoryPolicy.
func (AllA) CategoryOf(context.Context, string, time.Time) (Category, error) { return CategoryA, nil }

// customsAgreement is category B's rule: the fund flow equals the goods
// flow customs declared, to the cent. An export receives the declared goods
// value; an import pays the goods value plus the tax customs assessed, so a
// freight or discount outside the declaration does not pass. It returns the
// code when the chain does not agree.
func customsAgreement(it *Item, chain *TradeChain) string {
	want := chain.GoodsValue
	if chain.Direction == "import" {
		want = want.Add(chain.Tax)
	}
	if chain.DeclarationDate == nil || !it.Amount.Equal(want) {
		return CodeCustomsMismatch
	}
	return ""
}
