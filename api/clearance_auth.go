package api

import "github.com/xbsettle/xbsettle/settlement/clearance"

// mayDeclare applies DESIGN §2 to one document: it may be submitted only by
// a party it names in that role — a platform for the orders, inventory
// declarations, cancellations and returns that name it as ebpCode or
// ebcCode, a payment institution for the payments whose payCode it is, a
// carrier for the waybills whose logisticsCode it is — or by an admin.
func mayDeclare(p Principal, d clearance.Document) bool {
	if p.Role == RoleAdmin {
		return true
	}
	switch d := d.(type) {
	case *clearance.Order:
		return p.Role == RolePlatform && (p.Tenant == d.EbpCode || p.Tenant == d.EbcCode)
	case *clearance.Inventory:
		return p.Role == RolePlatform && (p.Tenant == d.EbpCode || p.Tenant == d.EbcCode)
	case *clearance.Cancellation:
		return p.Role == RolePlatform && (p.Tenant == d.EbpCode || p.Tenant == d.EbcCode)
	case *clearance.Payment:
		return p.Role == RolePaymentInstitution && p.Tenant == d.PayCode
	case *clearance.Waybill:
		return p.Role == RoleCarrier && p.Tenant == d.LogisticsCode
	}
	return false
}

// declarantField names the field that must hold the declarant's tenant.
func declarantField(d clearance.Document) string {
	switch d.(type) {
	case *clearance.Payment:
		return "payCode"
	case *clearance.Waybill:
		return "logisticsCode"
	}
	return "ebpCode or ebcCode"
}

// seesEverything reports whether p reads every chain and document.
func seesEverything(p Principal) bool { return p.Role == RoleAdmin || p.Role == RoleFXBureau }
