-- The ledger's write statement (ledger/store.go) can run on its own, outside
-- a transaction, for a batch over accounts without balance limits: it then
-- locks the accounts itself, in id order, only if they are still open. This
-- function makes the statement fail, and so write nothing, when some were not.

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION ledger_check_open(locked bigint, wanted bigint) RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
    IF locked <> wanted THEN
        RAISE EXCEPTION 'ledger: % of % accounts are no longer open', wanted - locked, wanted
            USING ERRCODE = 'XL001';
    END IF;
    RETURN locked;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION ledger_check_open(bigint, bigint);
