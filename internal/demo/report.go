package demo

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/xbsettle/xbsettle/ledger"
)

// Report is what the day came to, read back through the API. It holds no
// identifiers, dates or timings: the same seed gives the same report
// (String), whatever the tag, the day it runs or how fast.
type Report struct {
	Seed    uint64
	Parcels int

	Chains     map[string]int // by verdict
	Flows      map[string]int // "import 9610" … → chains
	Rules      map[string]int // failed rule (and X_MISSING) → chains
	Warnings   map[string]int // warning code → chains
	Defects    []DefectOutcome
	Unexpected int // chains that did not end as planned

	Items     map[string]int // settlement item status → items
	ItemCodes map[string]int // code of a rejected or held item → items
	// Money per currency: what the institutions collected (the payments
	// settled, in their currency) and what the sellers were paid (in the
	// payout currency): gross, fees, net.
	Collected, Gross, Fees, Net map[ledger.Currency]decimal.Decimal
	SpreadCNY                   decimal.Decimal
	Batches                     map[ledger.Currency]int // batches by currency
	BatchesSettled              int
	// BatchesLater are batches of a value date after today, which the
	// cut-off cannot close yet: the day was settled after today's cut-off
	// time, or today's batches were cut off by an earlier run.
	BatchesLater int

	Proposed  map[string]int // FX category proposed → enterprises
	Approved  int
	Overrides []Override
	Credit    []Credit
}

// Override is a proposal the FX bureau overrode, with its reason.
type Override struct {
	Enterprise, Name   string
	Proposed, Category string
	Reason             string
}

// Credit is a credit assessment's result: score, grade, recommended
// limit and the reasons that cost it the most points.
type Credit struct {
	Enterprise, Name string
	Score            int
	Grade            string
	LimitCNY         string
	Reasons          []string // reason codes, costliest first
}

// report tallies the run.
func (r *run) report() *Report {
	rep := &Report{Seed: r.day.Seed, Parcels: len(r.day.Parcels),
		Chains: map[string]int{}, Flows: map[string]int{}, Rules: map[string]int{}, Warnings: map[string]int{},
		Items: map[string]int{}, ItemCodes: map[string]int{}, Batches: map[ledger.Currency]int{},
		Collected: map[ledger.Currency]decimal.Decimal{}, Gross: map[ledger.Currency]decimal.Decimal{},
		Fees: map[ledger.Currency]decimal.Decimal{}, Net: map[ledger.Currency]decimal.Decimal{}}
	for _, p := range r.day.Parcels {
		v := r.chains[p.OrderNo]
		rep.Chains[v.Verdict]++
		rep.Flows[p.flow()]++
		for _, code := range v.rules() {
			rep.Rules[code]++
		}
		for _, w := range v.Warnings {
			rep.Warnings[w.Code]++
		}
	}
	rep.Defects = defectOutcomes(r.day, r.chains)
	rep.Unexpected = len(unexpected(r.day, r.chains))
	for _, ins := range r.instructions {
		for _, it := range ins.Items {
			rep.Items[it.Status]++
			if it.Status == "rejected" || it.Status == "held" {
				for _, c := range it.Codes {
					rep.ItemCodes[c]++
				}
			}
			if it.PayoutAmount == nil {
				continue // rejected or held: nothing moved
			}
			add(rep.Collected, it.Currency, it.Amount)
			add(rep.Gross, it.PayoutCurrency, *it.PayoutGross)
			add(rep.Fees, it.PayoutCurrency, it.Fee)
			add(rep.Net, it.PayoutCurrency, *it.PayoutAmount)
			if it.Conversion != nil && it.Conversion.SpreadCNY != nil {
				rep.SpreadCNY = rep.SpreadCNY.Add(decimal.RequireFromString(*it.Conversion.SpreadCNY))
			}
		}
	}
	for _, b := range r.batches {
		rep.Batches[b.Currency]++
		switch {
		case b.Status == "settled":
			rep.BatchesSettled++
		case slices.Contains(r.openDates, b.ValueDate):
			rep.BatchesLater++
		}
	}
	rep.Proposed = map[string]int{}
	for _, p := range r.proposals {
		rep.Proposed[p.Category]++
	}
	for _, d := range r.decisions {
		if d.Action == "override" {
			rep.Overrides = append(rep.Overrides, Override{Enterprise: d.Enterprise, Name: r.day.cast.byCode(d.Enterprise).Name,
				Proposed: d.ProposedCategory, Category: d.Category, Reason: d.Reason})
		} else {
			rep.Approved++
		}
	}
	for _, a := range r.assessments {
		c := Credit{Enterprise: a.Enterprise, Name: r.day.cast.byCode(a.Enterprise).Name, Score: deref(a.Score),
			Grade: deref(a.Grade), LimitCNY: deref(a.RecommendedLimitCNY)}
		for _, reason := range a.Reasons {
			c.Reasons = append(c.Reasons, reason.Code)
		}
		rep.Credit = append(rep.Credit, c)
	}
	return rep
}

