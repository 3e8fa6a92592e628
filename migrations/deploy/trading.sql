-- Deploy pyexchange:trading to pg
-- requires: ledger_core market_data outbox identity
-- Trading: the live order book (resting orders only), pending stop orders, per-market state,
-- client order ids, and the API functions that place, match, settle and cancel orders and
-- read market data. The orders and trades tables (migrations/deploy/orders.sql) stay the
-- record; the structures here cover only what is still open, so matching never scans history.
-- Design note: docs/trading.md.
BEGIN;

-- Per market: what matching needs besides the book, written once per call.
CREATE TABLE exchange.market_state (
    trading_pair_id      integer NOT NULL,
    last_price           numeric(36, 18),
    last_trade_at        timestamptz,
    book_sequence        bigint NOT NULL DEFAULT 0,
    fee_base_account_id  bigint NOT NULL,
    fee_quote_account_id bigint NOT NULL,
    CONSTRAINT market_state_pkey PRIMARY KEY (trading_pair_id),
    CONSTRAINT market_state_trading_pair_fkey FOREIGN KEY (trading_pair_id)
        REFERENCES exchange.trading_pairs (id),
    CONSTRAINT market_state_fee_base_fkey FOREIGN KEY (fee_base_account_id)
        REFERENCES exchange.accounts (id),
    CONSTRAINT market_state_fee_quote_fkey FOREIGN KEY (fee_quote_account_id)
        REFERENCES exchange.accounts (id),
    CONSTRAINT market_state_sequence_nonnegative CHECK (book_sequence >= 0)
);
COMMENT ON TABLE exchange.market_state IS
    'Per trading pair: last trade price, the order book''s sequence number, and its fee accounts.';

-- order_book, stop_orders and client_order_ids carry (order_id, order_created_at), the key of
-- the partitioned orders table, without a foreign key: only the trading functions write them
-- (the application role cannot reach tables), a foreign key would cost a probe of orders on
-- every resting order, and it would pin old partitions against retention.

-- Time priority among resting orders (a stop-limit order that triggers later gets a later seq).
CREATE SEQUENCE exchange.order_book_seq;

-- The live book: one row per resting order (NEW or PARTIALLY_FILLED), deleted when it ends.
-- Not partitioned, and small: its cost does not grow with history.
CREATE TABLE exchange.order_book (
    order_id         bigint NOT NULL,
    order_created_at timestamptz NOT NULL,
    trading_pair_id  integer NOT NULL,
    side             exchange.order_side NOT NULL,
    price            numeric(36, 18) NOT NULL,
    seq              bigint NOT NULL,
    user_id          bigint NOT NULL,
    remaining        numeric(36, 18) NOT NULL,
    base_account_id  bigint NOT NULL,
    quote_account_id bigint NOT NULL,
    CONSTRAINT order_book_pkey PRIMARY KEY (order_id),
    CONSTRAINT order_book_remaining_positive CHECK (remaining > 0),
    CONSTRAINT order_book_price_positive CHECK (price > 0)
);
COMMENT ON TABLE exchange.order_book IS
    'Resting orders only, in price-time priority per side; the orders table stays the record.';
-- One index per side in matching order, so the best-price query walks it and stops.
CREATE INDEX order_book_asks_idx ON exchange.order_book (trading_pair_id, price, seq)
    WHERE side = 'SELL';
CREATE INDEX order_book_bids_idx ON exchange.order_book (trading_pair_id, price DESC, seq)
    WHERE side = 'BUY';
CREATE INDEX order_book_user_idx ON exchange.order_book (user_id, trading_pair_id);

-- Pending stop orders (status PENDING), in trigger order per side.
CREATE TABLE exchange.stop_orders (
    order_id         bigint NOT NULL,
    order_created_at timestamptz NOT NULL,
    trading_pair_id  integer NOT NULL,
    side             exchange.order_side NOT NULL,
    stop_price       numeric(36, 18) NOT NULL,
    seq              bigint NOT NULL,
    user_id          bigint NOT NULL,
    CONSTRAINT stop_orders_pkey PRIMARY KEY (order_id)
);
COMMENT ON TABLE exchange.stop_orders IS
    'Stop orders not yet triggered: buys trigger when the last price rises to their stop, sells when it falls to it.';
-- A rising price reaches the lowest buy stop first; a falling price the highest sell stop.
CREATE INDEX stop_orders_buy_idx ON exchange.stop_orders (trading_pair_id, stop_price, seq)
    WHERE side = 'BUY';
CREATE INDEX stop_orders_sell_idx ON exchange.stop_orders (trading_pair_id, stop_price DESC, seq)
    WHERE side = 'SELL';
CREATE INDEX stop_orders_user_idx ON exchange.stop_orders (user_id, trading_pair_id);

