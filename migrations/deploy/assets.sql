-- Deploy pyexchange:assets to pg
-- requires: auth
-- Asset management domain: assets, accounts (user and system), and the double-entry journal.
BEGIN;

CREATE TABLE exchange.assets (
    id                  integer GENERATED ALWAYS AS IDENTITY,
    symbol              varchar(20) NOT NULL,
    name                varchar(100) NOT NULL,
    type                exchange.asset_type NOT NULL,
    decimals            integer NOT NULL DEFAULT 8,
    min_withdraw_amount exchange.amount NOT NULL DEFAULT 0,
    withdraw_fee        exchange.amount NOT NULL DEFAULT 0,
    is_active           boolean NOT NULL DEFAULT true,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT assets_pkey PRIMARY KEY (id),
    CONSTRAINT assets_symbol_key UNIQUE (symbol),
    CONSTRAINT assets_symbol_format CHECK (symbol ~ '^[A-Z0-9]{2,20}$'),
    CONSTRAINT assets_decimals_range CHECK (decimals BETWEEN 0 AND 18),
    CONSTRAINT assets_min_withdraw_amount_nonnegative CHECK (min_withdraw_amount >= 0),
    CONSTRAINT assets_withdraw_fee_nonnegative CHECK (withdraw_fee >= 0)
);
CREATE TRIGGER tg_assets__set_updated_at BEFORE UPDATE ON exchange.assets
    FOR EACH ROW EXECUTE FUNCTION exchange.tg_set_updated_at();

-- One row per (owner, asset, bucket pair). USER accounts belong to a user; the system kinds
-- make every movement balance: EXTERNAL is the counterpart of deposits and withdrawals (it
-- holds minus what the exchange owes outside, so it is the one account that may be
-- negative), FEE accrues fees (one per asset and trading pair, so markets never queue on
-- one row; trading_pair_id NULL is the withdrawal-fee account), REVENUE is where clearing
-- sweeps them. Per asset, the sum over all accounts is zero at every committed instant.
CREATE TABLE exchange.accounts (
    id                bigint GENERATED ALWAYS AS IDENTITY,
    kind              exchange.account_kind NOT NULL DEFAULT 'USER',
    user_id           bigint,
    asset_id          integer NOT NULL,
    trading_pair_id   integer,
    available_balance exchange.amount NOT NULL DEFAULT 0,
    frozen_balance    exchange.amount NOT NULL DEFAULT 0,
    total_balance     exchange.amount GENERATED ALWAYS AS (available_balance + frozen_balance) STORED,
    version           integer NOT NULL DEFAULT 0,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT accounts_pkey PRIMARY KEY (id),
    CONSTRAINT accounts_id_asset_key UNIQUE (id, asset_id),
    CONSTRAINT accounts_user_fkey FOREIGN KEY (user_id) REFERENCES exchange.users (id),
    CONSTRAINT accounts_asset_fkey FOREIGN KEY (asset_id) REFERENCES exchange.assets (id),
    -- the seed's non-negative balances, the last line behind the posting functions' typed
    -- refusal; one CHECK for both (0.0 is a numeric constant: a bare 0 would be cast again
    -- for every statement)
    CONSTRAINT accounts_balances_nonnegative
        CHECK (kind = 'EXTERNAL' OR (available_balance >= 0.0 AND frozen_balance >= 0.0))
) WITH (fillfactor = 50);
-- fillfactor 50: every movement updates account rows; free room on each page keeps those
-- updates HOT (no new index entries, no index bloat on the hottest table).
-- Only the balance CHECK: PostgreSQL 15 parses and plans a table's CHECK expressions again
-- for every statement that writes it, and every movement writes this table once; each CHECK
-- cost a transfer 1.5-3 % of its CPU (measured in instructions). The rules on the columns
-- that never change after an account is created (kind, user_id, trading_pair_id) are checked
-- by tg_accounts__check_owner, which fires only when one of them is written.
COMMENT ON TABLE exchange.accounts IS
    'Balances: USER accounts per (user, asset); system accounts EXTERNAL, FEE (per asset and pair), REVENUE per asset.';
