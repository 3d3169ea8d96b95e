package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/xbsettle/xbsettle/internal/apperr"
	"github.com/xbsettle/xbsettle/settlement/clearance"
)

// maxDocumentsBody caps a clearance POST: a batch of 1000 documents or a
// CEB message of 100 heads with their lines.
const maxDocumentsBody = 8 << 20

// clearanceRoutes registers the clearance endpoints. Who may declare and
// read what is clearance's to decide (settlement/clearance/parties.go);
// the routes only keep out the roles that declare nothing.
func (s *Server) clearanceRoutes() {
	e := s.echo
	declarants := func(roles ...Role) []echo.MiddlewareFunc {
		return []echo.MiddlewareFunc{s.authenticate, allow(append(roles, RoleAdmin)...)}
	}
	e.POST("/v1/orders", s.postDocuments(clearance.KindOrder), declarants(RolePlatform)...)
	e.POST("/v1/payments", s.postDocuments(clearance.KindPayment), declarants(RolePaymentInstitution)...)
	e.POST("/v1/waybills", s.postDocuments(clearance.KindWaybill), declarants(RoleCarrier)...)
	e.POST("/v1/inventories", s.postDocuments(clearance.KindInventory), declarants(RolePlatform)...)
	e.POST("/v1/cancellations", s.postDocuments(clearance.KindCancellation), declarants(RolePlatform)...)
	e.POST("/v1/returns", s.postDocuments(clearance.KindReturn), declarants(RolePlatform)...)
	e.POST("/v1/documents/batch", s.postDocumentBatch, declarants(RolePlatform, RolePaymentInstitution, RoleCarrier)...)
	e.GET("/v1/chains/:ebpCode/:orderNo", s.getChain, s.authenticate)
	e.GET("/v1/documents/:id", s.getDocument, s.authenticate)
}

// postDocuments: POST /v1/orders and its siblings. A JSON body is one
// document; an XML body (application/xml) is a CEB message of up to 100,
// stored all or nothing.
func (s *Server) postDocuments(kind clearance.Kind) echo.HandlerFunc {
	return func(c echo.Context) error {
		raw, media, err := readDocumentsBody(c)
		if err != nil {
			return err
		}
		var docs []clearance.Document
		switch media {
		case echo.MIMEApplicationJSON:
			d, err := clearance.DecodeJSON(raw, kind)
			if err != nil {
				return err
			}
			docs = []clearance.Document{d}
		default:
			msg, err := clearance.DecodeXML(ctxReader{c.Request().Context(), bytes.NewReader(raw)}, kind)
			if err != nil {
				return err
			}
			docs = msg.Documents
		}
		return s.storeDocuments(c, docs, media == echo.MIMEApplicationJSON)
	}
}

// batchDocumentsInput is the body of POST /v1/documents/batch.
type batchDocumentsInput struct {
	Documents []json.RawMessage `json:"documents"`
}

// postDocumentBatch: POST /v1/documents/batch. Every document names its
// "type"; the batch is stored all or nothing, and a refusal lists every
// bad field of every document as documents[i].field.
func (s *Server) postDocumentBatch(c echo.Context) error {
	docs, itemErrs, err := readDocumentBatch(c)
	if err != nil {
		return err
	}
	switch n := len(docs); {
	case n == 0:
		var f fields
		f.add("documents", "REQUIRED", "send at least one document")
		return f.err()
	case n > clearance.MaxBatch:
		return errBatchTooLarge.With("a batch has at most %d documents, got %d", clearance.MaxBatch, n)
	}
	// Every document's errors are counted; the first apperr.MaxFields listed.
	var bad []apperr.FieldError
	total := 0
	for i, err := range itemErrs {
		var ve *clearance.ValidationError
		var de *clearance.DecodeError
		switch {
		case errors.As(err, &ve):
			total += ve.Count()
			listed := &clearance.ValidationError{Errors: ve.Errors[:min(len(ve.Errors), apperr.MaxFields-len(bad))]}
			bad = append(bad, fieldErrors(listed.Prefix(indexed("documents", i)+"."))...)
		case errors.As(err, &de):
			total++
			if len(bad) < apperr.MaxFields {
				bad = append(bad, apperr.FieldError{Field: indexed("documents", i), Code: "TYPE_INVALID", Message: "a document is a JSON object"})
			}
		case err != nil:
			return err
		}
	}
	if total > 0 {
		return apperr.InvalidOf(bad, total)
	}
	return s.storeDocuments(c, docs, false)
}

// readDocumentBatch reads the batch's documents and each one's error. A
// batch as clients send it, {"documents": [...]} in JSON, is checked and
// read in one pass (clearance.DecodeJSONBatch); any other body goes
// through decodeBody and encoding/json, which refuse or accept it and say
// why exactly as for every other endpoint.
func readDocumentBatch(c echo.Context) ([]clearance.Document, []error, error) {
	r := c.Request()
	raw, err := io.ReadAll(http.MaxBytesReader(c.Response(), r.Body, maxDocumentsBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, nil, errBodyTooLarge.With("the body exceeds %d bytes", maxDocumentsBody)
		}
		return nil, nil, fmt.Errorf("read request body: %w", err)
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType)); err == nil && mt == echo.MIMEApplicationJSON {
		if docs, errs, ok := clearance.DecodeJSONBatch(raw); ok {
			return docs, errs, nil
		}
	}
	r.Body = io.NopCloser(bytes.NewReader(raw))
	var in batchDocumentsInput
	if err := decodeBody(c, &in, maxDocumentsBody, false); err != nil {
		if tooManyElements(err, "documents") {
			return nil, nil, errBatchTooLarge.With("a batch has at most %d documents; reading stopped after %d", clearance.MaxBatch, maxJSONElements)
		}
		return nil, nil, err
	}
	docs, errs := make([]clearance.Document, len(in.Documents)), make([]error, len(in.Documents))
	for i, raw := range in.Documents {
		docs[i], errs[i] = clearance.DecodeJSON(raw, "")
	}
	return docs, errs, nil
}

