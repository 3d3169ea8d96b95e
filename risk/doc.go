// Package risk is the pure core of enterprise risk (DESIGN §7): the unified
// social credit code, the FX bureau's A/B/C category, the export-rebate tax
// class and the credit scorecard. It knows no database, HTTP or queue; the
// layers above feed it plain values and store what it returns.
//
//   - ValidateUSCC checks a unified social credit code (GB 32100-2015).
//   - Classify proposes an FX category from a review period's figures under
//     a versioned threshold table (LoadThresholds, thresholds/*.yaml), with
//     reason codes that carry each figure and threshold.
//   - TaxClass gives the export-rebate class 1-4 and its processing target.
//   - ComputeFeatures (or a streaming FeatureBuilder) turns an enterprise's
//     chain and fund-flow facts into Features over 3, 6 and 12 months in one
//     O(n) pass; a versioned Scorecard (LoadScorecard, models/*.json) turns
//     them into a score, grade, credit limit and top reasons, with the
//     model's version and the hash of the features scored.
//
// The intended flow of the layers above:
//
//	// enterprise registration (API)
//	err := risk.ValidateUSCC(risk.NormalizeUSCC(body.USCC)) // VALIDATION_FAILED
//
//	// monthly or on-demand classification (worker)
//	th, err := risk.LoadThresholds(risk.CurrentThresholdsVersion)
//	p, err := risk.Classify(inputFromStore, th) // store p for the review queue
//
//	// credit assessment (worker)
//	b, err := risk.NewFeatureBuilder(risk.Subject{AsOf: …, RegisteredAt: …, FXCategory: …, TaxClass: …})
//	for rows.Next() { err = b.AddChain(fact) } // stream; then b.AddFund(…) likewise
//	f := b.Features()
//	model, err := risk.LoadScorecard(risk.CurrentScorecardVersion)
//	a := model.Score(f) // store a and f.Canonical(); a.InputHash = f.Hash()
//
// Every function is deterministic: money is decimal, sums are exact
// integers, ratios are rounded half-up at a fixed scale, and results never
// depend on the order of their inputs. docs/risk.md describes the rules,
// the features, the scorecard and a worked example.
package risk
