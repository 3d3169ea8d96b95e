package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/xbsettle/xbsettle/settlement/clearance"
)

// TestDocumentsAnswerIsEncodingJSON: the batch answer written by hand is
// byte for byte what c.JSON writes, for views with and without a chain,
// rules, escaped text and a missing body.
func TestDocumentsAnswerIsEncodingJSON(t *testing.T) {
	t.Parallel()
	key := clearance.ChainKey{EbpCode: "4403960001", OrderNo: `QH<"1">&`}
	views := []documentView{
		{ID: uuid.New(), Type: "order", Message: "CEB311", Kind: "ORDER", Chain: &key, GUID: `g "document":0, <x>`, AppType: 1,
			AppTime: time.Date(2026, 11, 11, 1, 2, 3, 400, time.UTC), Document: json.RawMessage(`{"orderNo":"QH\u003c1","lines":[{"gnum":1}]}`),
			Receipt: clearance.Receipt{Document: "ORDER", Status: 100, Rules: []clearance.RuleCode{"PAID_AMOUNT"}}, InForce: true},
		{ID: uuid.New(), Type: "waybill", Message: "CEB511", Kind: "WAYBILL", GUID: "w", AppType: 3, Document: json.RawMessage(`{}`),
			Receipt: clearance.Receipt{Document: "WAYBILL", Status: 2, Rules: []clearance.RuleCode{}}, Replayed: true},
		{ID: uuid.New(), Kind: "PAYMENT"},
	}
	answer := func(write func(c echo.Context) error) string {
		rec := httptest.NewRecorder()
		c := echo.New().NewContext(httptest.NewRequest(http.MethodPost, "/", nil), rec)
		if err := write(c); err != nil {
			t.Fatal(err)
		}
		return rec.Header().Get(echo.HeaderContentType) + "\n" + rec.Body.String()
	}
	got := answer(func(c echo.Context) error { return documentsAnswer(c, http.StatusCreated, views) })
	want := answer(func(c echo.Context) error { return c.JSON(http.StatusCreated, map[string]any{"documents": views}) })
	if got != want {
		t.Fatalf("by hand:\n%s\nencoding/json:\n%s", got, want)
	}
}
