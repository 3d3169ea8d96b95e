package demo

import (
	"slices"
)

// DefectOutcome is how one kind of defect fared: how many were planted and
// how many the rule that names them caught.
type DefectOutcome struct {
	Kind    DefectKind
	Planted int
	Caught  int
}

// defectOutcomes checks every planted defect against the verdicts read
// back: a single parcel's defect is caught when its chain has the defect's
// verdict and fails its rule; an annual-limit group's when exactly one of
// its six chains fails ANNUAL_LIMIT and the other five are verified.
func defectOutcomes(day *Day, chains map[string]*chainView) []DefectOutcome {
	out := make([]DefectOutcome, len(DefectKinds))
	for i, k := range DefectKinds {
		out[i].Kind = k
	}
	for _, d := range day.Defects {
		o := &out[slices.Index(DefectKinds, d.Kind)]
		o.Planted++
		if caught(d, chains) {
			o.Caught++
		}
	}
	return out
}

func caught(d Defect, chains map[string]*chainView) bool {
	rule := string(d.Kind.Rule())
	if d.Kind != DefectAnnualLimit {
		v := chains[d.Orders[0]]
		return v != nil && v.Verdict == d.Kind.Verdict() && slices.Contains(v.rules(), rule)
	}
	failed := 0
	for _, o := range d.Orders {
		v := chains[o]
		switch {
		case v == nil:
			return false
		case v.Verdict == VerdictMismatched && slices.Equal(v.rules(), []string{rule}):
			failed++
		case v.Verdict != VerdictVerified:
			return false
		}
	}
	return failed == 1
}

// unexpected lists the parcels whose chain did not end as planned: a clean
// parcel not verified, or a defective one failing anything but its own
// rule. A correct service leaves it empty.
func unexpected(day *Day, chains map[string]*chainView) []*Parcel {
	var out []*Parcel
	for _, p := range day.Parcels {
		v := chains[p.OrderNo]
		if v == nil || !asPlanned(p, v) {
			out = append(out, p)
		}
	}
	return out
}

func asPlanned(p *Parcel, v *chainView) bool {
	switch {
	case p.Defect == "":
		return v.Verdict == VerdictVerified
	case p.Defect == DefectAnnualLimit && v.Verdict == VerdictVerified:
		return true // five of the group's six
	}
	return v.Verdict == p.Defect.Verdict() && slices.Equal(v.rules(), []string{string(p.Defect.Rule())})
}
