package clearance

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
)

// DocumentView is one stored version of a document with its receipt.
type DocumentView struct {
	ID              uuid.UUID
	Kind            Kind
	Message         MessageType
	Chain           *ChainKey // nil while a waybill waits for its chain
	GUID            string
	AppType         AppType
	AppTime         time.Time
	Body            json.RawMessage // the document's JSON, personal IDs masked
	Receipt         Receipt
	InForce         bool // the version of its kind the chain is matched with
	SubmittedBy     string
	SubmitterTenant string
	CreatedAt       time.Time
}

// ChainView is a chain as GET /v1/chains answers it.
type ChainView struct {
	Key       ChainKey
	Direction Direction
	State     ChainStatus
	// Pending: versions arrived since the verdict (or none was made yet);
	// matching will catch up.
	Pending        bool
	VerdictVersion int
	EvaluatedAt    *time.Time
	// Verdict is the verdict in force as Verdict marshals it (verdict,
	// missing, failed_rules, warnings, tax); before the first evaluation,
	// an incomplete verdict listing the missing documents.
	Verdict   json.RawMessage
	Documents []DocumentView // in force, in kind order, cancellation or return last
}

// chainSQL reads a chain that its viewer may read.
var chainSQL = `SELECT ` + chainColumns + ` FROM clearance_chains c WHERE c.tenant_id = $1 AND c.order_no = $2 AND ` + readableSQL("$3", "$4")

// Chain returns a chain with its verdict in force and its documents in
// force, if viewer may read it (parties.go). Errors: ErrChainNotFound, for
// a chain the viewer may not read too: a chain's existence is not told.
func (s *Service) Chain(ctx context.Context, viewer Viewer, key ChainKey) (ChainView, error) {
	var row chainRow
	err := s.db.GetContext(ctx, &row, chainSQL, key.EbpCode, key.OrderNo, viewer.seesEverything(), viewer.Tenant)
	if errors.Is(err, sql.ErrNoRows) {
		return ChainView{}, ErrChainNotFound.With("no chain %s/%s", key.EbpCode, key.OrderNo)
	}
	if err != nil {
		return ChainView{}, fmt.Errorf("read chain %s/%s: %w", key.EbpCode, key.OrderNo, err)
	}
	docs, err := loadDocsInForce(ctx, s.db, []ChainKey{key})
	if err != nil {
		return ChainView{}, err
	}
	v := ChainView{Key: key, Direction: row.Direction, State: row.State, Pending: row.Dirty > row.Clean, VerdictVersion: row.VerdictVersion}
	verdict, err := s.verdictInForce(ctx, &row, &v, docs)
	if err != nil {
		return ChainView{}, err
	}
	for _, d := range docs {
		dv, err := viewOf(&d, &row, verdict, true)
		if err != nil {
			return ChainView{}, err
		}
		v.Documents = append(v.Documents, dv)
	}
	slices.SortStableFunc(v.Documents, func(a, b DocumentView) int { return kindRank(a.Kind) - kindRank(b.Kind) })
	return v, nil
}

// verdictInForce reads the chain's verdict, or makes the placeholder of a
// chain never evaluated.
func (s *Service) verdictInForce(ctx context.Context, row *chainRow, v *ChainView, docs []storedDoc) (*Verdict, error) {
	if row.VerdictVersion == 0 {
		pending := Verdict{Status: StatusIncomplete, Missing: []Kind{}, Failed: []RuleFailure{}, Warnings: []RuleFailure{}}
		present := map[Kind]bool{}
		for _, d := range docs {
			present[d.Kind] = d.AppType != AppDelete
		}
		for _, k := range Kinds {
			if !present[k] {
				pending.Missing = append(pending.Missing, k)
			}
		}
		raw, err := json.Marshal(pending)
		v.Verdict, v.Pending = raw, true
		return nil, err
	}
	var rec struct {
		Verdict     []byte    `db:"verdict"`
		EvaluatedAt time.Time `db:"evaluated_at"`
	}
	if err := s.db.GetContext(ctx, &rec, `SELECT verdict, evaluated_at FROM clearance_verdicts
		WHERE tenant_id = $1 AND order_no = $2 AND version = $3`, row.Tenant, row.OrderNo, row.VerdictVersion); err != nil {
		return nil, fmt.Errorf("read verdict of %s/%s: %w", row.Tenant, row.OrderNo, err)
	}
	var stored struct {
		Status  Status        `json:"verdict"`
		Missing []Kind        `json:"missing"`
		Failed  []RuleFailure `json:"failed_rules"`
	}
	if err := json.Unmarshal(rec.Verdict, &stored); err != nil {
		return nil, fmt.Errorf("decode verdict of %s/%s: %w", row.Tenant, row.OrderNo, err)
	}
	at := rec.EvaluatedAt.UTC()
	v.Verdict, v.EvaluatedAt = rec.Verdict, &at
	return &Verdict{Status: stored.Status, Missing: stored.Missing, Failed: stored.Failed}, nil
}

