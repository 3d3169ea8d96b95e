-- FX rates and quotes (DESIGN §6, docs/fx.md).
--
-- fx_rates is reference data shared by every tenant (one board for all), kept
-- as history: a new load of a pair and date is a new version, the highest in
-- force; rows are never changed or deleted. On Citus it is a reference table.
-- fx_quotes grows with traffic, so it carries tenant_id and is keyed by it.

-- +goose Up
CREATE TABLE fx_rates (
    id             uuid PRIMARY KEY,
    base_currency  char(3) NOT NULL,                    -- the foreign currency
    quote_currency char(3) NOT NULL,                    -- always CNY: rates are CNY per unit of base
    rate_date      date NOT NULL,                       -- Beijing business date
    unit           integer NOT NULL CHECK (unit IN (1, 100)), -- JPY and KRW boards quote per 100
    parity         numeric(16, 8) NOT NULL CHECK (parity > 0),  -- central parity 中间价
    buy_rate       numeric(16, 8) NOT NULL CHECK (buy_rate > 0),  -- bank buys FX: customer's 结汇
    sell_rate      numeric(16, 8) NOT NULL CHECK (sell_rate > 0), -- bank sells FX: customer's 购汇
    source         text NOT NULL CHECK (source <> '' AND length(source) <= 200),
    version        integer NOT NULL CHECK (version >= 1),
    load_id        uuid NOT NULL,                       -- the LoadRates call, all of whose rows commit together
    loaded_at      timestamptz NOT NULL,
    loaded_by      text NOT NULL,
    CHECK (quote_currency = 'CNY' AND base_currency <> 'CNY'),
    CHECK (buy_rate <= parity AND parity <= sell_rate),
    -- Serves "the versions of a pair on a date" and "the latest on or before a date".
    UNIQUE (base_currency, quote_currency, rate_date, version)
);

CREATE TRIGGER fx_rates_immutable BEFORE UPDATE OR DELETE ON fx_rates
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER fx_rates_no_truncate BEFORE TRUNCATE ON fx_rates
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();

CREATE TABLE fx_quotes (
    tenant_id      text NOT NULL,
    id             uuid NOT NULL,
    rate_id        uuid NOT NULL REFERENCES fx_rates (id),
    base_currency  char(3) NOT NULL,
    quote_currency char(3) NOT NULL,
    side           text NOT NULL CHECK (side IN ('customer_buys_fx', 'customer_sells_fx')),
    rate           numeric(16, 8) NOT NULL CHECK (rate > 0), -- the side's rate, copied: the quote is what was locked
    parity         numeric(16, 8) NOT NULL CHECK (parity > 0),
    unit           integer NOT NULL CHECK (unit IN (1, 100)),
    rate_date      date NOT NULL,
    created_at     timestamptz NOT NULL,
    expires_at     timestamptz NOT NULL,
    created_by     text NOT NULL,
    PRIMARY KEY (tenant_id, id),
    CHECK (expires_at > created_at)
);
CREATE INDEX fx_quotes_expiry ON fx_quotes (tenant_id, expires_at); -- for a retention sweep

-- A locked rate never changes; expired quotes may be deleted by retention.
CREATE TRIGGER fx_quotes_immutable BEFORE UPDATE ON fx_quotes
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- +goose Down
DROP TABLE fx_quotes, fx_rates;
