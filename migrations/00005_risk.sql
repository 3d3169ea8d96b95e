-- Risk (DESIGN §7, docs/risk.md): the enterprise registry's risk fields,
-- consents, the FX bureau's records (violations, reporting gaps), FX category
-- proposals and decisions, export-rebate classes and credit assessments; the
-- registration of held settlement items; and the indexes risk reads through.
--
-- Tenancy: every table that grows carries tenant_id first in its key. For an
-- enterprise's records (consents, violations, gaps, proposals, decisions, tax
-- classes) the tenant is the enterprise's customs code; for a credit
-- assessment it is the bank that asked. Classification runs are few and
-- global (one run serves every enterprise), like the settlement sweeps.

-- +goose Up

-- The registry clearance created gains what risk needs. registered_at is the
-- registration date on the business licence: tenure and the guidance period
-- count from it. Rows clearance's RegisterEnterprises made have none; risk
-- then counts from created_at (docs/risk.md, "Enterprises").
ALTER TABLE enterprises
    ADD COLUMN registered_at          date,
    ADD COLUMN created_by             text,
    ADD COLUMN tax_profile            jsonb,       -- risk.TaxProfile; NULL: not an exporter, no tax class
    ADD COLUMN tax_profile_updated_at timestamptz,
    ADD COLUMN tax_profile_updated_by text;

-- An enterprise lets one bank assess it until valid_until. Append-only: the
-- latest grant of a (enterprise, bank) pair is the one in force, so a
-- shorter grant also shortens (or, dated now, ends) an earlier one.
CREATE TABLE enterprise_consents (
    tenant_id   text NOT NULL REFERENCES enterprises (customs_code), -- the enterprise assessed
    id          uuid NOT NULL,
    bank        text NOT NULL REFERENCES enterprises (customs_code),
    valid_until timestamptz NOT NULL,
    granted_at  timestamptz NOT NULL,
    granted_by  text NOT NULL,                  -- the API key id
    PRIMARY KEY (tenant_id, id),
    CHECK (valid_until > granted_at)
);
CREATE INDEX enterprise_consents_pair ON enterprise_consents (tenant_id, bank, granted_at DESC, id DESC);
CREATE TRIGGER enterprise_consents_immutable BEFORE UPDATE OR DELETE ON enterprise_consents
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- FX violations recorded against an enterprise (rules VIOLATIONS and
-- SERIOUS_VIOLATIONS), keyed by the bureau's own reference.
CREATE TABLE fx_violations (
    tenant_id   text NOT NULL REFERENCES enterprises (customs_code),
    ref         text NOT NULL CHECK (ref <> '' AND length(ref) <= 64),
    severity    text NOT NULL CHECK (severity IN ('minor', 'serious')),
    occurred_on date NOT NULL,
    description text NOT NULL DEFAULT '' CHECK (length(description) <= 1000),
    recorded_at timestamptz NOT NULL,
    recorded_by text NOT NULL,
    PRIMARY KEY (tenant_id, ref)
);
CREATE TRIGGER fx_violations_immutable BEFORE UPDATE OR DELETE ON fx_violations
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- The reporting record: a month whose report is missing, or was filed late
-- (rules REPORTING_GAPS and LATE_REPORTS). One row per month and kind.
CREATE TABLE fx_reporting_gaps (
    tenant_id   text NOT NULL REFERENCES enterprises (customs_code),
    month       date NOT NULL CHECK (extract(day FROM month) = 1),
    kind        text NOT NULL CHECK (kind IN ('missing', 'late')),
    recorded_at timestamptz NOT NULL,
    recorded_by text NOT NULL,
    PRIMARY KEY (tenant_id, month, kind)
);
CREATE TRIGGER fx_reporting_gaps_immutable BEFORE UPDATE OR DELETE ON fx_reporting_gaps
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- A classification run (monthly, or on demand) is the outbox of its work:
-- pending until the worker has written every proposal; the sweeper enqueues
-- again a pending run whose task Redis lost.
CREATE TABLE fx_classification_runs (
    id                 uuid PRIMARY KEY,
    trigger            text NOT NULL CHECK (trigger IN ('scheduled', 'on_demand')),
    period_start       timestamptz NOT NULL,
    period_end         timestamptz NOT NULL,
    enterprises        text[] NOT NULL DEFAULT '{}', -- empty: every trading enterprise
    thresholds_version text NOT NULL,
    status             text NOT NULL CHECK (status IN ('pending', 'done')),
    requested_at       timestamptz NOT NULL,
    requested_by       text NOT NULL,
    enqueued_at        timestamptz,
    enqueues           integer NOT NULL DEFAULT 0,
    completed_at       timestamptz,
    proposals          integer NOT NULL DEFAULT 0,  -- written or kept by the run
    failures           integer NOT NULL DEFAULT 0,  -- enterprises that could not be classified
    last_error         text NOT NULL DEFAULT '',
    CHECK (period_start < period_end),
    CHECK ((status = 'done') = (completed_at IS NOT NULL))
);
-- The scheduled run of a period happens once, however often the scheduler fires.
CREATE UNIQUE INDEX fx_classification_runs_scheduled ON fx_classification_runs (period_start, period_end)
    WHERE trigger = 'scheduled';
