package settlement

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/shopspring/decimal"

	"github.com/xbsettle/xbsettle/ledger"
)

// ChainRef names a trade chain: the platform's ebpCode and its orderNo.
type ChainRef struct {
	EbpCode string
	OrderNo string
}

// TradeChain is what settlement needs of a chain that is, or was, verified
// by the three-document clearance (DESIGN §5).
type TradeChain struct {
	ChainRef
	EbcCode          string // the seller, the enterprise that may be paid
	PayCode          string // the payment institution whose payment it is
	PayTransactionID string // import payTransactionId, export payNo
	Direction        string // import or export
	TradeMode        string
	Currency         ledger.Currency // of the payment
	Amount           decimal.Decimal // paid (import) or received (export), in Currency
	GoodsValue       decimal.Decimal
	Tax              decimal.Decimal
	DeclarationDate  *time.Time
	Verified         bool // false once it stopped being verified (mismatched, cancelled, returned)
}

// ChainSource finds trade chains. Clearance keeps them; settlement only
// reads. TradeChains is the implementation over PostgreSQL.
type ChainSource interface {
	// Chains returns the chains of refs that exist, verified or not, in
	// one call; a chain that does not exist is absent from the map.
	Chains(ctx context.Context, refs []ChainRef) (map[ChainRef]TradeChain, error)
}

// TradeChains reads the trade_chains table that clearance writes: one row
// per chain that is or was verified.
type TradeChains struct{ db *sqlx.DB }

// NewTradeChains returns the chain source over db.
func NewTradeChains(db *sqlx.DB) *TradeChains { return &TradeChains{db: db} }

// chainsSQL reads many chains by key in one statement; tenant_id is the
// chain's ebpCode, so the join filters on it.
const chainsSQL = `
SELECT t.tenant_id, t.order_no, t.ebc_code, t.pay_code, t.pay_transaction_id, t.direction, t.trade_mode,
	t.currency, t.amount, t.goods_value, t.tax, t.declaration_date, t.status = 'verified' AS verified
FROM trade_chains t
JOIN unnest($1::text[], $2::text[]) AS u(ebp, ord) ON t.tenant_id = u.ebp AND t.order_no = u.ord`

type chainRow struct {
	EbpCode          string          `db:"tenant_id"`
	OrderNo          string          `db:"order_no"`
	EbcCode          string          `db:"ebc_code"`
	PayCode          string          `db:"pay_code"`
	PayTransactionID string          `db:"pay_transaction_id"`
	Direction        string          `db:"direction"`
	TradeMode        string          `db:"trade_mode"`
	Currency         string          `db:"currency"`
	Amount           decimal.Decimal `db:"amount"`
	GoodsValue       decimal.Decimal `db:"goods_value"`
	Tax              decimal.Decimal `db:"tax"`
	DeclarationDate  *time.Time      `db:"declaration_date"`
	Verified         bool            `db:"verified"`
}

// Chains implements ChainSource.
func (c *TradeChains) Chains(ctx context.Context, refs []ChainRef) (map[ChainRef]TradeChain, error) {
	ebp, ord := make([]string, len(refs)), make([]string, len(refs))
	for i, r := range refs {
		ebp[i], ord[i] = r.EbpCode, r.OrderNo
	}
	var rows []chainRow
	if err := c.db.SelectContext(ctx, &rows, chainsSQL, pq.Array(ebp), pq.Array(ord)); err != nil {
		return nil, fmt.Errorf("read %d trade chains: %w", len(refs), err)
	}
	out := make(map[ChainRef]TradeChain, len(rows))
	for _, r := range rows {
		ref := ChainRef{EbpCode: r.EbpCode, OrderNo: r.OrderNo}
		out[ref] = TradeChain{ChainRef: ref, EbcCode: r.EbcCode, PayCode: r.PayCode, PayTransactionID: r.PayTransactionID,
			Direction: r.Direction, TradeMode: r.TradeMode, Currency: ledger.Currency(r.Currency), Amount: r.Amount,
			GoodsValue: r.GoodsValue, Tax: r.Tax, DeclarationDate: r.DeclarationDate, Verified: r.Verified}
	}
	return out, nil
}
