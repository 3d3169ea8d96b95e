package settlement

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/xbsettle/xbsettle/ledger"
)

const (
	importer = "91440300MA5IMPORT" // the foreign merchant paid on import
	exporter = "4403960001"        // the domestic seller paid on export and by CIPS
)

// convert is Convert that fails the test on error.
func convert(t testing.TB, amount string, from, to ledger.Currency, q Quotation) *Conversion {
	t.Helper()
	c, err := Convert(dec(amount), from, to, q)
	if err != nil {
		t.Fatal(err)
	}
	return &c
}

// fakeSet resolves references to made-up accounts, for the pure tests.
func fakeSet(t testing.TB, tr Transfer) AccountSet {
	t.Helper()
	refs, err := tr.Accounts()
	if err != nil {
		t.Fatal(err)
	}
	set := AccountSet{}
	for _, r := range refs {
		set[r.Code()] = ledger.Account{ID: uuid.NewSHA1(uuid.NameSpaceOID, []byte(r.Code())), Code: r.Code(), Currency: r.Currency, Kind: r.Kind()}
	}
	return set
}

// lines renders postings as "Dr code amount", in order.
func lines(set AccountSet, ps []ledger.PostingRequest) []string {
	code := map[uuid.UUID]string{}
	for c, a := range set {
		code[a.ID] = c
	}
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = fmt.Sprintf("%s %s %s", map[ledger.Direction]string{ledger.Debit: "Dr", ledger.Credit: "Cr"}[p.Direction], code[p.AccountID], p.Currency.Format(p.Amount))
	}
	return out
}

// TestBuildEntryPostings checks each flow's postings against DESIGN §4, with
// the figures of TestConvertTable.
func TestBuildEntryPostings(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		tr   Transfer
		want []string
	}{
		{"import 购汇 with a fee", Transfer{Flow: FlowImport, Enterprise: importer, Fee: dec("100"),
			// C 600.12, F 12345, P 598.19, S 1.93
			Conversion: convert(t, "12345", "JPY", "CNY", quotation("JPY", CustomerBuysFX))}, []string{
			"Dr buyer_funds:CNY 600.12", "Cr fx_position:CNY 598.19", "Dr fx_position:JPY 12345",
			"Cr fx_spread_income:CNY 1.93", "Cr merchant:91440300MA5IMPORT:JPY 12245", "Cr fee_income:JPY 100"}},
		{"export 结汇 with a fee", Transfer{Flow: FlowExport, Enterprise: exporter, Fee: dec("10.00"),
			// F 1234.56, C 8766.86, P 8794.26, S 27.40; the seller gets 8766.86 − 10.00
			Conversion: convert(t, "1234.56", "USD", "CNY", quotation("USD", CustomerSellsFX))}, []string{
			"Dr buyer_funds:USD 1234.56", "Cr fx_position:USD 1234.56", "Dr fx_position:CNY 8794.26",
			"Cr fx_spread_income:CNY 27.40", "Cr merchant:4403960001:CNY 8756.86", "Cr fee_income:CNY 10.00"}},
		{"cross-border RMB", Transfer{Flow: FlowCIPS, Enterprise: exporter, Amount: dec("5000.00"), Fee: dec("5.00")}, []string{
			"Dr buyer_funds:CNY 5000.00", "Cr merchant:4403960001:CNY 4995.00", "Cr fee_income:CNY 5.00"}},
		{"no fee, no spread: zero legs are left out", Transfer{Flow: FlowExport, Enterprise: exporter,
			// 14.245 → 14.25 at buy 7.1225, 14.2468 → 14.25 at parity: S 0
			Conversion: convert(t, "2.00", "USD", "CNY", quoteOf("USD", CustomerSellsFX, "7.1225", "7.1234", 1))}, []string{
			"Dr buyer_funds:USD 2.00", "Cr fx_position:USD 2.00", "Dr fx_position:CNY 14.25", "Cr merchant:4403960001:CNY 14.25"}},
		{"a negative spread is a debit to spread income", Transfer{Flow: FlowImport, Enterprise: importer,
			// C 0.60 buys 12.5 → 13 JPY worth 0.62 at parity: S −0.02
			Conversion: convert(t, "0.60", "CNY", "JPY", quoteOf("JPY", CustomerBuysFX, "4.8000", "4.7800", 100))}, []string{
			"Dr buyer_funds:CNY 0.60", "Cr fx_position:CNY 0.62", "Dr fx_position:JPY 13",
			"Dr fx_spread_income:CNY 0.02", "Cr merchant:91440300MA5IMPORT:JPY 13"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			set := fakeSet(t, tc.tr)
			req, err := BuildEntry("k", tc.tr, set)
			if err != nil {
				t.Fatal(err)
			}
			if got := lines(set, req.Postings); strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Fatalf("postings\n got %q\nwant %q", got, tc.want)
			}
			if err := assertBalanced(req.Postings); err != nil {
				t.Fatal(err)
			}
			if req.IdempotencyKey != "k" || !strings.Contains(string(req.Metadata), `"flow":"`+string(tc.tr.Flow)+`"`) {
				t.Fatalf("key %q, metadata %s", req.IdempotencyKey, req.Metadata)
			}
		})
	}
}

