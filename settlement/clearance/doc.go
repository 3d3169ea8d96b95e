// Package clearance is the pure core of the three-document clearance
// (三单比对): the customs documents of a cross-border retail trade — order,
// payment, waybill and inventory declaration, import (CEB311/411/511/621) and
// export (CEB303/403/505/603) — their decoding from JSON and CEB XML, their
// validation at the edge, the matching of a chain's documents into a verdict,
// the retail import tax and the handling of buyers' ID numbers.
//
// It knows no database, HTTP or queue. The intended flow of the layers above:
//
//	doc, err := clearance.DecodeJSON(body, clearance.KindOrder) // or DecodeXML for a message
//	// err: *DecodeError (400, err.Code) or *ValidationError (422, field errors)
//	clearance.SealPersonalIDs(doc, key)                         // before storing or logging
//	// store the version; re-evaluate the chain (ebpCode, orderNo):
//	state := clearance.NewChainState(key)                       // or the same ordering in SQL, see Supersedes
//	state.Apply(doc)                                            // for each stored version
//	chain := state.Chain()
//	chain.Facts = clearance.Facts{Registry: …, BuyerYearTotal: …, Rates: …}
//	verdict := clearance.Match(chain)
//	receipts := verdict.Receipts()
//
// Money and quantities are decimal.Decimal throughout; docs/clearance.md
// describes the rules, the tax and the choices made.
package clearance
