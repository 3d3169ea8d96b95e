package risk

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"github.com/xbsettle/xbsettle/internal/db"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Proposal statuses: pending until FX bureau staff decide (approved or
// overridden), or until a later run proposes something else (superseded).
const (
	StatusPending    = "pending"
	StatusApproved   = "approved"
	StatusOverridden = "overridden"
	StatusSuperseded = "superseded"
)

// Classification is a stored proposal: Classify's answer for one
// enterprise and review period, and where its review stands.
type Classification struct {
	ID         uuid.UUID  `json:"id"`
	Enterprise string     `json:"enterprise"`
	RunID      uuid.UUID  `json:"run_id"`
	Status     string     `json:"status"`
	CreatedAt  time.Time  `json:"created_at"`
	ClosedAt   *time.Time `json:"closed_at"`
	Proposal
}

// storedProposal is a proposal about to be stored.
type storedProposal struct {
	enterprise string
	Proposal
}

// hash names what a proposal says, period and version included: a run that
// proposes exactly this again keeps the stored proposal.
func (p storedProposal) hash() ([]byte, []byte, []byte, error) {
	reasons, err := json.Marshal(p.Reasons)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("encode reasons: %w", err)
	}
	figures, err := json.Marshal(p.Figures)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("encode figures: %w", err)
	}
	sum := sha256.Sum256(fmt.Appendf(nil, "%s|%s|%s|%s|%s|%s", p.Category, p.ThresholdsVersion,
		p.PeriodStart.UTC().Format(time.RFC3339Nano), p.PeriodEnd.UTC().Format(time.RFC3339Nano), reasons, figures))
	return sum[:], reasons, figures, nil
}

// supersedeSQL closes the pending proposals a run replaces: those of its
// enterprises that say something else.
const supersedeSQL = `
UPDATE fx_classifications c SET status = 'superseded', closed_at = $3
FROM unnest($1::text[], $2::bytea[]) AS u(ent, hash)
WHERE c.tenant_id = u.ent AND c.status = 'pending' AND c.proposal_hash <> u.hash`

// insertProposalsSQL adds the proposals not already stored: one with the
// same hash that is pending or was decided stands, so a repeated run (or a
// run after the decision on the same figures) adds nothing.
const insertProposalsSQL = `
INSERT INTO fx_classifications (tenant_id, id, run_id, period_start, period_end, category, reasons, figures,
	thresholds_version, proposal_hash, status, created_at)
SELECT u.ent, u.id, $1, u.ps, u.pe, u.cat, u.reasons, u.figures, u.version, u.hash, 'pending', $2
FROM unnest($3::text[], $4::uuid[], $5::timestamptz[], $6::timestamptz[], $7::text[], $8::jsonb[], $9::jsonb[],
	$10::text[], $11::bytea[]) AS u(ent, id, ps, pe, cat, reasons, figures, version, hash)
WHERE NOT EXISTS (SELECT 1 FROM fx_classifications c WHERE c.tenant_id = u.ent AND c.proposal_hash = u.hash
	AND c.status <> 'superseded')`

