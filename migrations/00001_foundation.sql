-- Foundation: API keys and the double-entry ledger (DESIGN §4).
-- Every table that grows carries tenant_id so it can be distributed by tenant later.

-- +goose Up
CREATE TABLE api_keys (
    id          uuid PRIMARY KEY,
    prefix      text NOT NULL UNIQUE,           -- the public part of the key, used to find it
    secret_hash bytea NOT NULL,                  -- sha256 of the whole key; keys are random, so no slow hash is needed
    role        text NOT NULL CHECK (role IN ('admin', 'payment_institution', 'platform', 'carrier', 'bank', 'fx_bureau')),
    tenant_id   text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz,
    CHECK (tenant_id IS NOT NULL OR role IN ('admin', 'fx_bureau'))
);

CREATE TABLE accounts (
    id                             uuid PRIMARY KEY,
    tenant_id                      text NOT NULL,
    code                           text NOT NULL,
    currency                       char(3) NOT NULL,
    kind                           text NOT NULL CHECK (kind IN ('asset', 'liability', 'equity', 'income', 'expense')),
    owner_enterprise_id            text,
    debits_must_not_exceed_credits boolean NOT NULL DEFAULT false,
    credits_must_not_exceed_debits boolean NOT NULL DEFAULT false,
    status                         text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'frozen', 'closed')),
    metadata                       jsonb NOT NULL DEFAULT '{}',
    posted_debits                  numeric(38, 4) NOT NULL DEFAULT 0 CHECK (posted_debits >= 0),
    posted_credits                 numeric(38, 4) NOT NULL DEFAULT 0 CHECK (posted_credits >= 0),
    pending_debits                 numeric(38, 4) NOT NULL DEFAULT 0 CHECK (pending_debits >= 0),
    pending_credits                numeric(38, 4) NOT NULL DEFAULT 0 CHECK (pending_credits >= 0),
    created_at                     timestamptz NOT NULL DEFAULT now(),
    updated_at                     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, code),
    CHECK (NOT (debits_must_not_exceed_credits AND credits_must_not_exceed_debits)),
    -- The flags are checked by the service; these make the database refuse a
    -- balance that breaks them even if a bug let one through.
    CHECK (NOT debits_must_not_exceed_credits OR posted_debits + pending_debits <= posted_credits),
    CHECK (NOT credits_must_not_exceed_debits OR posted_credits + pending_credits <= posted_debits)
) WITH (fillfactor = 50); -- room on the page lets balance updates be HOT: no new index entries

CREATE TABLE entries (
    id                uuid PRIMARY KEY,
    tenant_id         text NOT NULL,
    seq               bigint GENERATED ALWAYS AS IDENTITY,
    txid              xid8 NOT NULL DEFAULT pg_current_xact_id(), -- orders the audit chain (see ledger/seal.go)
    idempotency_key   text NOT NULL,
    request_hash      bytea NOT NULL,
    kind              text NOT NULL CHECK (kind IN ('standard', 'hold', 'hold_post', 'hold_void', 'hold_expire', 'reversal')),
    hold_id           uuid,
    reverses_entry_id uuid REFERENCES entries (id),
    effective_at      timestamptz NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    description       text NOT NULL DEFAULT '',
    metadata          jsonb NOT NULL DEFAULT '{}',
    created_by        text NOT NULL,
    UNIQUE (tenant_id, idempotency_key)
);
CREATE INDEX entries_chain_order ON entries (tenant_id, txid, seq);
-- An entry is reversed at most once. Partial, so ordinary entries cost no index entry.
CREATE UNIQUE INDEX entries_reversed_once ON entries (reverses_entry_id) WHERE reverses_entry_id IS NOT NULL;

-- No foreign keys on postings: they are written in the same statement as their
-- entry, against accounts the writer holds locked, and never change; a
-- per-row referential check would cost more than the rest of the insert.
CREATE TABLE postings (
    entry_id     uuid NOT NULL,
    idx          smallint NOT NULL,
    tenant_id    text NOT NULL,
    account_id   uuid NOT NULL,
    direction    text NOT NULL CHECK (direction IN ('debit', 'credit')),
    -- posted moves the posted balance; pending reserves (a hold); release gives a reservation back.
    phase        text NOT NULL CHECK (phase IN ('posted', 'pending', 'release')),
    amount       numeric(22, 4) NOT NULL CHECK (amount > 0),
    currency     char(3) NOT NULL,
    effective_at timestamptz NOT NULL,
    PRIMARY KEY (entry_id, idx)
);
CREATE INDEX postings_account_time ON postings (account_id, effective_at) INCLUDE (direction, phase, amount);

CREATE TABLE holds (
    id                uuid PRIMARY KEY REFERENCES entries (id), -- a hold is named by its pending entry
    tenant_id         text NOT NULL,
    status            text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'posted', 'voided', 'expired')),
    expires_at        timestamptz,
    resolved_entry_id uuid REFERENCES entries (id),
    resolved_at       timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    CHECK ((status = 'pending') = (resolved_entry_id IS NULL))
);
CREATE INDEX holds_due ON holds (expires_at) WHERE status = 'pending';

-- The per-tenant audit chain: hash = sha256(prev_hash || canonical(entry)).
CREATE TABLE entry_seals (
    tenant_id text NOT NULL,
    position  bigint NOT NULL,
    entry_id  uuid NOT NULL UNIQUE REFERENCES entries (id),
    prev_hash bytea NOT NULL,
    hash      bytea NOT NULL,
    sealed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, position)
);

CREATE TABLE seal_heads (
    tenant_id text PRIMARY KEY,
    position  bigint NOT NULL DEFAULT 0,
    hash      bytea NOT NULL,
    last_txid xid8 NOT NULL DEFAULT '0',
    last_seq  bigint NOT NULL DEFAULT 0
);

-- +goose StatementBegin
CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'restrict_violation';
END
$$;
-- +goose StatementEnd

CREATE TRIGGER entries_immutable BEFORE UPDATE OR DELETE ON entries
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER entries_no_truncate BEFORE TRUNCATE ON entries
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER postings_immutable BEFORE UPDATE OR DELETE ON postings
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER postings_no_truncate BEFORE TRUNCATE ON postings
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
-- +goose StatementBegin
CREATE FUNCTION hold_resolves_once() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status <> 'pending' OR OLD.id <> NEW.id OR OLD.tenant_id <> NEW.tenant_id THEN
        RAISE EXCEPTION 'hold % is already %', OLD.id, OLD.status USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER holds_resolve_once BEFORE UPDATE ON holds
    FOR EACH ROW EXECUTE FUNCTION hold_resolves_once();
CREATE TRIGGER holds_kept BEFORE DELETE ON holds
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER entry_seals_immutable BEFORE UPDATE OR DELETE ON entry_seals
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- +goose Down
DROP TABLE seal_heads, entry_seals, holds, postings, entries, accounts, api_keys;
DROP FUNCTION refuse_change(), hold_resolves_once();