func add(m map[ledger.Currency]decimal.Decimal, cur ledger.Currency, amount string) {
	m[cur] = m[cur].Add(decimal.RequireFromString(amount))
}

// flow names the parcel's direction and customs trade mode.
func (p *Parcel) flow() string {
	if p.Export {
		return "export " + p.TradeMode
	}
	return "import " + p.TradeMode
}

// currencies lists the currencies of ms: CNY, USD, EUR, JPY, then any
// other in alphabetical order.
func currencies(ms ...map[ledger.Currency]decimal.Decimal) []ledger.Currency {
	rank := map[ledger.Currency]int{"CNY": 1, "USD": 2, "EUR": 3, "JPY": 4}
	seen := map[ledger.Currency]bool{}
	for _, m := range ms {
		for c := range m {
			seen[c] = true
		}
	}
	out := slices.Collect(maps.Keys(seen))
	slices.SortFunc(out, func(a, b ledger.Currency) int {
		if ra, rb := cmp.Or(rank[a], 99), cmp.Or(rank[b], 99); ra != rb {
			return ra - rb
		}
		return strings.Compare(string(a), string(b))
	})
	return out
}

// String renders the report as the demo prints it.
func (rep *Report) String() string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("Chains      %s: %s verified, %s mismatched, %s incomplete\n", count(rep.Parcels),
		count(rep.Chains[VerdictVerified]), count(rep.Chains[VerdictMismatched]), count(rep.Chains[VerdictIncomplete]))
	w("  by flow   %s\n", joinCounts(rep.Flows, []string{"import 9610", "import 1210", "export 9610", "export 9810"}))
	w("  by rule   %s\n", joinCounts(rep.Rules, nil))
	if len(rep.Warnings) > 0 {
		w("  warnings  %s\n", joinCounts(rep.Warnings, nil))
	}
	planted, caught := 0, 0
	for _, d := range rep.Defects {
		planted += d.Planted
		caught += d.Caught
	}
	w("Defects     %s planted, %s caught by the rule that names them; %s chains not as planned\n",
		count(planted), count(caught), count(rep.Unexpected))
	for _, d := range rep.Defects {
		w("  %-22s %4s  %-16s caught %s\n", d.Kind, count(d.Planted), d.Kind.Rule(), count(d.Caught))
	}
	w("Settlement  %s items: %s", count(sum(rep.Items)), joinCounts(rep.Items, []string{"settled", "batched", "rejected", "held"}))
	if len(rep.ItemCodes) > 0 {
		w(" (%s)", joinCounts(rep.ItemCodes, nil))
	}
	w("\n")
	w("  %-8s %18s %18s %12s %18s\n", "currency", "collected", "paid out (gross)", "fees", "net")
	for _, c := range currencies(rep.Collected, rep.Gross) {
		w("  %-8s %18s %18s %12s %18s\n", c, money(rep.Collected, c), money(rep.Gross, c), money(rep.Fees, c), money(rep.Net, c))
	}
	w("  FX spread income CNY %s\n", groupDigits(rep.SpreadCNY.StringFixed(2)))
	byCur := make([]string, 0, len(rep.Batches))
	for _, c := range []ledger.Currency{"CNY", "USD", "EUR", "JPY"} {
		if n := rep.Batches[c]; n > 0 {
			byCur = append(byCur, fmt.Sprintf("%s %d", c, n))
		}
	}
	w("Batches     %d (%s), %d paid out at the cut-off", sum(rep.Batches), strings.Join(byCur, " · "), rep.BatchesSettled)
	if rep.BatchesLater > 0 {
		w("; %d of a later value date, closing at its cut-off", rep.BatchesLater)
	}
	w("\n")
	w("FX review   %d categories proposed (%s); %d approved, %d overridden\n", sum(rep.Proposed),
		joinCounts(rep.Proposed, []string{"A", "B", "C"}), rep.Approved, len(rep.Overrides))
	for _, o := range rep.Overrides {
		w("  %s %s: %s → %s, because\n%s", o.Enterprise, o.Name, o.Proposed, o.Category, wrap(o.Reason, "    ", 96))
	}
	w("Credit      %d assessments for the bank, with the sellers' consent\n", len(rep.Credit))
	for _, c := range rep.Credit {
		w("  %s %s: score %d, grade %s, limit CNY %s\n    reasons %s\n", c.Enterprise, c.Name, c.Score, c.Grade,
			groupDigits(c.LimitCNY), strings.Join(c.Reasons, ", "))
	}
	return b.String()
}

