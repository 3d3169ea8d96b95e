-- Three-document clearance (DESIGN §5, docs/clearance.md): documents and their
-- versions, chains (the matching outbox), verdict history, the annual quota
-- ledger, verified trade chains, the enterprise registry and tax rates.
--
-- A chain is keyed by (ebpCode, orderNo) and its tenant is the platform:
-- tenant_id = ebpCode on every chain table. Two tables are keyed otherwise, on
-- purpose: the quota is per buyer across platforms (distributed by buyer_hash),
-- and a waybill whose chain is not known yet waits under its carrier's tenant.
-- enterprises and hs_tax_rates are small reference tables.

-- +goose Up
CREATE TABLE enterprises (
    customs_code               text PRIMARY KEY CHECK (customs_code ~ '^[0-9A-Z]{10}$'),
    name                       text NOT NULL CHECK (name <> ''),
    kind                       text NOT NULL CHECK (kind IN ('seller', 'platform', 'carrier', 'payment_institution', 'bank')),
    unified_social_credit_code text CHECK (unified_social_credit_code ~ '^[0-9A-Z]{18}$'),
    created_at                 timestamptz NOT NULL DEFAULT now()
);

-- Rates by HS heading (first 4 digits of the inventory line's gcode); '*' is
-- the default for every heading not listed. Heading-level on purpose: price
-- thresholds (e.g. high-end cosmetics) are not modelled.
CREATE TABLE hs_tax_rates (
    heading          text PRIMARY KEY CHECK (heading ~ '^[0-9]{4}$' OR heading = '*'),
    vat_rate         numeric(6, 5) NOT NULL CHECK (vat_rate >= 0 AND vat_rate < 1),
    consumption_rate numeric(6, 5) NOT NULL CHECK (consumption_rate >= 0 AND consumption_rate < 1),
    description      text NOT NULL
);
INSERT INTO hs_tax_rates (heading, vat_rate, consumption_rate, description) VALUES
    ('*',    0.13, 0,    'default: VAT 13%, no consumption tax'),
    ('3303', 0.13, 0.15, 'perfumes and toilet waters: consumption tax 15%'),
    ('3304', 0.13, 0.15, 'beauty and make-up preparations (cosmetics): consumption tax 15%'),
    ('2204', 0.13, 0.10, 'wine of fresh grapes: consumption tax 10%'),
    ('7113', 0.13, 0.10, 'articles of jewellery: consumption tax 10%'),
    ('9101', 0.13, 0.20, 'watches with precious-metal cases: consumption tax 20%'),
    ('4901', 0.09, 0,    'printed books: VAT 9%');

-- Every version of every document, append-only. The version in force per
-- (chain, kind) is the first by app_time DESC, app_type DESC, guid DESC
-- (clearance.Supersedes). Personal ID numbers are never stored: body has
-- them masked, id_hash is their keyed HMAC.
CREATE TABLE clearance_documents (
    id               uuid PRIMARY KEY,
    tenant_id        text NOT NULL,             -- the chain's ebpCode
    order_no         text NOT NULL,
    kind             text NOT NULL CHECK (kind IN ('ORDER', 'PAYMENT', 'WAYBILL', 'INVENTORY', 'CANCELLATION', 'RETURN')),
    message          text NOT NULL,             -- CEB311 …
    guid             text NOT NULL,
    app_type         smallint NOT NULL CHECK (app_type BETWEEN 1 AND 3),
    app_time         timestamptz NOT NULL,
    logistics_code   text NOT NULL DEFAULT '',  -- waybills and inventories: how waybills find their chain
    logistics_no     text NOT NULL DEFAULT '',
    body             jsonb NOT NULL,
    id_hash          text,
    id_valid         boolean,
    body_hash        bytea NOT NULL,            -- tells a replay (same) from a conflict (different)
    submitted_by     text NOT NULL,             -- the API key id
    submitter_tenant text NOT NULL,             -- the key's tenant, '' for an admin
    created_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, order_no, kind, guid, app_time, app_type)
);
-- How a waybill without ebpCode finds its chain (docs/clearance.md, "Waybills").
CREATE INDEX clearance_documents_refs ON clearance_documents (order_no) WHERE kind IN ('WAYBILL', 'INVENTORY');
CREATE TRIGGER clearance_documents_immutable BEFORE UPDATE OR DELETE ON clearance_documents
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- Waybills without ebpCode whose chain is not known yet (docs/clearance.md,
-- "Waybills"). Attaching one moves its row into clearance_documents, id kept.
CREATE TABLE clearance_parked_waybills (
    id               uuid PRIMARY KEY,
    tenant_id        text NOT NULL,             -- the carrier's logisticsCode
    order_no         text NOT NULL,
    logistics_no     text NOT NULL,
    message          text NOT NULL,
    guid             text NOT NULL,
    app_type         smallint NOT NULL,
    app_time         timestamptz NOT NULL,
    body             jsonb NOT NULL,
    body_hash        bytea NOT NULL,
    submitted_by     text NOT NULL,
    submitter_tenant text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, logistics_no, guid, app_time, app_type)
);
CREATE INDEX clearance_parked_waybills_order ON clearance_parked_waybills (order_no);