func TestBuildEntryRefusals(t *testing.T) {
	t.Parallel()
	imp := convert(t, "12345", "JPY", "CNY", quotation("JPY", CustomerBuysFX))
	exp := convert(t, "1234.56", "USD", "CNY", quotation("USD", CustomerSellsFX))
	good := Transfer{Flow: FlowImport, Enterprise: importer, Conversion: imp}
	goodSet := fakeSet(t, good)
	wrongCur := fakeSet(t, good)
	wrongCur["fx_position:JPY"] = ledger.Account{ID: uuid.New(), Currency: "USD"}
	missing := fakeSet(t, good)
	delete(missing, "fx_spread_income:CNY")
	cases := []struct {
		name string
		key  string
		tr   Transfer
		set  AccountSet
		want error
	}{
		{"import at the buy rate", "k", Transfer{Flow: FlowImport, Enterprise: importer, Conversion: exp}, goodSet, ErrFlowMismatch},
		{"export at the sell rate", "k", Transfer{Flow: FlowExport, Enterprise: exporter, Conversion: imp}, goodSet, ErrFlowMismatch},
		{"import without a conversion", "k", Transfer{Flow: FlowImport, Enterprise: importer, Amount: dec("1.00")}, goodSet, ErrFlowMismatch},
		{"import with an amount too", "k", Transfer{Flow: FlowImport, Enterprise: importer, Conversion: imp, Amount: dec("1.00")}, goodSet, ErrFlowMismatch},
		{"CIPS with a conversion", "k", Transfer{Flow: FlowCIPS, Enterprise: exporter, Conversion: imp}, goodSet, ErrFlowMismatch},
		{"unknown flow", "k", Transfer{Flow: "swap", Enterprise: importer, Conversion: imp}, goodSet, ErrFlowMismatch},
		{"CIPS of nothing", "k", Transfer{Flow: FlowCIPS, Enterprise: exporter}, goodSet, ErrAmountInvalid},
		{"fee equal to the amount", "k", Transfer{Flow: FlowImport, Enterprise: importer, Conversion: imp, Fee: dec("12345")}, goodSet, ErrFeeTooLarge},
		{"fee finer than the currency", "k", Transfer{Flow: FlowCIPS, Enterprise: exporter, Amount: dec("10.00"), Fee: dec("0.001")}, goodSet, ErrAmountInvalid},
		{"negative fee", "k", Transfer{Flow: FlowCIPS, Enterprise: exporter, Amount: dec("10.00"), Fee: dec("-1")}, goodSet, ErrAmountInvalid},
		{"lower-case enterprise", "k", Transfer{Flow: FlowImport, Enterprise: "acme", Conversion: imp}, goodSet, ErrAccountCode},
		{"no enterprise", "k", Transfer{Flow: FlowImport, Conversion: imp}, goodSet, ErrAccountCode},
		{"account not resolved", "k", good, missing, ledger.ErrAccountNotFound},
		{"account in another currency", "k", good, wrongCur, ledger.ErrCurrencyMismatch},
		{"no key", "", good, goodSet, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req, err := BuildEntry(tc.key, tc.tr, tc.set)
			if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Fatalf("BuildEntry = %v, %v; want %v", req.Postings, err, tc.want)
			}
		})
	}
}