// storeDocuments stores the documents as the caller declares them. single
// answers the document itself, else {"documents": [...]}.
func (s *Server) storeDocuments(c echo.Context, docs []clearance.Document, single bool) error {
	p := principal(c)
	by := clearance.Submitter{By: p.KeyID.String(), Tenant: p.Tenant, Role: clearance.Role(p.Role)}
	stored, err := s.clearance.Submit(c.Request().Context(), by, docs)
	if err != nil {
		return err
	}
	views := make([]documentView, len(stored))
	replayed := true
	for i, st := range stored {
		if views[i], err = s.storedView(c, st); err != nil {
			return err
		}
		replayed = replayed && st.Replayed
	}
	status := http.StatusCreated
	if replayed {
		status = http.StatusOK
	}
	if single {
		return c.JSON(status, views[0])
	}
	return documentsAnswer(c, status, views)
}

// documentsAnswer writes {"documents": [view, …]} as c.JSON would, but puts
// each document's stored JSON in as it is: encoding/json checks and
// compacts a json.RawMessage again, which for a batch of 1,000 cost as much
// as encoding everything else. Each view is encoded with a placeholder for
// its document; the placeholder's bytes cannot occur earlier in the view
// (inside a JSON string the quotes would be escaped).
func documentsAnswer(c echo.Context, status int, views []documentView) error {
	const placeholder = `"document":0,`
	var b bytes.Buffer
	b.WriteString(`{"documents":[`)
	for i, v := range views {
		doc := v.Document
		v.Document = json.RawMessage(`0`)
		enc, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("encode document view: %w", err)
		}
		at := bytes.Index(enc, []byte(placeholder))
		if at < 0 {
			return fmt.Errorf("encode document view: no %s in %s", placeholder, enc)
		}
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(enc[:at+len(`"document":`)])
		if len(doc) == 0 {
			doc = json.RawMessage(`null`)
		}
		b.Write(doc)
		b.Write(enc[at+len(placeholder)-1:])
	}
	b.WriteString("]}\n")
	return c.JSONBlob(status, b.Bytes())
}

// storedView is the answer for one stored document: a new version is
// declared (receipt 2) until its chain is matched; a replay is answered as
// it stands now. Its declarant reads it, even before the chain's order or
// inventory names it: it has just shown it holds the version.
func (s *Server) storedView(c echo.Context, st clearance.Stored) (documentView, error) {
	if st.Replayed {
		v, err := s.clearance.Document(c.Request().Context(), clearance.Viewer{Role: clearance.RoleAdmin}, st.ID)
		if err != nil {
			return documentView{}, err
		}
		out := viewOfDocument(v)
		out.Replayed = true
		return out, nil
	}
	h := st.Document.Header()
	v := clearance.DocumentView{ID: st.ID, Kind: st.Document.Kind(), Message: h.Message, GUID: h.GUID, AppType: h.AppType,
		AppTime: h.AppTime, Body: st.Body, InForce: true,
		Receipt: clearance.Receipt{Document: st.Document.Kind(), Status: clearance.ReceiptDeclared, Rules: []clearance.RuleCode{}}}
	if !st.Parked {
		v.Chain = &st.Chain
	}
	return viewOfDocument(v), nil
}

// getChain: GET /v1/chains/{ebpCode}/{orderNo}. A chain is readable by
// its platform, the parties its order and inventory name, fx_bureau and
// admin; anyone else is answered 404, like a chain that does not exist.
func (s *Server) getChain(c echo.Context) error {
	key := clearance.ChainKey{EbpCode: c.Param("ebpCode"), OrderNo: c.Param("orderNo")}
	v, err := s.clearance.Chain(c.Request().Context(), viewer(c), key)
	if err != nil {
		return err
	}
	out, err := viewOfChain(v)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// getDocument: GET /v1/documents/{id}, for whoever reads its chain (a
// parked waybill: its carrier), fx_bureau and admin.
func (s *Server) getDocument(c echo.Context) error {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return clearance.ErrDocumentNotFound.With("no document %q", c.Param("id"))
	}
	v, err := s.clearance.Document(c.Request().Context(), viewer(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, viewOfDocument(v))
}

// viewer is the caller as clearance's read rule sees it.
func viewer(c echo.Context) clearance.Viewer {
	p := principal(c)
	return clearance.Viewer{Tenant: p.Tenant, Role: clearance.Role(p.Role)}
}

// readDocumentsBody reads a clearance POST body (capped) and its media type:
// application/json, or application/xml (text/xml too) for a CEB message.
func readDocumentsBody(c echo.Context) ([]byte, string, error) {
	r := c.Request()
	mt, _, err := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType))
	switch {
	case err != nil:
		return nil, "", errUnsupportedMedia.With("send Content-Type: application/json or application/xml")
	case mt == "text/xml":
		mt = echo.MIMEApplicationXML
	case mt != echo.MIMEApplicationJSON && mt != echo.MIMEApplicationXML:
		return nil, "", errUnsupportedMedia.With("send Content-Type: application/json or application/xml, not %s", mt)
	}
	raw, err := io.ReadAll(http.MaxBytesReader(c.Response(), r.Body, maxDocumentsBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, "", errBodyTooLarge.With("the body exceeds %d bytes", maxDocumentsBody)
		}
		return nil, "", fmt.Errorf("read request body: %w", err)
	}
	return raw, mt, nil
}