-- One row per chain. dirty_version is bumped in the transaction that stores
-- a version, clean_version is the dirty_version last evaluated: a chain with
-- dirty_version > clean_version is in the outbox, and dirty_since says since
-- when (NULL when clean). The sweeper's index is on dirty_since alone, so
-- that a bump of a chain already dirty changes no indexed column: such an
-- update is HOT (no index entry written), and fillfactor leaves the room on
-- the page it needs. Every document batch bumps its chains.
CREATE TABLE clearance_chains (
    tenant_id       text NOT NULL,
    order_no        text NOT NULL,
    direction       text CHECK (direction IN ('import', 'export')),
    dirty_version   bigint NOT NULL DEFAULT 0,
    clean_version   bigint NOT NULL DEFAULT 0,
    dirty_since     timestamptz,
    verdict_version integer NOT NULL DEFAULT 0,
    verdict_hash    bytea,                      -- of the verdict in force: a new version only when it changes
    status          text CHECK (status IN ('incomplete', 'verified', 'mismatched')),
    state           text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'cancelled', 'returned')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, order_no),
    CHECK (clean_version <= dirty_version),
    CHECK ((dirty_since IS NULL) = (dirty_version = clean_version))
) WITH (fillfactor = 80);
CREATE INDEX clearance_chains_order_no ON clearance_chains (order_no);
CREATE INDEX clearance_chains_dirty ON clearance_chains (dirty_since) WHERE dirty_since IS NOT NULL;

-- Verdict history: a new version only when the verdict or the state changes.
CREATE TABLE clearance_verdicts (
    tenant_id     text NOT NULL,
    order_no      text NOT NULL,
    version       integer NOT NULL CHECK (version >= 1),
    status        text NOT NULL CHECK (status IN ('incomplete', 'verified', 'mismatched')),
    state         text NOT NULL CHECK (state IN ('open', 'cancelled', 'returned')),
    verdict       jsonb NOT NULL,
    chain_version bigint NOT NULL,            -- the dirty_version evaluated
    evaluated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, order_no, version)
);
CREATE TRIGGER clearance_verdicts_immutable BEFORE UPDATE OR DELETE ON clearance_verdicts
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- The annual limit's ledger: one row per (buyer, calendar year, chain). A
-- chain uses quota while it is verified and open; re-evaluation overwrites
-- its own row, so nothing is counted twice. clearance_buyer_years is the row
-- an evaluation locks to serialize one buyer's year.
CREATE TABLE clearance_buyer_years (
    buyer_hash text NOT NULL,
    year       integer NOT NULL,
    PRIMARY KEY (buyer_hash, year)
);
CREATE TABLE clearance_quota_uses (
    buyer_hash text NOT NULL,
    year       integer NOT NULL,
    tenant_id  text NOT NULL,
    order_no   text NOT NULL,
    amount     numeric(19, 5) NOT NULL CHECK (amount >= 0),
    state      text NOT NULL CHECK (state IN ('used', 'released')),
    reason     text NOT NULL DEFAULT '',       -- why released: unverified, cancelled, returned
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (buyer_hash, year, tenant_id, order_no)
);
CREATE INDEX clearance_quota_uses_chain ON clearance_quota_uses (tenant_id, order_no);

-- What settlement and risk need of a chain that is, or was, verified.
CREATE TABLE trade_chains (
    tenant_id          text NOT NULL,          -- ebpCode
    order_no           text NOT NULL,
    ebc_code           text NOT NULL,
    pay_code           text NOT NULL,
    pay_transaction_id text NOT NULL,          -- import payTransactionId, export payNo
    logistics_code     text NOT NULL,
    logistics_no       text NOT NULL,
    buyer_id_hash      text,                   -- import only
    direction          text NOT NULL CHECK (direction IN ('import', 'export')),
    trade_mode         text NOT NULL,
    currency           char(3) NOT NULL,
    amount             numeric(19, 5) NOT NULL, -- paid (import) or received (export), in currency
    amount_cny         numeric(19, 5),          -- NULL when currency is not CNY: settlement converts
    goods_value        numeric(19, 5) NOT NULL,
    tax                numeric(19, 5) NOT NULL,
    order_time         timestamptz NOT NULL,
    pay_time           timestamptz,
    declaration_date   date,
    hs_chapters        text[] NOT NULL,
    countries          text[] NOT NULL,
    status             text NOT NULL CHECK (status IN ('verified', 'unverified')),
    reason             text NOT NULL DEFAULT '', -- unverified: MISMATCHED, INCOMPLETE, CANCELLED, RETURNED
    rule_codes         text[] NOT NULL DEFAULT '{}',
    verified_at        timestamptz NOT NULL,
    unverified_at      timestamptz,
    version            integer NOT NULL CHECK (version >= 1),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, order_no)
);
CREATE INDEX trade_chains_seller ON trade_chains (ebc_code, verified_at);

-- +goose Down
DROP TABLE trade_chains, clearance_quota_uses, clearance_buyer_years, clearance_verdicts,
    clearance_chains, clearance_parked_waybills, clearance_documents, hs_tax_rates, enterprises;
