-- The dated tariff of cross-border retail import tax (settlement/clearance
-- tariff.go, docs/clearance.md "Import tax"): lines by goods code (10 digits,
-- a prefix of 2-8 digits, or '*') and validity, the changes to them (who,
-- when, before and after), and the versions of the shipped file
-- (settlement/clearance/tariff/tariff.json) already loaded. It replaces
-- hs_tax_rates, whose rates by heading had no dates and no conditions.

-- +goose Up
CREATE TABLE clearance_tariff_lines (
    code                        text NOT NULL CHECK (code ~ '^(\*|[0-9]{2}|[0-9]{4}|[0-9]{6}|[0-9]{8}|[0-9]{10})$'),
    valid_from                  date NOT NULL,
    valid_to                    date CHECK (valid_to >= valid_from), -- inclusive; NULL open
    duty_rate                   numeric(8, 5) CHECK (duty_rate >= 0), -- NULL: not known
    vat_rate                    numeric(6, 5) NOT NULL CHECK (vat_rate >= 0 AND vat_rate < 1),
    consumption_rate            numeric(6, 5) NOT NULL CHECK (consumption_rate >= 0 AND consumption_rate < 1),
    consumption_min_per_ml_or_g numeric(19, 5) CHECK (consumption_min_per_ml_or_g >= 0),
    consumption_min_per_piece   numeric(19, 5) CHECK (consumption_min_per_piece >= 0),
    description                 text NOT NULL,
    source                      text NOT NULL,
    updated_by                  text NOT NULL,
    updated_at                  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (code, valid_from)
);

-- Every change, append-only: the line before (NULL when created) and after.
CREATE TABLE clearance_tariff_changes (
    id         bigserial PRIMARY KEY,
    code       text NOT NULL,
    valid_from date NOT NULL,
    changed_by text NOT NULL, -- the API key id, or 'tariff file <version>'
    changed_at timestamptz NOT NULL DEFAULT now(),
    before     jsonb,
    after      jsonb NOT NULL
);
CREATE INDEX clearance_tariff_changes_line ON clearance_tariff_changes (code, valid_from, id);
CREATE TRIGGER clearance_tariff_changes_immutable BEFORE UPDATE OR DELETE ON clearance_tariff_changes
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

CREATE TABLE clearance_tariff_versions (
    version   text PRIMARY KEY,
    loaded_at timestamptz NOT NULL DEFAULT now()
);

DROP TABLE hs_tax_rates;

-- +goose Down
CREATE TABLE hs_tax_rates (
    heading          text PRIMARY KEY CHECK (heading ~ '^[0-9]{4}$' OR heading = '*'),
    vat_rate         numeric(6, 5) NOT NULL CHECK (vat_rate >= 0 AND vat_rate < 1),
    consumption_rate numeric(6, 5) NOT NULL CHECK (consumption_rate >= 0 AND consumption_rate < 1),
    description      text NOT NULL
);
INSERT INTO hs_tax_rates (heading, vat_rate, consumption_rate, description) VALUES
    ('*', 0.13, 0, 'default: VAT 13%, no consumption tax');
DROP TABLE clearance_tariff_versions;
DROP TABLE clearance_tariff_changes;
DROP TABLE clearance_tariff_lines;
