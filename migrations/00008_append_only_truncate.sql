-- TRUNCATE fires no row trigger, so the append-only tables' refuse_change()
-- row triggers never saw it: a TRUNCATE by anyone who may (the owner, a
-- superuser) emptied them. A statement trigger refuses it for everyone, as
-- entries, postings and fx_rates have since they were created. A table whose
-- DELETE is refused refuses TRUNCATE too; internal/db's tests check that no
-- append-only table is left out.

-- +goose Up
CREATE TRIGGER entry_seals_no_truncate BEFORE TRUNCATE ON entry_seals
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER holds_no_truncate BEFORE TRUNCATE ON holds
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER clearance_documents_no_truncate BEFORE TRUNCATE ON clearance_documents
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER clearance_verdicts_no_truncate BEFORE TRUNCATE ON clearance_verdicts
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER settlement_item_events_no_truncate BEFORE TRUNCATE ON settlement_item_events
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER enterprise_consents_no_truncate BEFORE TRUNCATE ON enterprise_consents
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER fx_violations_no_truncate BEFORE TRUNCATE ON fx_violations
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER fx_reporting_gaps_no_truncate BEFORE TRUNCATE ON fx_reporting_gaps
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER fx_category_decisions_no_truncate BEFORE TRUNCATE ON fx_category_decisions
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER tax_classifications_no_truncate BEFORE TRUNCATE ON tax_classifications
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER settlement_registrations_no_truncate BEFORE TRUNCATE ON settlement_registrations
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();

-- +goose Down
DROP TRIGGER settlement_registrations_no_truncate ON settlement_registrations;
DROP TRIGGER tax_classifications_no_truncate ON tax_classifications;
DROP TRIGGER fx_category_decisions_no_truncate ON fx_category_decisions;
DROP TRIGGER fx_reporting_gaps_no_truncate ON fx_reporting_gaps;
DROP TRIGGER fx_violations_no_truncate ON fx_violations;
DROP TRIGGER enterprise_consents_no_truncate ON enterprise_consents;
DROP TRIGGER settlement_item_events_no_truncate ON settlement_item_events;
DROP TRIGGER clearance_verdicts_no_truncate ON clearance_verdicts;
DROP TRIGGER clearance_documents_no_truncate ON clearance_documents;
DROP TRIGGER holds_no_truncate ON holds;
DROP TRIGGER entry_seals_no_truncate ON entry_seals;
