package ledger

import (
	"testing"

	"github.com/google/uuid"
)

func TestUUIDArrayIsWhatPostgreSQLReads(t *testing.T) {
	t.Parallel()
	ids := []uuid.UUID{uuid.MustParse("01a21c2d-7bf5-7bb6-a5b1-fdf8077e9e65"), uuid.Nil, uuid.MustParse("ffffffff-0000-4abc-8def-0123456789ab")}
	want := "{01a21c2d-7bf5-7bb6-a5b1-fdf8077e9e65,00000000-0000-0000-0000-000000000000,ffffffff-0000-4abc-8def-0123456789ab}"
	if got := uuidArray(ids); got != want {
		t.Fatalf("uuidArray = %s, want %s", got, want)
	}
	if got := uuidArray(nil); got != "{}" {
		t.Fatalf("uuidArray(nil) = %s, want {}", got)
	}
}