// TestSettlementEntriesOnLedger posts import, export and CIPS settlements,
// priced by quotes, on the real ledger and checks every balance against
// figures worked by hand.
func TestSettlementEntriesOnLedger(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.loadRates(boardRate("USD", "2026-03-16"), boardRate("JPY", "2026-03-16"))

	// Buyers' funds arrive first: the reserve grows, and so does what is owed to them.
	b.collect("CNY", "10000.00")
	b.collect("USD", "5000.00")

	keys := map[string]Transfer{
		// 12345 JPY cost 600.12 CNY (parity 598.19, spread 1.93); fee 100 JPY.
		"import-jpy": {Flow: FlowImport, Enterprise: importer, Fee: dec("100"), Conversion: b.convertQuoted("12345", "JPY", "CNY", "JPY", CustomerBuysFX)},
		// 1000.00 CNY buys 139.95 USD (parity value 996.92, spread 3.08); fee 1.00 USD.
		"import-usd": {Flow: FlowImport, Enterprise: importer, Fee: dec("1.00"), Conversion: b.convertQuoted("1000.00", "CNY", "USD", "USD", CustomerBuysFX)},
		// 1234.56 USD yield 8766.86 CNY (parity 8794.26, spread 27.40); fee 10.00 CNY.
		"export-usd": {Flow: FlowExport, Enterprise: exporter, Fee: dec("10.00"), Conversion: b.convertQuoted("1234.56", "USD", "CNY", "USD", CustomerSellsFX)},
		// 5000.00 CNY through CIPS; fee 5.00 CNY.
		"cips-cny": {Flow: FlowCIPS, Enterprise: exporter, Amount: dec("5000.00"), Fee: dec("5.00")},
	}
	for key, tr := range keys {
		req := b.settle(key, tr)
		if _, replayed, err := b.ledger.Post(b.ctx, b.actor, req); err != nil || !replayed {
			t.Fatalf("replay of %s: replayed %v, %v", key, replayed, err)
		}
	}

	want := map[string]string{
		"fx_spread_income:CNY":          "32.41",   // 1.93 + 3.08 + 27.40
		"buyer_funds:CNY":               "3399.88", // 10000.00 − 600.12 − 1000.00 − 5000.00
		"buyer_funds:USD":               "3765.44", // 5000.00 − 1234.56
		"fx_position:CNY":               "7199.15", // asset: + 8794.26 − 598.19 − 996.92
		"fx_position:JPY":               "12345",
		"fx_position:USD":               "-1094.61", // + 139.95 − 1234.56
		"merchant:" + importer + ":JPY": "12245",    // 12345 − 100
		"merchant:" + importer + ":USD": "138.95",   // 139.95 − 1.00
		"merchant:" + exporter + ":CNY": "13751.86", // 8766.86 − 10.00 + 5000.00 − 5.00
		"fee_income:JPY":                "100",
		"fee_income:USD":                "1.00",
		"fee_income:CNY":                "15.00", // 10.00 + 5.00
		"reserve:CNY":                   "10000.00",
		"reserve:USD":                   "5000.00",
	}
	for code, amount := range want {
		if got := b.posted(code); got != amount {
			t.Errorf("%s posted = %s, want %s", code, got, amount)
		}
	}
	b.checkEntriesBalanced()

	var spread string
	if err := b.db.Get(&spread, `SELECT metadata #>> '{conversion,spread_cny}' FROM entries WHERE tenant_id = $1 AND idempotency_key = 'export-usd'`, b.actor.Tenant); err != nil || spread != "27.40" {
		t.Fatalf("export entry records spread %q (%v), want 27.40", spread, err)
	}

	// Settling more than buyers paid in is refused by the buyer funds' flag.
	over := Transfer{Flow: FlowCIPS, Enterprise: exporter, Amount: dec("3399.89")}
	set, err := b.accts.Resolve(b.ctx, b.actor, mustRefs(t, over)...)
	if err != nil {
		t.Fatal(err)
	}
	req, err := BuildEntry("cips-over", over, set)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.ledger.Post(b.ctx, b.actor, req); !errors.Is(err, ledger.ErrInsufficientFunds) {
		t.Fatalf("settling 3399.89 of 3399.88: err = %v, want INSUFFICIENT_FUNDS", err)
	}
}

