// Package migrations holds the numbered SQL migrations, embedded in the binary
// and applied by `xbsettle migrate` and at start (see internal/db.Migrate).
package migrations

import "embed"

// FS holds every *.sql file of this folder.
//
//go:embed *.sql
var FS embed.FS
