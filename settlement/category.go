package settlement

import (
	"context"
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
// instant. The risk package will implement it from its classifications;
// until then every enterprise is A (AllA).
type CategoryPolicy interface {
	CategoryOf(ctx context.Context, enterprise string, at time.Time) (Category, error)
}

// AllA is the policy before classifications exist: every enterprise is A.
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
