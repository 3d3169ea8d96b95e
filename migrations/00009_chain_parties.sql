-- Who may declare a chain's payment and waybill (docs/clearance.md, "Who may
-- declare, supersede and read"). The chain row keeps it, because the row is
-- what every writer locks: the statement that stores versions decides, on the
-- row as the last committed writer left it, whether their institution or
-- carrier is the chain's, so of two racing "first" payments only one commits.
--
-- A naming is the version of the order (payCode) or inventory (logisticsCode)
-- latest by Supersedes that names a party: its (app_time, app_type, guid)
-- first, so GREATEST of two namings is the one in force. Before any order or
-- inventory names one, the first institution or carrier that declared a
-- payment or waybill is the chain's (payment_first, waybill_first).

-- +goose Up
CREATE TYPE clearance_naming AS (app_time timestamptz, app_type smallint, guid text, party text);

ALTER TABLE clearance_chains
    ADD COLUMN payment_named clearance_naming,
    ADD COLUMN payment_first text,
    ADD COLUMN waybill_named clearance_naming,
    ADD COLUMN waybill_first text;

-- clearance_party_holds: whether versions claiming party claim (NULL: none)
-- agree with the chain's party once they are stored, named the latest naming
-- (their own included) and first the chain's first claimant before them.
CREATE FUNCTION clearance_party_holds(named clearance_naming, first text, claim text) RETURNS boolean
    LANGUAGE sql IMMUTABLE AS $$ SELECT claim IS NULL OR claim = coalesce((named).party, first, claim) $$;

-- Chains stored before: their parties from their documents.
UPDATE clearance_chains c SET
    payment_named = (SELECT ROW(d.app_time, d.app_type, d.guid, d.body ->> 'payCode')::clearance_naming
        FROM clearance_documents d
        WHERE d.tenant_id = c.tenant_id AND d.order_no = c.order_no AND d.kind = 'ORDER' AND coalesce(d.body ->> 'payCode', '') <> ''
        ORDER BY d.app_time DESC, d.app_type DESC, d.guid DESC LIMIT 1),
    payment_first = (SELECT d.body ->> 'payCode' FROM clearance_documents d
        WHERE d.tenant_id = c.tenant_id AND d.order_no = c.order_no AND d.kind = 'PAYMENT'
        ORDER BY d.created_at, d.id LIMIT 1),
    waybill_named = (SELECT ROW(d.app_time, d.app_type, d.guid, d.logistics_code)::clearance_naming
        FROM clearance_documents d
        WHERE d.tenant_id = c.tenant_id AND d.order_no = c.order_no AND d.kind = 'INVENTORY' AND d.logistics_code <> ''
        ORDER BY d.app_time DESC, d.app_type DESC, d.guid DESC LIMIT 1),
    waybill_first = (SELECT d.logistics_code FROM clearance_documents d
        WHERE d.tenant_id = c.tenant_id AND d.order_no = c.order_no AND d.kind = 'WAYBILL'
        ORDER BY d.created_at, d.id LIMIT 1);

-- +goose Down
DROP FUNCTION clearance_party_holds(clearance_naming, text, text);
ALTER TABLE clearance_chains DROP COLUMN payment_named, DROP COLUMN payment_first,
    DROP COLUMN waybill_named, DROP COLUMN waybill_first;
DROP TYPE clearance_naming;