// kindRank orders documents: the four kinds, then cancellation and return.
func kindRank(k Kind) int {
	if i := slices.Index(Kinds[:], k); i >= 0 {
		return i
	}
	return len(Kinds)
}

// viewOf builds the view of a stored version with its receipt: status 2
// (declared) until the chain is evaluated with it; for the version in force
// the receipt of the verdict; a superseded version keeps status 2 with
// InForce false. A cancellation, a return and a delete in force are
// accepted (120).
func viewOf(d *storedDoc, row *chainRow, verdict *Verdict, inForce bool) (DocumentView, error) {
	key := ChainKey{d.Tenant, d.OrderNo}
	v := DocumentView{ID: d.ID, Kind: d.Kind, Message: d.Message, Chain: &key, GUID: d.GUID, AppType: d.AppType,
		AppTime: d.AppTime.UTC(), Body: json.RawMessage(d.Body), InForce: inForce, SubmittedBy: d.SubmittedBy,
		SubmitterTenant: d.SubmitterTenant, CreatedAt: d.CreatedAt.UTC()}
	v.Receipt = Receipt{Document: d.Kind, Status: ReceiptDeclared, Rules: []RuleCode{}}
	switch {
	case !inForce || verdict == nil || row.Dirty > row.Clean:
	case d.Kind == KindCancellation || d.Kind == KindReturn || d.AppType == AppDelete:
		v.Receipt.Status = ReceiptAccepted
	default:
		if r, ok := verdict.Receipt(d.Kind); ok {
			v.Receipt = r
		}
	}
	return v, nil
}

// documentSQL reads one version whose chain its viewer may read;
// parkedDocumentSQL one parked waybill, for its carrier (the only party it
// names while its chain is unknown).
var (
	documentSQL = `SELECT ` + docColumns + ` FROM clearance_documents d
		JOIN clearance_chains c ON c.tenant_id = d.tenant_id AND c.order_no = d.order_no
		WHERE d.id = $1 AND ` + readableSQL("$2", "$3")
	parkedDocumentSQL = `SELECT id, '' AS tenant_id, order_no, 'WAYBILL' AS kind, message, guid, app_type, app_time,
		body::text AS body, NULL AS id_hash, NULL AS id_valid, submitted_by, submitter_tenant, created_at
		FROM clearance_parked_waybills WHERE id = $1 AND ($2 OR ($3 <> '' AND tenant_id = $3))`
)

// Document returns one stored version with its receipt, if viewer may read
// it: a version as its chain, a parked waybill by its carrier. Errors:
// ErrDocumentNotFound, for a document the viewer may not read too.
func (s *Service) Document(ctx context.Context, viewer Viewer, id uuid.UUID) (DocumentView, error) {
	var d storedDoc
	err := s.db.GetContext(ctx, &d, documentSQL, id, viewer.seesEverything(), viewer.Tenant)
	if errors.Is(err, sql.ErrNoRows) {
		if err := s.db.GetContext(ctx, &d, parkedDocumentSQL, id, viewer.seesEverything(), viewer.Tenant); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return DocumentView{}, ErrDocumentNotFound.With("no document %s", id)
			}
			return DocumentView{}, fmt.Errorf("read parked document %s: %w", id, err)
		}
		v, err := viewOf(&d, &chainRow{}, nil, false)
		v.Chain = nil
		return v, err
	}
	if err != nil {
		return DocumentView{}, fmt.Errorf("read document %s: %w", id, err)
	}
	cv, err := s.Chain(ctx, viewer, ChainKey{d.Tenant, d.OrderNo})
	if err != nil {
		return DocumentView{}, err
	}
	for _, in := range cv.Documents {
		if in.ID == d.ID {
			return in, nil
		}
	}
	return viewOf(&d, &chainRow{}, nil, false)
}