// wrap breaks text into lines of at most width characters (a longer word
// stands alone), each indented.
func wrap(text, indent string, width int) string {
	var b strings.Builder
	line := indent
	for _, word := range strings.Fields(text) {
		if line != indent && len([]rune(line))+1+len([]rune(word)) > width {
			b.WriteString(line + "\n")
			line = indent
		}
		if line != indent {
			line += " "
		}
		line += word
	}
	b.WriteString(line + "\n")
	return b.String()
}

// money is m[c] with c's minor units and thousands separators; "—" when
// there is none.
func money(m map[ledger.Currency]decimal.Decimal, c ledger.Currency) string {
	d, ok := m[c]
	if !ok {
		return "—"
	}
	return groupDigits(c.Format(d))
}

// groupDigits puts thousands separators in a plain decimal string.
func groupDigits(s string) string {
	intPart, frac, hasFrac := strings.Cut(s, ".")
	neg := strings.HasPrefix(intPart, "-")
	intPart = strings.TrimPrefix(intPart, "-")
	for i := len(intPart) - 3; i > 0; i -= 3 {
		intPart = intPart[:i] + "," + intPart[i:]
	}
	if neg {
		intPart = "-" + intPart
	}
	if hasFrac {
		return intPart + "." + frac
	}
	return intPart
}

func sum[K comparable](m map[K]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// joinCounts renders m as "key n · key n": the keys of order first, in
// that order, then the rest by count (largest first) and name.
func joinCounts(m map[string]int, order []string) string {
	var parts []string
	for _, k := range order {
		if m[k] > 0 {
			parts = append(parts, fmt.Sprintf("%s %s", k, count(m[k])))
		}
	}
	rest := slices.DeleteFunc(slices.Collect(maps.Keys(m)), func(k string) bool { return slices.Contains(order, k) || m[k] == 0 })
	slices.SortFunc(rest, func(a, b string) int { return cmp.Or(m[b]-m[a], strings.Compare(a, b)) })
	for _, k := range rest {
		parts = append(parts, fmt.Sprintf("%s %s", k, count(m[k])))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, " · ")
}
