// Package demo is `xbsettle demo`: a day of Shenzhen cross-border trade,
// generated from a seed and driven through the public HTTP API as its
// users would drive it, then reported.
//
// The day (Generate) is a fixed cast of enterprises — platforms, overseas
// and Shenzhen sellers, carriers, payment institutions, a bank — and a few
// thousand parcels: imports through 9610 (direct purchase) and 1210
// (bonded), exports through 9610 and 9810 (overseas warehouse), paid in
// CNY, USD, EUR and JPY, with Chinese buyers whose resident ID numbers
// carry valid GB 11643 check digits. A few percent of the parcels carry a
// planted defect — a missing waybill, an amount mismatch, a payer who is
// not the buyer, an order over the single or the annual limit — and the
// day records each one, so a run can check that the rule naming it caught
// it. The same seed draws the same day.
//
// Run drives the day: the operator makes the API keys (in the database, as
// `xbsettle keys create` does), registers the enterprises and loads the FX
// board; the platforms, institutions and carriers post their documents;
// the platforms follow their chains' verdicts; the institutions settle
// their verified payments with FX quotes; the operator runs the cut-off;
// the FX bureau decides on the proposed categories and the bank asks for
// two credit assessments. Everything but the keys goes through the API.
// The Report tallies what came back.
package demo
