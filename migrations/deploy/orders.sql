-- Deploy pyexchange:orders to pg
-- requires: assets
-- Order management and matching domains: trading pairs, orders and trades.
-- orders and trades are range-partitioned by month on created_at, so their keys include it:
-- (id, created_at). Lookups by id alone probe each partition's primary-key index; lookups by
-- uuid use the per-partition uuid index. trades keep their integrity with orders through
-- composite foreign keys (order id, order created_at).
BEGIN;

CREATE TABLE exchange.trading_pairs (
    id               integer GENERATED ALWAYS AS IDENTITY,
    symbol           varchar(20) NOT NULL,
    base_asset_id    integer NOT NULL,
    quote_asset_id   integer NOT NULL,
    min_order_amount exchange.amount NOT NULL DEFAULT 0,
    min_notional     exchange.amount NOT NULL DEFAULT 0,
    price_precision  integer NOT NULL DEFAULT 8,
    amount_precision integer NOT NULL DEFAULT 8,
    taker_fee_rate   exchange.fee_rate NOT NULL DEFAULT 0.001,
    maker_fee_rate   exchange.fee_rate NOT NULL DEFAULT 0.001,
    status           exchange.pair_status NOT NULL DEFAULT 'TRADING',
    stp_mode         exchange.stp_mode NOT NULL DEFAULT 'EXPIRE_MAKER',
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT trading_pairs_pkey PRIMARY KEY (id),
    CONSTRAINT trading_pairs_symbol_key UNIQUE (symbol),
    CONSTRAINT trading_pairs_assets_key UNIQUE (base_asset_id, quote_asset_id),
    CONSTRAINT trading_pairs_base_fkey FOREIGN KEY (base_asset_id) REFERENCES exchange.assets (id),
    CONSTRAINT trading_pairs_quote_fkey FOREIGN KEY (quote_asset_id) REFERENCES exchange.assets (id),
    CONSTRAINT trading_pairs_distinct_assets CHECK (base_asset_id <> quote_asset_id),
    CONSTRAINT trading_pairs_symbol_format CHECK (symbol ~ '^[A-Z0-9]{2,9}-[A-Z0-9]{2,9}$'),
    CONSTRAINT trading_pairs_min_order_amount_nonnegative CHECK (min_order_amount >= 0),
    CONSTRAINT trading_pairs_min_notional_nonnegative CHECK (min_notional >= 0),
    CONSTRAINT trading_pairs_price_precision_range CHECK (price_precision BETWEEN 0 AND 18),
    CONSTRAINT trading_pairs_amount_precision_range CHECK (amount_precision BETWEEN 0 AND 18)
);
CREATE INDEX trading_pairs_quote_idx ON exchange.trading_pairs (quote_asset_id);
CREATE TRIGGER tg_trading_pairs__set_updated_at BEFORE UPDATE ON exchange.trading_pairs
    FOR EACH ROW EXECUTE FUNCTION exchange.tg_set_updated_at();

ALTER TABLE exchange.accounts
    ADD CONSTRAINT accounts_trading_pair_fkey FOREIGN KEY (trading_pair_id)
        REFERENCES exchange.trading_pairs (id);