-- The seed's UNIQUE(user_id, asset_id), for user accounts; it also serves lookups by user.
CREATE UNIQUE INDEX accounts_user_asset_key ON exchange.accounts (user_id, asset_id)
    WHERE kind = 'USER';
CREATE UNIQUE INDEX accounts_system_key ON exchange.accounts (kind, asset_id, trading_pair_id)
    NULLS NOT DISTINCT WHERE kind <> 'USER';
-- A USER account has a user and no pair; a system account has no user; only a FEE account
-- may name a trading pair. Checked only when a row is inserted or one of those columns is
-- updated (never by a movement).
\ir ../../functions/ledger/tg_accounts__check_owner.sql
CREATE TRIGGER tg_accounts__check_owner AFTER INSERT OR UPDATE OF kind, user_id, trading_pair_id
    ON exchange.accounts
    FOR EACH ROW EXECUTE FUNCTION exchange.tg_accounts__check_owner();
-- No other trigger. Balances change only in the two posting functions, exchange._post_pair
-- and exchange._post_journals, which set version and updated_at and refuse a balance going
-- negative with a typed error (EX101) in the UPDATE itself (the seed's check_account_balance
-- and update_updated_at triggers, moved there); the CHECK above stays as the last line
-- against any other writer. A BEFORE UPDATE row trigger here cost a transfer about a tenth of
-- its CPU: each statement parses its WHEN clause again, and it fetches and locks every row
-- once more.

-- One record per movement: the transfer id that its entries share.
CREATE TABLE exchange.journal (
    id             bigint GENERATED ALWAYS AS IDENTITY,
    type           text NOT NULL,
    reference_type text,
    reference_id   bigint,
    created_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT journal_pkey PRIMARY KEY (id)
);
-- No CHECKs (each would be parsed and planned again by every posting): only _post_journals
-- writes this table, with its callers' constant types, and the reference types that come
-- from outside (holds) are checked by _check_hold_reference first.
COMMENT ON TABLE exchange.journal IS
    'Journal records: one per movement; its entries (transactions) sum to zero per asset.';
-- Partial: most records of the hot path (transfers, deposits) have no reference.
CREATE INDEX journal_reference_idx ON exchange.journal (reference_type, reference_id)
    WHERE reference_type IS NOT NULL;
CREATE INDEX journal_created_at_idx ON exchange.journal USING brin (created_at);

-- The seed's transactions: the journal's entries, one per account bucket touched.
-- user_id and asset_id are copies of the account's, kept for the seed's query patterns.
-- Entries are written only by exchange._post_journals, in the statement that inserts their
-- journal record and updates (and has locked) their accounts, copying journal_id, account_id,
-- user_id and asset_id from those rows; no role may write the table directly. So there are no
-- foreign keys here: their checks were the largest avoidable cost of a transfer (an SPI
-- query per entry and key). exchange.reconcile() checks the references instead
-- (ENTRY_REFERENCE: an entry whose journal record or account is missing or disagrees).
CREATE TABLE exchange.transactions (
    id             bigint GENERATED ALWAYS AS IDENTITY,
    uuid           uuid NOT NULL DEFAULT gen_random_uuid(),
    journal_id     bigint NOT NULL,
    account_id     bigint NOT NULL,
    user_id        bigint,
    asset_id       integer NOT NULL,
    bucket         exchange.balance_bucket NOT NULL,
    type           text NOT NULL,
    amount         exchange.entry_amount NOT NULL,
    balance_before exchange.amount NOT NULL,
    balance_after  exchange.amount NOT NULL,
    reference_type text,
    reference_id   bigint,
    created_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT transactions_pkey PRIMARY KEY (id)
);
-- No CHECKs either: an amount is never zero by its domain (checked once per session, not per
-- statement), and balance_after = balance_before + amount holds by construction
-- (_post_journals writes before = after - amount); reconcile() checks it (ENTRY_ARITHMETIC)
-- with the chain of running balances.
COMMENT ON TABLE exchange.transactions IS
    'Journal entries: one per account bucket touched by a movement, with the balance before and after.';
CREATE INDEX transactions_journal_idx ON exchange.transactions (journal_id);
-- An account's entries by time (account_history and its pages, balance_at).
CREATE INDEX transactions_account_created_at_idx ON exchange.transactions (account_id, created_at, id);

COMMIT;
