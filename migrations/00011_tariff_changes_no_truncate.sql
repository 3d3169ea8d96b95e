-- The tariff's change log is append-only like the other audit tables
-- (00008): TRUNCATE, which fires no row trigger, is refused too.

-- +goose Up
CREATE TRIGGER clearance_tariff_changes_no_truncate BEFORE TRUNCATE ON clearance_tariff_changes
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();

-- +goose Down
DROP TRIGGER clearance_tariff_changes_no_truncate ON clearance_tariff_changes;