CREATE INDEX fx_classification_runs_pending ON fx_classification_runs (coalesce(enqueued_at, requested_at))
    WHERE status = 'pending';

-- Proposals: what the rules propose for one enterprise and review period,
-- with every figure and reason, for FX bureau staff to decide. At most one
-- is pending per enterprise: a later run supersedes it unless it proposes
-- exactly the same (proposal_hash), so a repeated run changes nothing.
CREATE TABLE fx_classifications (
    tenant_id          text NOT NULL,            -- the enterprise
    id                 uuid NOT NULL,
    run_id             uuid NOT NULL,
    period_start       timestamptz NOT NULL,
    period_end         timestamptz NOT NULL,
    category           char(1) NOT NULL CHECK (category IN ('A', 'B', 'C')),
    reasons            jsonb NOT NULL,
    figures            jsonb NOT NULL,
    thresholds_version text NOT NULL,
    proposal_hash      bytea NOT NULL,
    status             text NOT NULL CHECK (status IN ('pending', 'approved', 'overridden', 'superseded')),
    created_at         timestamptz NOT NULL,
    closed_at          timestamptz,               -- decided or superseded
    PRIMARY KEY (tenant_id, id),
    CHECK ((status = 'pending') = (closed_at IS NULL))
);
CREATE UNIQUE INDEX fx_classifications_one_pending ON fx_classifications (tenant_id) WHERE status = 'pending';
-- A decision names the proposal by id alone (POST /v1/classifications/{id}/decision).
CREATE INDEX fx_classifications_by_id ON fx_classifications (id);
CREATE INDEX fx_classifications_history ON fx_classifications (tenant_id, created_at DESC);
-- The bureau's review queue, across enterprises, in id (creation) order.
CREATE INDEX fx_classifications_queue ON fx_classifications (status, id);

-- Decisions, append-only: the audit of who decided what, when and why. The
-- category in effect at an instant is the decision whose [effective_from,
-- effective_to) holds its Beijing date, the latest effective_from first.
CREATE TABLE fx_category_decisions (
    tenant_id         text NOT NULL,             -- the enterprise
    id                uuid NOT NULL,
    classification_id uuid NOT NULL,
    action            text NOT NULL CHECK (action IN ('approve', 'override')),
    category          char(1) NOT NULL CHECK (category IN ('A', 'B', 'C')),
    proposed_category char(1) NOT NULL CHECK (proposed_category IN ('A', 'B', 'C')),
    reason            text NOT NULL DEFAULT '' CHECK (length(reason) <= 2000),
    effective_from    date NOT NULL,
    effective_to      date NOT NULL,
    decided_by        text NOT NULL,             -- the API key id
    decided_role      text NOT NULL,
    decided_at        timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, classification_id),       -- a proposal is decided once
    CHECK (effective_from < effective_to),
    CHECK (action = 'approve' OR reason <> ''),
    CHECK (action = 'override' OR category = proposed_category)
);
CREATE INDEX fx_category_decisions_effective ON fx_category_decisions (tenant_id, effective_from DESC, decided_at DESC);
CREATE TRIGGER fx_category_decisions_immutable BEFORE UPDATE OR DELETE ON fx_category_decisions
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- Export-rebate classes, append-only: a row whenever the class or its reasons
-- change (a new FX category, a new tax profile); the latest is in force.
CREATE TABLE tax_classifications (
    tenant_id       text NOT NULL,               -- the enterprise
    id              uuid NOT NULL,
    class           smallint NOT NULL CHECK (class BETWEEN 1 AND 4),
    processing_days smallint NOT NULL,
    reasons         jsonb NOT NULL,
    rules_version   text NOT NULL,
    fx_category     char(1) NOT NULL CHECK (fx_category IN ('A', 'B', 'C')),
    result_hash     bytea NOT NULL,              -- class, reasons, version and category: tells a change
    computed_at     timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX tax_classifications_latest ON tax_classifications (tenant_id, computed_at DESC, id DESC);
CREATE TRIGGER tax_classifications_immutable BEFORE UPDATE OR DELETE ON tax_classifications
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- Credit assessments: stored first (pending) and processed by a worker; the
-- row is its own outbox. The result keeps the model version, the features'
-- canonical form and their hash, so a score can be reproduced.
CREATE TABLE credit_assessments (
    tenant_id       text NOT NULL,               -- the bank that asked
    id              uuid NOT NULL,
    enterprise      text NOT NULL,
    idempotency_key text,
    as_of           timestamptz NOT NULL,
    consent_id      uuid NOT NULL,
    status          text NOT NULL CHECK (status IN ('pending', 'done', 'failed')),
    requested_at    timestamptz NOT NULL,
    requested_by    text NOT NULL,
    enqueued_at     timestamptz,
    enqueues        integer NOT NULL DEFAULT 0,
    model_version   text,
    score           integer,
    grade           text,
    points          numeric(12, 4),
    limit_cny       numeric(19, 2),
    reasons         jsonb,
    breakdown       jsonb,
    features        jsonb,
    canonical       text,
    input_hash      text,
    chains          bigint,                      -- chain facts read
    funds           bigint,                      -- fund facts read
    completed_at    timestamptz,
    error           text NOT NULL DEFAULT '',
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, idempotency_key),
    CHECK ((status = 'pending') = (completed_at IS NULL)),
    CHECK (status <> 'done' OR (score IS NOT NULL AND input_hash IS NOT NULL))
);
-- An admin reads an assessment by id alone.
CREATE INDEX credit_assessments_by_id ON credit_assessments (id);
CREATE INDEX credit_assessments_pending ON credit_assessments (coalesce(enqueued_at, requested_at)) WHERE status = 'pending';