// storeProposals writes a chunk's proposals in one transaction: the pending
// ones they replace are superseded first, so at most one is pending per
// enterprise.
func (s *Service) storeProposals(ctx context.Context, run uuid.UUID, ps []storedProposal) error {
	if len(ps) == 0 {
		return nil
	}
	n := len(ps)
	ents, cats, versions := make([]string, n), make([]string, n), make([]string, n)
	reasons, figures := make([]string, n), make([]string, n)
	ids, hashes := make([]uuid.UUID, n), make([][]byte, n)
	starts, ends := make([]time.Time, n), make([]time.Time, n)
	for i, p := range ps {
		h, r, f, err := p.hash()
		if err != nil {
			return fmt.Errorf("proposal of %s: %w", p.enterprise, err)
		}
		ents[i], cats[i], versions[i], ids[i], hashes[i] = p.enterprise, string(p.Category), p.ThresholdsVersion, uuid.Must(uuid.NewV7()), h
		reasons[i], figures[i], starts[i], ends[i] = string(r), string(f), p.PeriodStart, p.PeriodEnd
	}
	now := s.clock()
	return db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		// Two runs may classify an enterprise at once (the monthly one and one
		// on demand): each takes the enterprises' locks first, in one order, so
		// the second sees the first's proposals instead of colliding with them.
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7405005, k)
			FROM (SELECT DISTINCT hashtext(e) AS k FROM unnest($1::text[]) AS e ORDER BY 1) AS l`, pq.Array(ents)); err != nil {
			return fmt.Errorf("lock proposals: %w", err)
		}
		if _, err := tx.ExecContext(ctx, supersedeSQL, pq.Array(ents), pq.ByteaArray(hashes), now); err != nil {
			return fmt.Errorf("supersede proposals: %w", err)
		}
		if _, err := tx.ExecContext(ctx, insertProposalsSQL, run, now, pq.Array(ents), pq.Array(ids), pq.Array(starts),
			pq.Array(ends), pq.Array(cats), pq.Array(reasons), pq.Array(figures), pq.Array(versions), pq.ByteaArray(hashes)); err != nil {
			return fmt.Errorf("insert %d proposals: %w", n, err)
		}
		return nil
	})
}

const classificationColumns = `tenant_id, id, run_id, period_start, period_end, category, reasons, figures,
	thresholds_version, status, created_at, closed_at`

type classificationRow struct {
	Enterprise        string     `db:"tenant_id"`
	ID                uuid.UUID  `db:"id"`
	RunID             uuid.UUID  `db:"run_id"`
	PeriodStart       time.Time  `db:"period_start"`
	PeriodEnd         time.Time  `db:"period_end"`
	Category          string     `db:"category"`
	Reasons           []byte     `db:"reasons"`
	Figures           []byte     `db:"figures"`
	ThresholdsVersion string     `db:"thresholds_version"`
	Status            string     `db:"status"`
	CreatedAt         time.Time  `db:"created_at"`
	ClosedAt          *time.Time `db:"closed_at"`
}

func (r classificationRow) classification() (Classification, error) {
	c := Classification{ID: r.ID, Enterprise: r.Enterprise, RunID: r.RunID, Status: r.Status, CreatedAt: r.CreatedAt.UTC(),
		Proposal: Proposal{Category: Category(r.Category), ThresholdsVersion: r.ThresholdsVersion,
			PeriodStart: r.PeriodStart.UTC(), PeriodEnd: r.PeriodEnd.UTC()}}
	if r.ClosedAt != nil {
		t := r.ClosedAt.UTC()
		c.ClosedAt = &t
	}
	if err := json.Unmarshal(r.Reasons, &c.Reasons); err != nil {
		return Classification{}, fmt.Errorf("decode reasons of %s: %w", r.ID, err)
	}
	if err := json.Unmarshal(r.Figures, &c.Figures); err != nil {
		return Classification{}, fmt.Errorf("decode figures of %s: %w", r.ID, err)
	}
	return c, nil
}

func classificationsOf(rows []classificationRow) ([]Classification, error) {
	out := make([]Classification, len(rows))
	for i, r := range rows {
		var err error
		if out[i], err = r.classification(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// QueueFilter selects proposals for the review queue. Status defaults to
// pending; Category and Enterprise are optional.
type QueueFilter struct {
	Status     string
	Category   Category
	Enterprise string
}

// Queue lists proposals across enterprises in id (creation) order after
// the id after, at most limit. Errors: VALIDATION_FAILED (status, category).
func (s *Service) Queue(ctx context.Context, f QueueFilter, after uuid.UUID, limit int) ([]Classification, error) {
	var fe fieldErrs
	if f.Status == "" {
		f.Status = StatusPending
	}
	switch f.Status {
	case StatusPending, StatusApproved, StatusOverridden, StatusSuperseded:
	default:
		fe.add("status", FieldStatus, "want pending, approved, overridden or superseded")
	}
	if f.Category != "" && !f.Category.Valid() {
		fe.add("category", FieldCategory, "want A, B or C")
	}
	if err := fe.err(); err != nil {
		return nil, err
	}
	var rows []classificationRow
	if err := s.db.SelectContext(ctx, &rows, `SELECT `+classificationColumns+` FROM fx_classifications
		WHERE status = $1 AND id > $2 AND ($3 = '' OR category = $3) AND ($4 = '' OR tenant_id = $4)
		ORDER BY id LIMIT $5`, f.Status, after, string(f.Category), f.Enterprise, limit); err != nil {
		return nil, fmt.Errorf("read review queue: %w", err)
	}
	return classificationsOf(rows)
}