-- client_order_id is unique per user; orders is partitioned, so the key lives here.
CREATE TABLE exchange.client_order_ids (
    user_id          bigint NOT NULL,
    client_order_id  varchar(64) NOT NULL,
    order_id         bigint NOT NULL,
    order_created_at timestamptz NOT NULL,
    CONSTRAINT client_order_ids_pkey PRIMARY KEY (user_id, client_order_id)
);
COMMENT ON TABLE exchange.client_order_ids IS 'The unique (user, client_order_id) of each order that has one.';

-- One order of a batch for exchange.place_orders (text where the API takes text, so that a
-- bad value is refused with a typed error rather than a cast error).
CREATE TYPE exchange.order_request AS (
    user_id         bigint,
    symbol          text,
    side            text,
    type            text,
    amount          numeric,
    price           numeric,
    time_in_force   text,
    client_order_id text,
    stop_price      numeric,
    quote_amount    numeric,
    stp_mode        text
);

-- An order as the API returns it; fills (this placement's trades as taker) only from
-- place_order(s).
CREATE TYPE exchange.order_result AS (
    id               bigint,
    uuid             uuid,
    user_id          bigint,
    symbol           text,
    client_order_id  text,
    side             exchange.order_side,
    type             exchange.order_type,
    time_in_force    exchange.time_in_force,
    stp_mode         exchange.stp_mode,
    status           exchange.order_status,
    price            numeric,
    stop_price       numeric,
    amount           numeric,
    quote_amount     numeric,
    filled_amount    numeric,
    remaining_amount numeric,
    filled_quote     numeric,
    fee_paid         numeric,
    hold_amount      numeric,
    created_at       timestamptz,
    updated_at       timestamptz,
    fills            jsonb
);

-- The write stage of exchange.place_orders (exchange._write_order_batch): what a batch
-- writes once, set-based, at its end: its new orders with their final taker state, its
-- trades, and the makers' fills (several fills of one maker are summed there).
CREATE TYPE exchange._order_row AS (
    id               bigint,
    user_id          bigint,
    trading_pair_id  integer,
    client_order_id  text,
    type             exchange.order_type,
    side             exchange.order_side,
    time_in_force    exchange.time_in_force,
    stp_mode         exchange.stp_mode,
    amount           numeric,
    quote_amount     numeric,
    price            numeric,
    stop_price       numeric,
    filled_amount    numeric,
    remaining_amount numeric,
    filled_quote     numeric,
    fee_paid         numeric,
    hold_amount      numeric,
    status           exchange.order_status,
    created_at       timestamptz
);
CREATE TYPE exchange._trade_row AS (
    id                      bigint,
    trading_pair_id         integer,
    buyer_order_id          bigint,
    buyer_order_created_at  timestamptz,
    seller_order_id         bigint,
    seller_order_created_at timestamptz,
    buyer_user_id           bigint,
    seller_user_id          bigint,
    price                   numeric,
    amount                  numeric,
    quote_amount            numeric,
    buyer_fee               numeric,
    seller_fee              numeric,
    is_maker_buyer          boolean
);
-- What exchange._order_parties reads for each request of a batch: its user's status, the
-- user's base and quote accounts with their available balances, its KYC level's TRADE rule.
CREATE TYPE exchange._order_party AS (
    status          exchange.user_status,
    base_account    bigint,
    base_available  numeric,
    quote_account   bigint,
    quote_available numeric,
    kyc_allowed     boolean,
    kyc_daily_limit numeric
);
-- One fill (or self-trade expiry) of a resting order: what it adds (amount, quote, fee) and
-- what the order is left with (remaining, hold, status).
CREATE TYPE exchange._maker_fill AS (
    order_id         bigint,
    order_created_at timestamptz,
    amount           numeric,
    quote_amount     numeric,
    fee              numeric,
    remaining_amount numeric,
    hold_amount      numeric,
    status           exchange.order_status
);

\ir ../../functions/trading/tg_trading_pairs__create_market.sql
CREATE TRIGGER tg_trading_pairs__create_market AFTER INSERT ON exchange.trading_pairs
    FOR EACH ROW EXECUTE FUNCTION exchange.tg_trading_pairs__create_market();

\ir ../../functions/trading/create_trading_pair.sql
\ir ../../functions/trading/set_trading_pair_status.sql
\ir ../../functions/trading/_order_fills.sql
\ir ../../functions/trading/_order_result.sql
\ir ../../functions/trading/_check_order_request.sql
\ir ../../functions/trading/_order_parties.sql
\ir ../../functions/trading/_write_order_batch.sql
\ir ../../functions/trading/_write_market_batch.sql
\ir ../../functions/trading/place_orders.sql
\ir ../../functions/trading/place_order.sql
\ir ../../functions/trading/_cancel_orders.sql
\ir ../../functions/trading/cancel_order.sql
\ir ../../functions/trading/cancel_all_orders.sql
\ir ../../functions/trading/get_orders.sql
\ir ../../functions/trading/get_user_trades.sql
\ir ../../functions/trading/get_order_book.sql
\ir ../../functions/trading/get_recent_trades.sql
\ir ../../functions/trading/get_klines.sql
\ir ../../functions/trading/get_ticker_24hr.sql

COMMIT;
