-- Deploy pyexchange:clearing to pg
-- requires: orders
-- Clearing and settlement domain (the seed names it but gives no tables): one batch per
-- business day (UTC), its per-user-and-asset nets, its per-pair totals, and one row per
-- discrepancy when a batch fails. The functions are in the change risk_engine
-- (exchange.run_clearing and the reports; docs/risk.md).
BEGIN;

CREATE TABLE exchange.settlement_batches (
    id            bigint GENERATED ALWAYS AS IDENTITY,
    business_date date NOT NULL,
    status        exchange.batch_status NOT NULL DEFAULT 'RUNNING',
    trades_count  bigint NOT NULL DEFAULT 0,
    -- the batch covers the unsettled trades created before cutoff_at: the end of the
    -- business day, or the moment of clearing when the day was cleared before it ended
    cutoff_at     timestamptz NOT NULL,
    attempts      integer NOT NULL DEFAULT 1,
    run_by        bigint,
    started_at    timestamptz NOT NULL DEFAULT now(),
    finished_at   timestamptz,
    CONSTRAINT settlement_batches_pkey PRIMARY KEY (id),
    CONSTRAINT settlement_batches_business_date_key UNIQUE (business_date),
    CONSTRAINT settlement_batches_trades_count_nonnegative CHECK (trades_count >= 0),
    CONSTRAINT settlement_batches_attempts_positive CHECK (attempts >= 1),
    CONSTRAINT settlement_batches_run_by_fkey FOREIGN KEY (run_by) REFERENCES exchange.users (id),
    CONSTRAINT settlement_batches_finished_consistent
        CHECK ((status = 'RUNNING') = (finished_at IS NULL))
);

CREATE TABLE exchange.settlement_details (
    batch_id  bigint NOT NULL,
    user_id   bigint NOT NULL,
    asset_id  integer NOT NULL,
    bought    exchange.amount NOT NULL DEFAULT 0,
    sold      exchange.amount NOT NULL DEFAULT 0,
    fees_paid exchange.amount NOT NULL DEFAULT 0,
    net       exchange.amount NOT NULL DEFAULT 0,
    CONSTRAINT settlement_details_pkey PRIMARY KEY (batch_id, user_id, asset_id),
    CONSTRAINT settlement_details_batch_fkey FOREIGN KEY (batch_id)
        REFERENCES exchange.settlement_batches (id),
    CONSTRAINT settlement_details_user_fkey FOREIGN KEY (user_id) REFERENCES exchange.users (id),
    CONSTRAINT settlement_details_asset_fkey FOREIGN KEY (asset_id) REFERENCES exchange.assets (id),
    CONSTRAINT settlement_details_nonnegative CHECK (bought >= 0 AND sold >= 0 AND fees_paid >= 0)
);
CREATE INDEX settlement_details_user_idx ON exchange.settlement_details (user_id, batch_id);

CREATE TABLE exchange.settlement_pair_totals (
    batch_id        bigint NOT NULL,
    trading_pair_id integer NOT NULL,
    trades_count    bigint NOT NULL DEFAULT 0,
    volume          exchange.amount NOT NULL DEFAULT 0,
    quote_volume    exchange.amount NOT NULL DEFAULT 0,
    base_fees       exchange.amount NOT NULL DEFAULT 0,
    quote_fees      exchange.amount NOT NULL DEFAULT 0,
    -- the FEE_SWEEP journal record that moved the fees to REVENUE (NULL: nothing swept)
    sweep_journal_id bigint,
    CONSTRAINT settlement_pair_totals_pkey PRIMARY KEY (batch_id, trading_pair_id),
    CONSTRAINT settlement_pair_totals_batch_fkey FOREIGN KEY (batch_id)
        REFERENCES exchange.settlement_batches (id),
    CONSTRAINT settlement_pair_totals_pair_fkey FOREIGN KEY (trading_pair_id)
        REFERENCES exchange.trading_pairs (id),
    CONSTRAINT settlement_pair_totals_sweep_journal_fkey FOREIGN KEY (sweep_journal_id)
        REFERENCES exchange.journal (id)
);

CREATE TABLE exchange.settlement_discrepancies (
    id       bigint GENERATED ALWAYS AS IDENTITY,
    batch_id bigint NOT NULL,
    kind     text NOT NULL,
    detail   jsonb NOT NULL,
    CONSTRAINT settlement_discrepancies_pkey PRIMARY KEY (id),
    CONSTRAINT settlement_discrepancies_batch_fkey FOREIGN KEY (batch_id)
        REFERENCES exchange.settlement_batches (id)
);
CREATE INDEX settlement_discrepancies_batch_idx ON exchange.settlement_discrepancies (batch_id);

ALTER TABLE exchange.trades
    ADD CONSTRAINT trades_settlement_batch_fkey FOREIGN KEY (settlement_batch_id)
        REFERENCES exchange.settlement_batches (id);
-- Clearing finds the unsettled trades by time, and a batch's trades by batch.
CREATE INDEX trades_unsettled_created_at_idx ON exchange.trades (created_at)
    WHERE settlement_batch_id IS NULL;
CREATE INDEX trades_settlement_batch_idx ON exchange.trades (settlement_batch_id)
    WHERE settlement_batch_id IS NOT NULL;

COMMIT;