func mustRefs(t testing.TB, tr Transfer) []AccountRef {
	t.Helper()
	refs, err := tr.Accounts()
	if err != nil {
		t.Fatal(err)
	}
	return refs
}

// collect books buyers' funds arriving in the reserve.
func (b *bundle) collect(cur ledger.Currency, amount string) {
	b.t.Helper()
	set, err := b.accts.Resolve(b.ctx, b.actor, AccountOf(Reserve, cur), AccountOf(BuyerFunds, cur))
	if err != nil {
		b.t.Fatal(err)
	}
	res, _ := set.Get(AccountOf(Reserve, cur))
	funds, _ := set.Get(AccountOf(BuyerFunds, cur))
	if _, _, err := b.ledger.Post(b.ctx, b.actor, ledger.EntryRequest{IdempotencyKey: "collect:" + string(cur), Postings: []ledger.PostingRequest{
		{AccountID: res.ID, Direction: ledger.Debit, Amount: dec(amount)},
		{AccountID: funds.ID, Direction: ledger.Credit, Amount: dec(amount)},
	}}); err != nil {
		b.t.Fatal(err)
	}
}

// convertQuoted prices a conversion the way settlement does: a quote for
// the tenant, read back by id while live, then Convert.
func (b *bundle) convertQuoted(amount string, from, to, foreign ledger.Currency, side Side) *Conversion {
	b.t.Helper()
	q, err := b.fx.Quote(b.ctx, b.actor, PairOf(foreign), side)
	if err != nil {
		b.t.Fatal(err)
	}
	q, err = b.fx.QuoteFor(b.ctx, b.actor.Tenant, q.ID, b.clock.Now())
	if err != nil {
		b.t.Fatal(err)
	}
	return convert(b.t, amount, from, to, q.Quotation)
}

// settle resolves, builds and posts one transfer.
func (b *bundle) settle(key string, tr Transfer) ledger.EntryRequest {
	b.t.Helper()
	set, err := b.accts.Resolve(b.ctx, b.actor, mustRefs(b.t, tr)...)
	if err != nil {
		b.t.Fatal(err)
	}
	req, err := BuildEntry(key, tr, set)
	if err != nil {
		b.t.Fatal(err)
	}
	if _, _, err := b.ledger.Post(b.ctx, b.actor, req); err != nil {
		b.t.Fatalf("post %s: %v", key, err)
	}
	return req
}

// posted is an account's posted balance, signed on its normal side.
func (b *bundle) posted(code string) string {
	b.t.Helper()
	ref, err := ParseAccountRef(code)
	if err != nil {
		b.t.Fatal(err)
	}
	found, err := b.ledger.Accounts(b.ctx, b.actor.Tenant, code, uuid.Nil, 1)
	if err != nil || len(found) != 1 {
		b.t.Fatalf("account %s: %v %v", code, found, err)
	}
	return ref.Currency.Format(found[0].Balance.Posted(found[0].Kind))
}

// checkEntriesBalanced asserts in SQL, over the stored postings, that every
// entry of the tenant balances in each of its currencies, and that each
// conversion entry has postings in exactly two.
func (b *bundle) checkEntriesBalanced() {
	b.t.Helper()
	var unbalanced []string
	if err := b.db.Select(&unbalanced, `SELECT e.idempotency_key || '/' || p.currency FROM postings p JOIN entries e ON e.id = p.entry_id
		WHERE p.tenant_id = $1 GROUP BY e.idempotency_key, p.currency
		HAVING sum(CASE p.direction WHEN 'debit' THEN p.amount ELSE -p.amount END) <> 0`, b.actor.Tenant); err != nil {
		b.t.Fatal(err)
	}
	if len(unbalanced) > 0 {
		b.t.Fatalf("entries unbalanced per currency: %v", unbalanced)
	}
	var odd []string
	if err := b.db.Select(&odd, `SELECT e.idempotency_key FROM entries e JOIN postings p ON p.entry_id = e.id
		WHERE e.tenant_id = $1 AND e.metadata ? 'conversion' GROUP BY e.idempotency_key HAVING count(DISTINCT p.currency) <> 2`, b.actor.Tenant); err != nil {
		b.t.Fatal(err)
	}
	if len(odd) > 0 {
		b.t.Fatalf("conversion entries not in two currencies: %v", odd)
	}
}
