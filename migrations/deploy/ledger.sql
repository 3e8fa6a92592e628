-- Deploy pyexchange:ledger to pg
-- requires: ledger_core
-- The ledger's API: assets, deposits, two-phase withdrawals, transfers (single and batch),
-- holds (freeze/unfreeze), idempotency keys, history, balance at a time, reconciliation.
BEGIN;

-- Idempotency: one row per key, claimed by the first call that uses it (the primary-key
-- insert blocks a concurrent duplicate until the first commits or rolls back). request is
-- the canonical fingerprint of the call (operation arguments, amounts with trailing zeros
-- trimmed); result_id is what the call returned (a journal id for deposits and transfers, a
-- withdrawal id, a hold id). Keys are global across operations and users.
CREATE TABLE exchange.idempotency_keys (
    key        text NOT NULL,
    operation  text NOT NULL,
    request    text NOT NULL,
    result_id  bigint,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT idempotency_keys_pkey PRIMARY KEY (key)
);
-- No CHECK constraints: only the ledger functions write this table (they check the key's
-- length and set the operation), and it is on the hot path of every movement.
COMMENT ON TABLE exchange.idempotency_keys IS
    'Idempotency keys of ledger calls: the request fingerprint and the original result; same key + same request replays, same key + other request is EX108.';

CREATE TYPE exchange.withdrawal_status AS ENUM ('PENDING', 'REVIEW', 'COMPLETED', 'CANCELLED');

-- Two-phase withdrawals: the request freezes amount + fee (status PENDING, or REVIEW when a
-- risk rule holds it); complete moves the amount to the EXTERNAL account and the fee to the
-- withdrawal FEE account; cancel releases both. Open (PENDING, REVIEW) withdrawals are holds:
-- reconcile() checks that frozen balances equal the open holds.
CREATE TABLE exchange.withdrawals (
    id           bigint GENERATED ALWAYS AS IDENTITY,
    user_id      bigint NOT NULL,
    asset_id     integer NOT NULL,
    account_id   bigint NOT NULL,
    amount       exchange.amount NOT NULL,
    fee          exchange.amount NOT NULL,
    status       exchange.withdrawal_status NOT NULL DEFAULT 'PENDING',
    external_ref text,
    note         text,
    version      integer NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    CONSTRAINT withdrawals_pkey PRIMARY KEY (id),
    CONSTRAINT withdrawals_user_fkey FOREIGN KEY (user_id) REFERENCES exchange.users (id),
    CONSTRAINT withdrawals_asset_fkey FOREIGN KEY (asset_id) REFERENCES exchange.assets (id),
    CONSTRAINT withdrawals_account_fkey FOREIGN KEY (account_id, asset_id)
        REFERENCES exchange.accounts (id, asset_id),
    CONSTRAINT withdrawals_amount_positive CHECK (amount > 0),
    CONSTRAINT withdrawals_fee_nonnegative CHECK (fee >= 0),
    CONSTRAINT withdrawals_finished_consistent
        CHECK ((status IN ('PENDING', 'REVIEW')) = (finished_at IS NULL)),
    CONSTRAINT withdrawals_version_nonnegative CHECK (version >= 0)
);
COMMENT ON TABLE exchange.withdrawals IS
    'Withdrawals: PENDING/REVIEW hold amount + fee frozen; COMPLETED paid out (fee to the withdrawal FEE account); CANCELLED released.';
CREATE INDEX withdrawals_user_created_at_idx ON exchange.withdrawals (user_id, created_at DESC);
CREATE INDEX withdrawals_open_idx ON exchange.withdrawals (asset_id, user_id)
    WHERE status IN ('PENDING', 'REVIEW');
CREATE TRIGGER tg_withdrawals__set_updated_at BEFORE UPDATE ON exchange.withdrawals
    FOR EACH ROW EXECUTE FUNCTION exchange.tg_set_updated_at();

-- Manual holds placed by freeze()/unfreeze(): the amount still frozen per (account,
-- reference). Orders do not use these rows: an open order's hold is orders.hold_amount.
CREATE TABLE exchange.holds (
    id             bigint GENERATED ALWAYS AS IDENTITY,
    account_id     bigint NOT NULL,
    user_id        bigint NOT NULL,
    asset_id       integer NOT NULL,
    reference_type text NOT NULL,
    reference_id   bigint NOT NULL,
    amount         exchange.amount NOT NULL DEFAULT 0,
    version        integer NOT NULL DEFAULT 0,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT holds_pkey PRIMARY KEY (id),
    CONSTRAINT holds_account_reference_key UNIQUE (account_id, reference_type, reference_id),
    CONSTRAINT holds_account_fkey FOREIGN KEY (account_id, asset_id)
        REFERENCES exchange.accounts (id, asset_id),
    CONSTRAINT holds_user_fkey FOREIGN KEY (user_id) REFERENCES exchange.users (id),
    CONSTRAINT holds_reference_type_format CHECK (reference_type ~ '^[A-Z][A-Z_]{0,39}$'),
    CONSTRAINT holds_amount_nonnegative CHECK (amount >= 0),
    CONSTRAINT holds_version_nonnegative CHECK (version >= 0)
);
COMMENT ON TABLE exchange.holds IS
    'Manual holds (freeze/unfreeze): amount still frozen per account and reference; 0 when released.';
CREATE INDEX holds_user_idx ON exchange.holds (user_id, asset_id) WHERE amount > 0;
CREATE TRIGGER tg_holds__set_updated_at BEFORE UPDATE ON exchange.holds
    FOR EACH ROW EXECUTE FUNCTION exchange.tg_set_updated_at();

-- One transfer of a batch (exchange.transfers).
CREATE TYPE exchange.transfer_request AS (
    from_user_id    bigint,
    to_user_id      bigint,
    asset           text,
    amount          numeric,
    idempotency_key text
);
COMMENT ON TYPE exchange.transfer_request IS
    'One transfer of exchange.transfers(): from user, to user, asset symbol, amount, idempotency key.';

\ir ../../functions/ledger/_ledger_checks.sql
\ir ../../functions/ledger/_claim_idempotency_key.sql
\ir ../../functions/ledger/_refuse_movement.sql
\ir ../../functions/ledger/_check_hold_reference.sql
\ir ../../functions/ledger/create_asset.sql
\ir ../../functions/ledger/deactivate_asset.sql
\ir ../../functions/ledger/list_assets.sql
\ir ../../functions/ledger/deposit.sql
\ir ../../functions/ledger/withdraw.sql
\ir ../../functions/ledger/complete_withdrawal.sql
\ir ../../functions/ledger/cancel_withdrawal.sql
\ir ../../functions/ledger/get_withdrawal.sql
\ir ../../functions/ledger/_refuse_transfer.sql
\ir ../../functions/ledger/_transfer_lookup.sql
\ir ../../functions/ledger/transfers.sql
\ir ../../functions/ledger/transfer.sql
\ir ../../functions/ledger/freeze.sql
\ir ../../functions/ledger/unfreeze.sql
\ir ../../functions/ledger/balances.sql
\ir ../../functions/ledger/account_history.sql
\ir ../../functions/ledger/balance_at.sql
\ir ../../functions/ledger/reconcile.sql

COMMIT;
