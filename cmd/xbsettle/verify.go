package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/xbsettle/xbsettle/internal/config"
	"github.com/xbsettle/xbsettle/ledger"
)

// errAltered makes verify exit 1.
var errAltered = errors.New("the audit chain names altered entries, or entries overdue for sealing")

// verify: xbsettle verify [-seal] checks every tenant's hash chain, prints
// a line per tenant and one per altered entry, and fails if any was altered
// or was committed more than ledger.SealLag ago and is still not sealed.
func verify(ctx context.Context, cfg config.Config, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	seal := fs.Bool("seal", false, "seal the entries not sealed yet before checking")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	d, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer d.Close()
	svc := ledger.NewService(d, nil)
	if *seal {
		if err := svc.SealAll(ctx); err != nil {
			return err
		}
	}
	tenants, err := svc.Tenants(ctx)
	if err != nil {
		return err
	}
	altered := 0
	for _, t := range tenants {
		n, err := verifyTenant(ctx, svc, t, stdout)
		if err != nil {
			return fmt.Errorf("verify tenant %s: %w", t, err)
		}
		altered += n
	}
	fmt.Fprintf(stdout, "%d tenants checked, %d entries altered or overdue for sealing\n", len(tenants), altered)
	if altered > 0 {
		return errAltered
	}
	return nil
}

// verifyTenant checks a tenant's whole chain, page by page, prints what it
// finds and returns how many entries fail it: those altered, and as many as
// are overdue for sealing.
func verifyTenant(ctx context.Context, svc *ledger.Service, tenant string, stdout io.Writer) (int, error) {
	var sealed int64
	var unsealed, overdue int64
	var altered []ledger.Altered
	for after := int64(0); ; {
		r, err := svc.Verify(ctx, tenant, after, ledger.MaxVerifyPage)
		if err != nil {
			return 0, err
		}
		sealed, unsealed, overdue = sealed+r.Sealed, r.Unsealed, r.Overdue
		altered = append(altered, r.Altered...)
		if r.NextAfter == nil {
			break
		}
		after = *r.NextAfter
	}
	state := "ok"
	switch {
	case len(altered) > 0:
		state = "ALTERED"
	case overdue > 0:
		state = "NOT SEALED"
	}
	fmt.Fprintf(stdout, "tenant %s: %s, %d sealed, %d not sealed yet (%d overdue)\n", tenant, state, sealed, unsealed, overdue)
	for _, a := range altered {
		fmt.Fprintf(stdout, "  altered entry %s at position %d: %s\n", a.EntryID, a.Position, a.Reason)
	}
	return len(altered) + int(overdue), nil
}
