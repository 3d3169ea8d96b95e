package risk

// HandCase is one of the enterprises whose score scorecard_test.go computes
// by hand, for the store tests (package risk_test) to rebuild in PostgreSQL.
type HandCase struct {
	Name   string
	In     FeatureInput
	Points string
	Score  int
	Grade  string
	Limit  string
}

// HandCases are the three hand-computed enterprises, as of AsOf.
func HandCases() []HandCase {
	var out []HandCase
	for _, e := range []handScored{steadyExporter(), youngSeller(), largeImporter()} {
		out = append(out, HandCase{Name: e.name, In: e.in, Points: e.points, Score: e.score, Grade: e.grade, Limit: e.limit})
	}
	return out
}

// AsOf is the as-of instant of the hand-computed enterprises.
var AsOf = asOf
