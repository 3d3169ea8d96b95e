// Package settlement settles the payments of verified trade chains (DESIGN §6).
//
// This part is its FX core, with no HTTP or Redis:
//
//   - rates (rates*.go): central parity, buy and sell rates per currency pair
//     and date, quoted as CNY per 1 or per 100 units of the foreign currency,
//     loaded by an operator and kept as history (a later load supersedes,
//     never overwrites);
//   - quotes (quote*.go): a rate locked for one payment institution until it
//     expires (60 s by default);
//   - conversion (fx_convert.go): Convert, the one function that turns an
//     amount into another currency, rounding half-up once at the end, and
//     records how; SpreadCNY, the spread against parity that is income;
//   - accounts (accounts.go): the per-tenant settlement chart (reserve,
//     buyer funds, merchant payable, FX position, fee and spread income,
//     payout clearing), created on first use;
//   - the settlement entry (fx_entry.go): BuildEntry, a pure function from a
//     conversion and the resolved accounts to a ledger entry balanced per
//     currency through the FX position accounts (DESIGN §4).
//
// A typical import (购汇) item:
//
//	q, err := fx.QuoteFor(ctx, tenant, quoteID, time.Now())      // QUOTE_EXPIRED, QUOTE_NOT_FOUND
//	c, err := settlement.Convert(usdPrice, "USD", "CNY", q.Quotation) // what the buyer pays for a USD price
//	t := settlement.Transfer{Flow: settlement.FlowImport, Enterprise: ebc, Conversion: &c}
//	refs, err := t.Accounts()
//	set, err := accounts.Resolve(ctx, actor, refs...)
//	req, err := settlement.BuildEntry(key, t, set)
//	entry, replayed, err := ledgerSvc.Post(ctx, actor, req)
//
// docs/fx.md describes the rate model, the sides, the rounding, the account
// chart and the postings of each flow with worked examples.
package settlement