CREATE TABLE exchange.orders (
    id               bigint GENERATED ALWAYS AS IDENTITY,
    uuid             uuid NOT NULL DEFAULT gen_random_uuid(),
    user_id          bigint NOT NULL,
    trading_pair_id  integer NOT NULL,
    client_order_id  varchar(64),
    type             exchange.order_type NOT NULL,
    side             exchange.order_side NOT NULL,
    time_in_force    exchange.time_in_force NOT NULL DEFAULT 'GTC',
    stp_mode         exchange.stp_mode NOT NULL DEFAULT 'EXPIRE_MAKER',
    -- positive and non-negative quantities by their domains (checked once per session);
    -- a table CHECK is parsed and planned again by every statement that writes the table
    amount           exchange.positive_amount,
    quote_amount     exchange.positive_amount,
    price            exchange.positive_amount,
    stop_price       exchange.positive_amount,
    filled_amount    exchange.nonnegative_amount NOT NULL DEFAULT 0,
    remaining_amount exchange.nonnegative_amount NOT NULL,
    filled_quote     exchange.amount NOT NULL DEFAULT 0,
    fee_paid         exchange.nonnegative_amount NOT NULL DEFAULT 0,
    hold_amount      exchange.nonnegative_amount NOT NULL DEFAULT 0,
    status           exchange.order_status NOT NULL DEFAULT 'NEW',
    version          integer NOT NULL DEFAULT 0,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT orders_pkey PRIMARY KEY (id, created_at),
    CONSTRAINT orders_uuid_key UNIQUE (uuid, created_at),
    CONSTRAINT orders_user_fkey FOREIGN KEY (user_id) REFERENCES exchange.users (id),
    CONSTRAINT orders_trading_pair_fkey FOREIGN KEY (trading_pair_id)
        REFERENCES exchange.trading_pairs (id),
    CONSTRAINT orders_amount_or_quote CHECK (amount IS NOT NULL OR quote_amount IS NOT NULL),
    CONSTRAINT orders_fill_arithmetic CHECK (amount IS NULL OR filled_amount + remaining_amount = amount)
) PARTITION BY RANGE (created_at);
COMMENT ON TABLE exchange.orders IS 'Orders, range-partitioned by month on created_at.';
-- A user's orders newest first, and one pair's of them (get_orders, its keyset pages).
CREATE INDEX orders_user_created_at_idx ON exchange.orders (user_id, created_at DESC, id DESC);
CREATE INDEX orders_user_pair_created_at_idx ON exchange.orders (user_id, trading_pair_id, created_at DESC, id DESC);
-- The seed's idx_orders_price_side is not created: matching reads exchange.order_book (the
-- resting orders only, one index per side in price-time order; migrations/deploy/trading.sql),
-- and an index on orders over the open ones would only add a write to every placement and
-- every fill.
CREATE TRIGGER tg_orders__set_updated_at BEFORE UPDATE ON exchange.orders
    FOR EACH ROW EXECUTE FUNCTION exchange.tg_set_updated_at();

CREATE TABLE exchange.trades (
    id                      bigint GENERATED ALWAYS AS IDENTITY,
    uuid                    uuid NOT NULL DEFAULT gen_random_uuid(),
    trading_pair_id         integer NOT NULL,
    buyer_order_id          bigint NOT NULL,
    buyer_order_created_at  timestamptz NOT NULL,
    seller_order_id         bigint NOT NULL,
    seller_order_created_at timestamptz NOT NULL,
    buyer_user_id           bigint NOT NULL,
    seller_user_id          bigint NOT NULL,
    price                   exchange.positive_amount NOT NULL,
    amount                  exchange.positive_amount NOT NULL,
    quote_amount            exchange.positive_amount NOT NULL,
    buyer_fee               exchange.nonnegative_amount NOT NULL DEFAULT 0,
    seller_fee              exchange.nonnegative_amount NOT NULL DEFAULT 0,
    is_maker_buyer          boolean NOT NULL,
    settlement_batch_id     bigint,
    created_at              timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT trades_pkey PRIMARY KEY (id, created_at),
    CONSTRAINT trades_uuid_key UNIQUE (uuid, created_at),
    CONSTRAINT trades_trading_pair_fkey FOREIGN KEY (trading_pair_id)
        REFERENCES exchange.trading_pairs (id),
    CONSTRAINT trades_buyer_order_fkey FOREIGN KEY (buyer_order_id, buyer_order_created_at)
        REFERENCES exchange.orders (id, created_at),
    CONSTRAINT trades_seller_order_fkey FOREIGN KEY (seller_order_id, seller_order_created_at)
        REFERENCES exchange.orders (id, created_at),
    CONSTRAINT trades_buyer_user_fkey FOREIGN KEY (buyer_user_id) REFERENCES exchange.users (id),
    CONSTRAINT trades_seller_user_fkey FOREIGN KEY (seller_user_id) REFERENCES exchange.users (id),
    CONSTRAINT trades_distinct_orders CHECK (buyer_order_id <> seller_order_id)
) PARTITION BY RANGE (created_at);
COMMENT ON TABLE exchange.trades IS 'Trades (fills), range-partitioned by month on created_at.';
-- A pair's latest trades, and every pair's (get_recent_trades, its keyset pages).
CREATE INDEX trades_pair_created_at_idx ON exchange.trades (trading_pair_id, created_at DESC, id DESC);
CREATE INDEX trades_created_at_idx ON exchange.trades (created_at DESC, id DESC);
CREATE INDEX trades_buyer_order_idx ON exchange.trades (buyer_order_id);
CREATE INDEX trades_seller_order_idx ON exchange.trades (seller_order_id);
CREATE INDEX trades_buyer_user_idx ON exchange.trades (buyer_user_id, created_at DESC);
CREATE INDEX trades_seller_user_idx ON exchange.trades (seller_user_id, created_at DESC);

COMMIT;
