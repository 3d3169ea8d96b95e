package api

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/xbsettle/xbsettle/settlement/clearance"
)

// documentView is a stored document version as the API answers it.
type documentView struct {
	ID       uuid.UUID           `json:"id"`
	Type     string              `json:"type"`    // batch name: order, export_receipt, cancellation …
	Message  string              `json:"message"` // CEB311 …
	Kind     string              `json:"kind"`    // ORDER …
	Chain    *clearance.ChainKey `json:"chain"`   // null while a waybill waits for its chain
	GUID     string              `json:"guid"`
	AppType  int                 `json:"appType"`
	AppTime  time.Time           `json:"appTime"`
	Document json.RawMessage     `json:"document"` // personal ID numbers masked
	Receipt  clearance.Receipt   `json:"receipt"`
	InForce  bool                `json:"in_force"`
	Replayed bool                `json:"replayed"`
}

func viewOfDocument(v clearance.DocumentView) documentView {
	return documentView{ID: v.ID, Type: v.Message.Name(), Message: string(v.Message), Kind: string(v.Kind), Chain: v.Chain,
		GUID: v.GUID, AppType: int(v.AppType), AppTime: v.AppTime.UTC(), Document: v.Body, Receipt: v.Receipt, InForce: v.InForce}
}

// viewOfChain is the chain answer (DESIGN §8): the verdict's members
// (verdict, missing, failed_rules, warnings, tax) at the top level, with
// the chain's key, state and documents in force keyed by kind in lower case.
func viewOfChain(v clearance.ChainView) (map[string]any, error) {
	var verdict map[string]json.RawMessage
	if err := json.Unmarshal(v.Verdict, &verdict); err != nil {
		return nil, fmt.Errorf("decode verdict of %s/%s: %w", v.Key.EbpCode, v.Key.OrderNo, err)
	}
	out := map[string]any{"tax": nil}
	for k, raw := range verdict {
		out[k] = raw
	}
	docs := map[string]documentView{}
	for _, d := range v.Documents {
		docs[strings.ToLower(string(d.Kind))] = viewOfDocument(d)
	}
	out["ebpCode"], out["orderNo"], out["direction"], out["state"] = v.Key.EbpCode, v.Key.OrderNo, v.Direction, v.State
	out["pending"], out["verdict_version"], out["evaluated_at"], out["documents"] = v.Pending, v.VerdictVersion, v.EvaluatedAt, docs
	return out, nil
}