-- FX bureau registration of a held (category C) settlement item: release it
-- to settle, or refuse it. One per item; the item's events record the move.
CREATE TABLE settlement_registrations (
    tenant_id     text NOT NULL,                 -- the payment institution
    item_id       uuid NOT NULL,
    action        text NOT NULL CHECK (action IN ('release', 'refuse')),
    reference     text NOT NULL CHECK (reference <> '' AND length(reference) <= 64),
    reason        text NOT NULL DEFAULT '' CHECK (length(reason) <= 2000),
    registered_by text NOT NULL,
    registered_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, item_id)
);
CREATE TRIGGER settlement_registrations_immutable BEFORE UPDATE OR DELETE ON settlement_registrations
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- What risk reads of the other packages' tables.
--
-- A seller's chains by order time, for the features' windows and the review
-- period (trade_chains_seller is by verified_at).
CREATE INDEX trade_chains_seller_orders ON trade_chains (ebc_code, order_time);
-- An enterprise's settled fund flows: its items that posted an entry.
CREATE INDEX settlement_items_enterprise ON settlement_items (enterprise) WHERE status IN ('posted', 'batched', 'settled');

-- Chains that never verified have no trade_chains row, so nothing names
-- their seller but their documents. clearance_chains.ebc_code is filled by a
-- trigger when the matcher sets a chain's status (first time, or a change),
-- from the order in force (else the inventory), so risk finds a seller's
-- rejected and incomplete chains through a small partial index without
-- reading documents. Cost to the matcher: one index lookup per status change.
ALTER TABLE clearance_chains ADD COLUMN ebc_code text;
CREATE INDEX clearance_chains_seller_unverified ON clearance_chains (ebc_code, created_at)
    WHERE status IN ('incomplete', 'mismatched');

-- +goose StatementBegin
CREATE FUNCTION clearance_chain_seller() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.ebc_code IS NULL OR NEW.status IS DISTINCT FROM OLD.status THEN
        NEW.ebc_code := coalesce((
            SELECT d.body ->> 'ebcCode' FROM clearance_documents d
            WHERE d.tenant_id = NEW.tenant_id AND d.order_no = NEW.order_no
              AND d.kind IN ('ORDER', 'INVENTORY') AND d.app_type <> 3 AND d.body ? 'ebcCode'
            ORDER BY d.kind = 'ORDER' DESC, d.app_time DESC, d.app_type DESC, d.guid DESC
            LIMIT 1), NEW.ebc_code);
    END IF;
    RETURN NEW;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER clearance_chains_seller BEFORE UPDATE OF status ON clearance_chains
    FOR EACH ROW WHEN (NEW.status IS NOT NULL) EXECUTE FUNCTION clearance_chain_seller();
-- Chains evaluated before this migration.
UPDATE clearance_chains c SET ebc_code = (
    SELECT d.body ->> 'ebcCode' FROM clearance_documents d
    WHERE d.tenant_id = c.tenant_id AND d.order_no = c.order_no
      AND d.kind IN ('ORDER', 'INVENTORY') AND d.app_type <> 3 AND d.body ? 'ebcCode'
    ORDER BY d.kind = 'ORDER' DESC, d.app_time DESC, d.app_type DESC, d.guid DESC
    LIMIT 1)
WHERE c.status IS NOT NULL;

-- +goose Down
DROP TRIGGER clearance_chains_seller ON clearance_chains;
DROP FUNCTION clearance_chain_seller();
DROP INDEX clearance_chains_seller_unverified, settlement_items_enterprise, trade_chains_seller_orders;
ALTER TABLE clearance_chains DROP COLUMN ebc_code;
DROP TABLE settlement_registrations, credit_assessments, tax_classifications, fx_category_decisions,
    fx_classifications, fx_classification_runs, fx_reporting_gaps, fx_violations, enterprise_consents;
ALTER TABLE enterprises DROP COLUMN registered_at, DROP COLUMN created_by, DROP COLUMN tax_profile,
    DROP COLUMN tax_profile_updated_at, DROP COLUMN tax_profile_updated_by;
