-- The seller of a chain (clearance_chains.ebc_code, added by 00005_risk.sql)
-- is now written by clearance's matcher, in the same update that records a
-- chain's evaluation, from the documents it has just matched: the order in
-- force, else the inventory in force (deletes left out), else the value the
-- chain already had (docs/risk.md, "The seller of a chain that never
-- verified"). The trigger that did it read the order back from
-- clearance_documents (JSONB) on every status change: 36 ms of the 66 ms the
-- matcher's update of 1,000 chains took (docs/performance.md, "Clearance").
--
-- No backfill: until this migration the trigger kept every evaluated chain's
-- ebc_code, and the matcher keeps it from here on.

-- +goose Up
DROP TRIGGER clearance_chains_seller ON clearance_chains;
DROP FUNCTION clearance_chain_seller();

-- +goose Down
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
