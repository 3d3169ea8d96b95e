-- TRUNCATE fires no row trigger, so the append-only tables' refuse_change()
-- row triggers never saw it: a TRUNCATE by anyone who may (the owner, a
-- superuser) emptied them. A statement trigger refuses it for everyone, as
-- entries, postings and fx_rates have since they were created. A table whose
-- DELETE is refused refuses TRUNCATE too; internal/db's tests check that no
-- append-only table is left out.

-- +goose Up
-- +goose StatementBegin
DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY[
        'entry_seals',
        'holds',
        'clearance_documents',
        'clearance_verdicts',
        'settlement_item_events',
        'enterprise_consents',
        'fx_violations',
        'fx_reporting_gaps',
        'fx_category_decisions',
        'tax_classifications',
        'settlement_registrations']
    LOOP
        EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION refuse_change()',
            t || '_no_truncate', t);
    END LOOP;
END $$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY[
        'entry_seals',
        'holds',
        'clearance_documents',
        'clearance_verdicts',
        'settlement_item_events',
        'enterprise_consents',
        'fx_violations',
        'fx_reporting_gaps',
        'fx_category_decisions',
        'tax_classifications',
        'settlement_registrations']
    LOOP
        EXECUTE format('DROP TRIGGER %I ON %I', t || '_no_truncate', t);
    END LOOP;
END $$;
-- +goose StatementEnd
