-- Settlement instructions, their items, the outbox, payment claims and net
-- batches (DESIGN §6, docs/settlement.md).
--
-- Every table grows with traffic, so every one carries tenant_id (the payment
-- institution, its payCode) first in its key: on Citus they are distributed
-- by tenant and co-located. Status changes are guarded in SQL (UPDATE …
-- WHERE status = <expected>) and each one is recorded in
-- settlement_item_events, once per item and status.

-- +goose Up
CREATE TABLE settlement_instructions (
    tenant_id       text NOT NULL,
    id              uuid NOT NULL,
    idempotency_key text NOT NULL,
    request_hash    bytea NOT NULL,             -- tells a replay from a conflicting reuse of the key
    item_count      integer NOT NULL CHECK (item_count BETWEEN 1 AND 1000),
    accepted_at     timestamptz NOT NULL,       -- quotes must be live at this instant
    created_by      text NOT NULL,              -- the API key id
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, idempotency_key)
);

CREATE TABLE settlement_items (
    tenant_id          text NOT NULL,
    id                 uuid NOT NULL,
    instruction_id     uuid NOT NULL,
    seq                integer NOT NULL CHECK (seq >= 0),   -- position in the instruction
    -- What the institution asked for.
    ebp_code           text NOT NULL,
    order_no           text NOT NULL,
    pay_transaction_id text NOT NULL,
    enterprise         text NOT NULL,              -- customs code of the enterprise paid
    currency           char(3) NOT NULL,           -- of the payment, as on the chain
    amount             numeric(22, 4) NOT NULL CHECK (amount > 0),
    payout_currency    char(3) NOT NULL,           -- the enterprise is paid in this
    quote_id           uuid,
    fee                numeric(22, 4) NOT NULL DEFAULT 0 CHECK (fee >= 0), -- in payout_currency
    -- Where it stands.
    status             text NOT NULL CHECK (status IN ('accepted', 'verified', 'posted', 'batched', 'settled', 'rejected', 'held')),
    codes              text[] NOT NULL DEFAULT '{}', -- why rejected or held
    -- Fixed at verification, from the chain and the quote; the entry is built from them.
    direction          text CHECK (direction IN ('import', 'export')),
    trade_mode         text,
    flow               text CHECK (flow IN ('import', 'export', 'cips')),
    side               text CHECK (side IN ('customer_buys_fx', 'customer_sells_fx')),
    rate               numeric(16, 8),
    parity             numeric(16, 8),
    unit               integer,
    rate_date          date,
    rate_id            uuid,
    cny_amount         numeric(22, 4),             -- the customer's CNY (all but export: the payment)
    foreign_amount     numeric(22, 4),             -- NULL for CIPS
    spread_cny         numeric(22, 4),
    payout_gross       numeric(22, 4),             -- credited to the enterprise before the fee
    payout_amount      numeric(22, 4),             -- credited to the enterprise: gross − fee
    entry_id           uuid,                       -- the ledger entry, once posted
    batch_id           uuid,
    value_date         date,
    accepted_at        timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, instruction_id, seq),
    CHECK (status NOT IN ('posted', 'batched', 'settled') OR entry_id IS NOT NULL),
    CHECK (status NOT IN ('batched', 'settled') OR (batch_id IS NOT NULL AND value_date IS NOT NULL)),
    CHECK (status NOT IN ('rejected', 'held') OR cardinality(codes) > 0)
);
-- The worker reads an instruction's items still in flight.
CREATE INDEX settlement_items_active ON settlement_items (tenant_id, instruction_id)
    WHERE status IN ('accepted', 'verified', 'posted');
CREATE INDEX settlement_items_batch ON settlement_items (tenant_id, batch_id) WHERE batch_id IS NOT NULL;
-- The transaction report of a day.
CREATE INDEX settlement_items_value_date ON settlement_items (tenant_id, value_date, id) WHERE value_date IS NOT NULL;

-- Every status an item reaches, once, with when and by whom. The key makes
-- "each item posted once, settled once" a constraint, not a hope.
CREATE TABLE settlement_item_events (
    tenant_id   text NOT NULL,
    item_id     uuid NOT NULL,
    from_status text,                              -- NULL for accepted
    to_status   text NOT NULL,
    codes       text[] NOT NULL DEFAULT '{}',
    at          timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, item_id, to_status)
);
CREATE TRIGGER settlement_item_events_immutable BEFORE UPDATE OR DELETE ON settlement_item_events
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- One payment settles once, whichever instruction names it: the item that
-- passes verification first claims it. A rejection after the claim gives it
-- back; a hold keeps it.
CREATE TABLE settlement_claims (
    tenant_id          text NOT NULL,
    pay_transaction_id text NOT NULL,
    item_id            uuid NOT NULL,
    claimed_at         timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, pay_transaction_id)
);

-- The outbox: a row per instruction, written in the transaction that stores
-- it. Redis only carries the work; the sweeper enqueues again whatever is
-- not done and was last enqueued too long ago (or never).
CREATE TABLE settlement_outbox (
    tenant_id      text NOT NULL,
    instruction_id uuid NOT NULL,
    created_at     timestamptz NOT NULL,
    enqueued_at    timestamptz,                    -- NULL: not handed to Redis yet
    enqueues       integer NOT NULL DEFAULT 0,     -- names the task of each enqueue
    done_at        timestamptz,                    -- every item at rest (batched, rejected or held)
    PRIMARY KEY (tenant_id, instruction_id)
);
CREATE INDEX settlement_outbox_pending ON settlement_outbox (coalesce(enqueued_at, created_at)) WHERE done_at IS NULL;

-- Net batches: one per (tenant, enterprise, currency, value date). open takes
-- items; the cut-off closes it, posts its payout and settles it.
CREATE TABLE settlement_batches (
    tenant_id       text NOT NULL,
    id              uuid NOT NULL,
    enterprise      text NOT NULL,
    currency        char(3) NOT NULL,
    value_date      date NOT NULL,
    status          text NOT NULL CHECK (status IN ('open', 'closed', 'settled')),
    item_count      integer NOT NULL DEFAULT 0 CHECK (item_count >= 0),
    gross           numeric(38, 4) NOT NULL DEFAULT 0,  -- Σ payout_gross of its items
    fees            numeric(38, 4) NOT NULL DEFAULT 0,  -- Σ fee
    net             numeric(38, 4) NOT NULL DEFAULT 0,  -- Σ payout_amount: what the payout pays
    payout_entry_id uuid,
    last_error      text NOT NULL DEFAULT '',           -- why the payout was refused, if it was
    created_at      timestamptz NOT NULL,
    closed_at       timestamptz,
    settled_at      timestamptz,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, enterprise, currency, value_date),
    CHECK (net = gross - fees),
    CHECK ((status = 'settled') = (payout_entry_id IS NOT NULL))
);
-- The cut-off finds batches not settled by value date, across tenants.
CREATE INDEX settlement_batches_due ON settlement_batches (value_date) WHERE status <> 'settled';
CREATE INDEX settlement_batches_by_date ON settlement_batches (tenant_id, value_date, currency);

-- +goose Down
DROP TABLE settlement_batches, settlement_outbox, settlement_claims, settlement_item_events,
    settlement_items, settlement_instructions;
