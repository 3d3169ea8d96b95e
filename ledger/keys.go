package ledger

import "strings"

// Idempotency keys share one namespace per tenant (entries are unique by
// tenant and key), and the service derives keys there for its own work: a
// hold's resolution, a reversal without a client key, a settlement item's
// entry, a payout. A client that took such a key first would make that work
// fail for good, so each derived key starts with a key space the service
// reserves, and client keys in a reserved space are refused
// (ErrKeyReserved). The spaces are the prefixes the service has always
// used, so entries written before the rule keep replaying under the same
// keys (docs/architecture.md, "Idempotency keys").
type KeySpace string

// The reserved key spaces. Every key the service derives is built by
// ServiceKey from one of these; add a space here before deriving a new kind
// of key.
const (
	KeysHoldPost   KeySpace = KeySpace(HoldPost)   // hold_post:<hold id>
	KeysHoldVoid   KeySpace = KeySpace(HoldVoid)   // hold_void:<hold id>
	KeysHoldExpire KeySpace = KeySpace(HoldExpire) // hold_expire:<hold id>
	KeysReverse    KeySpace = "reverse"            // reverse:<entry id>
	KeysSettle     KeySpace = "settle"             // settle:<payCode>:<payTransactionId> (settlement)
	KeysPayout     KeySpace = "payout"             // payout:<enterprise>:<CCY>:<value date> (settlement)
)

var reservedSpaces = []KeySpace{KeysHoldPost, KeysHoldVoid, KeysHoldExpire, KeysReverse, KeysSettle, KeysPayout}

// ServiceKey is a key the service derives for its own work: the space, then
// the parts, joined by colons.
//
//	key := ledger.ServiceKey(ledger.KeysSettle, payCode, payTransactionID)
func ServiceKey(space KeySpace, parts ...string) string {
	return string(space) + ":" + strings.Join(parts, ":")
}

// IsServiceKey reports whether key lies in a reserved space.
func IsServiceKey(key string) bool {
	for _, sp := range reservedSpaces {
		if strings.HasPrefix(key, string(sp)+":") {
			return true
		}
	}
	return false
}

// CheckClientKey refuses a key a client sends that lies in a reserved
// space. Errors: ErrKeyReserved.
func CheckClientKey(key string) error {
	if !IsServiceKey(key) {
		return nil
	}
	prefix, _, _ := strings.Cut(key, ":")
	return ErrKeyReserved.With("idempotency key %q: the prefix %q: is reserved for keys the service derives", key, prefix)
}
