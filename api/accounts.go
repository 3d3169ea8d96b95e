package api

import (
	"encoding/json"
	"net/http"
	"slices"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/xbsettle/xbsettle/ledger"
)

// accountInput is the body of POST /v1/accounts.
type accountInput struct {
	Code              string          `json:"code"`
	Currency          string          `json:"currency"`
	Kind              string          `json:"kind"`
	Flags             []string        `json:"flags"`
	OwnerEnterpriseID *string         `json:"owner_enterprise_id"`
	Metadata          json.RawMessage `json:"metadata"`
}

func (in *accountInput) parse() (ledger.NewAccount, error) {
	var f fields
	n := ledger.NewAccount{Code: in.Code, Kind: ledger.Kind(in.Kind), OwnerEnterpriseID: in.OwnerEnterpriseID, Metadata: in.Metadata}
	switch {
	case in.Code == "":
		f.add("code", "REQUIRED", "this field is required")
	case len(in.Code) > maxCodeLen || !printableASCII(in.Code):
		f.add("code", "CODE_INVALID", "at most %d printable ASCII characters (! to ~) without spaces, such as merchant:4403160001:USD", maxCodeLen)
	}
	if in.Currency == "" {
		f.add("currency", "REQUIRED", "this field is required")
	} else {
		n.Currency = parseCurrency(in.Currency, "currency", &f)
	}
	if !n.Kind.Valid() {
		f.add("kind", "KIND_INVALID", "want asset, liability, equity, income or expense")
	}
	for i, s := range in.Flags {
		switch fl := ledger.Flag(s); fl {
		case ledger.DebitsMustNotExceedCredits, ledger.CreditsMustNotExceedDebits:
			n.Flags = append(n.Flags, fl)
		default:
			f.add(indexed("flags", i), "FLAG_INVALID", "want debits_must_not_exceed_credits or credits_must_not_exceed_debits")
		}
	}
	if slices.Contains(n.Flags, ledger.DebitsMustNotExceedCredits) && slices.Contains(n.Flags, ledger.CreditsMustNotExceedDebits) {
		f.add("flags", "FLAGS_CONFLICT", "an account cannot limit both its debits and its credits")
	}
	if o := in.OwnerEnterpriseID; o != nil && !validTenant(*o) {
		f.add("owner_enterprise_id", "ENTERPRISE_INVALID", "want 1 to %d of A-Z a-z 0-9 . _ : -", maxTenantLen)
	}
	checkMetadata(in.Metadata, "metadata", &f)
	return n, f.err()
}

// printableASCII reports whether s is only ASCII from '!' to '~': an
// account code is a name people compare by eye, and outside ASCII a
// Cyrillic а is not an a.
func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '!' || s[i] > '~' {
			return false
		}
	}
	return true
}

// createAccount: POST /v1/accounts.
func (s *Server) createAccount(c echo.Context) error {
	var in accountInput
	if err := decodeBody(c, &in, maxBody, false); err != nil {
		return err
	}
	n, err := in.parse()
	if err != nil {
		return err
	}
	a, err := s.ledger.CreateAccount(c.Request().Context(), actor(c), n)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, viewAccount(a))
}

// getAccount: GET /v1/accounts/{id}.
func (s *Server) getAccount(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	a, err := s.ledger.Account(c.Request().Context(), actor(c).Tenant, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, viewAccount(a))
}

// listAccounts: GET /v1/accounts?code=&limit=&cursor=. The cursor is the
// last id of the previous page.
func (s *Server) listAccounts(c echo.Context) error {
	limit, cursor, err := page(c)
	if err != nil {
		return err
	}
	after := uuid.Nil
	if cursor != "" {
		if after, err = uuid.Parse(cursor); err != nil {
			return ledger.ErrBadCursor
		}
	}
	// One more than asked tells whether another page follows.
	as, err := s.ledger.Accounts(c.Request().Context(), actor(c).Tenant, c.QueryParam("code"), after, limit+1)
	if err != nil {
		return err
	}
	next := ""
	if len(as) > limit {
		as = as[:limit]
		next = as[limit-1].ID.String()
	}
	return c.JSON(http.StatusOK, newList(viewAll(as, viewAccount), next))
}

// statusInput is the body of PATCH /v1/accounts/{id}.
type statusInput struct {
	Status string `json:"status"`
}

// setAccountStatus: PATCH /v1/accounts/{id} freezes, reopens or closes.
func (s *Server) setAccountStatus(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	var in statusInput
	if err := decodeBody(c, &in, maxBody, false); err != nil {
		return err
	}
	to := ledger.Status(in.Status)
	if to != ledger.Open && to != ledger.Frozen && to != ledger.Closed {
		var f fields
		f.add("status", "STATUS_INVALID", "want open, frozen or closed")
		return f.err()
	}
	a, err := s.ledger.SetStatus(c.Request().Context(), actor(c), id, to)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, viewAccount(a))
}

// getBalance: GET /v1/accounts/{id}/balance?as_of=.
func (s *Server) getBalance(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	var f fields
	asOf := parseTime(c.QueryParam("as_of"), "as_of", &f)
	if err := f.err(); err != nil {
		return err
	}
	r, err := s.ledger.Balance(c.Request().Context(), actor(c).Tenant, id, asOf)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, viewBalance(r))
}

// listPostings: GET /v1/accounts/{id}/postings?limit=&cursor=.
func (s *Server) listPostings(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	limit, cursor, err := page(c)
	if err != nil {
		return err
	}
	lines, next, err := s.ledger.Postings(c.Request().Context(), actor(c).Tenant, id, cursor, limit)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, newList(viewAll(lines, viewPostingLine), next))
}
