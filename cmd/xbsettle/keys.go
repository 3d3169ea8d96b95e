package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/google/uuid"

	"github.com/xbsettle/xbsettle/api"
	"github.com/xbsettle/xbsettle/internal/config"
)

// keys: xbsettle keys create --role R [--tenant ID] | keys revoke --id UUID.
func keys(ctx context.Context, cfg config.Config, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return usageError("keys: want create or revoke")
	}
	switch args[0] {
	case "create":
		return createKey(ctx, cfg, args[1:], stdout)
	case "revoke":
		return revokeKey(ctx, cfg, args[1:], stdout)
	}
	return usageError("keys: unknown subcommand %q", args[0])
}

// createKey prints the key's details and then, alone on the last line, the
// key itself: it is shown this once and stored only as a hash.
func createKey(ctx context.Context, cfg config.Config, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("keys create", flag.ContinueOnError)
	role := fs.String("role", "", "admin, payment_institution, platform, carrier, bank or fx_bureau")
	tenant := fs.String("tenant", "", "the enterprise the key belongs to (all roles but admin and fx_bureau)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	r, err := api.ParseRole(*role)
	if err != nil {
		return usageError("keys create: --role: %v", err)
	}
	d, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer d.Close()
	p, key, err := api.NewKeyStore(d).Create(ctx, r, *tenant)
	if err != nil {
		return err
	}
	t := p.Tenant
	if t == "" {
		t = "(any: name it with X-Tenant-ID)"
	}
	_, err = fmt.Fprintf(stdout, "id:     %s\nrole:   %s\ntenant: %s\n%s\n", p.KeyID, p.Role, t, key)
	return err
}

func revokeKey(ctx context.Context, cfg config.Config, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("keys revoke", flag.ContinueOnError)
	idFlag := fs.String("id", "", "the key's id, as printed by keys create")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	id, err := uuid.Parse(*idFlag)
	if err != nil {
		return usageError("keys revoke: --id: %v", err)
	}
	d, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := api.NewKeyStore(d).Revoke(ctx, id); err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "revoked %s (running servers stop accepting it within 30 s)\n", id)
	return err
}
