package clearance

import (
	"fmt"
	"slices"
	"time"
)

// Who may declare, supersede and read what in a chain (docs/clearance.md,
// "Who may declare, supersede and read"). A chain belongs to the platform of
// its key (ebpCode):
//
//   - its order, inventory, cancellation and return are declared by that
//     platform;
//   - its payment by the institution its order names (payCode) or, before an
//     order names one, by the first institution that declared a payment;
//   - its waybill by the carrier its inventory names (logisticsCode) or,
//     before an inventory names one, by the first carrier;
//   - a version is superseded only by a version of the same declarant, since
//     only the chain's party declares versions of each kind;
//   - the chain and its documents are read by its platform, by the parties
//     its order and inventory in force name, by fx_bureau and by admin.
//
// What a document alone decides (its declarant is the key's tenant, the
// platform its ebpCode) is checked here, before anything is written; what
// depends on the chain (which institution and carrier are its) is decided
// by the statement that stores the versions, on the chain row it locks
// (insertDocumentsSQL): of two racing first payments only one commits.

// Role is what an API key may do, as DESIGN §2 names the roles.
type Role string

// The roles clearance tells apart.
const (
	RoleAdmin              Role = "admin"
	RoleFXBureau           Role = "fx_bureau"
	RolePlatform           Role = "platform"
	RolePaymentInstitution Role = "payment_institution"
	RoleCarrier            Role = "carrier"
)

// MaxAppTimeAhead is how far in the future a document's appTime may be: a
// sender's clock a little ahead is tolerated, a version dated years ahead,
// which no later version could supersede, is not (APP_TIME_FUTURE).
const MaxAppTimeAhead = 5 * time.Minute

// Submitter is who stores documents: recorded on every version.
type Submitter struct {
	By     string // the API key id (or a worker's name)
	Tenant string // the key's tenant; "" for an admin
	Role   Role
}

// Viewer is who reads chains and documents.
type Viewer struct {
	Tenant string // "" for fx_bureau and admin
	Role   Role
}

// seesEverything reports whether v reads every chain and document.
func (v Viewer) seesEverything() bool { return v.Role == RoleAdmin || v.Role == RoleFXBureau }

// mayDeclare checks that by may declare d, the document at index i of its
// request, as far as d alone tells. An admin acts for the parties the
// document names. Anyone else must be the party the document names as its
// declarant, in that role (ErrNotDeclarant); a platform document must be
// declared by its platform, and a party it names otherwise (its seller,
// its agent) is refused with ErrChainPartyConflict.
func (by Submitter) mayDeclare(i int, d Document) error {
	if by.Role == RoleAdmin {
		return nil
	}
	role, declarant, field := declarantOf(d)
	switch {
	case by.Role == role && by.Tenant == declarant:
		return nil
	case by.Role == RolePlatform && role == RolePlatform && by.Tenant != "" && slices.Contains(Parties(d), by.Tenant):
		k := d.Key()
		return ErrChainPartyConflict.With("documents[%d]: chain %s/%s belongs to platform %s: only it declares its %s, not %s",
			i, k.EbpCode, k.OrderNo, k.EbpCode, d.Header().Message.Name(), by.Tenant)
	}
	return ErrNotDeclarant.With("documents[%d]: a %s key of %q may not declare this %s (it must name the key's tenant as its %s)",
		i, by.Role, by.Tenant, d.Header().Message.Name(), field)
}

// declarantOf names who declares d: the role, the code and the field that
// holds it.
func declarantOf(d Document) (Role, string, string) {
	switch d := d.(type) {
	case *Payment:
		return RolePaymentInstitution, d.PayCode, "payCode"
	case *Waybill:
		return RoleCarrier, d.LogisticsCode, "logisticsCode"
	}
	return RolePlatform, d.Key().EbpCode, "ebpCode"
}

// Parties are the enterprise codes a document names.
func Parties(d Document) []string {
	var codes []string
	switch d := d.(type) {
	case *Order:
		codes = []string{d.EbpCode, d.EbcCode, d.PayCode}
	case *Payment:
		codes = []string{d.PayCode, d.EbpCode}
	case *Waybill:
		codes = []string{d.LogisticsCode, d.EbpCode}
	case *Inventory:
		codes = []string{d.EbpCode, d.EbcCode, d.LogisticsCode, d.AgentCode}
	case *Cancellation:
		codes = []string{d.EbpCode, d.EbcCode, d.LogisticsCode, d.AgentCode}
	}
	return slices.DeleteFunc(codes, func(c string) bool { return c == "" })
}

// readableSQL is the condition that a viewer reads chain c: every chain
// (the first argument, fx_bureau and admin), or the viewer's tenant (the
// second) is the chain's platform or a party that the chain's order or
// inventory in force names. args are the two placeholders, e.g. "$3", "$4".
func readableSQL(all, tenant string) string {
	return fmt.Sprintf(`(%[1]s OR (%[2]s <> '' AND (c.tenant_id = %[2]s OR EXISTS (
	SELECT 1 FROM (SELECT DISTINCT ON (p.kind) p.body FROM clearance_documents p
		WHERE p.tenant_id = c.tenant_id AND p.order_no = c.order_no AND p.kind IN ('ORDER', 'INVENTORY')
		ORDER BY p.kind, p.app_time DESC, p.app_type DESC, p.guid DESC) p
	WHERE %[2]s IN (p.body ->> 'ebcCode', p.body ->> 'payCode', p.body ->> 'logisticsCode', p.body ->> 'agentCode')))))`, all, tenant)
}
