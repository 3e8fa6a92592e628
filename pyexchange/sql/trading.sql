-- Trading: pairs, orders, matching, market data (functions in functions/*.sql).

-- name: create_trading_pair
SELECT c.id, c.symbol, ba.symbol AS base_asset, qa.symbol AS quote_asset, c.price_precision,
       c.amount_precision, trim_scale(c.min_order_amount) AS min_order_amount,
       trim_scale(c.min_notional) AS min_notional, trim_scale(c.maker_fee_rate) AS maker_fee_rate,
       trim_scale(c.taker_fee_rate) AS taker_fee_rate, c.status, c.stp_mode,
       NULL::numeric AS last_price, 0::bigint AS book_sequence
  FROM exchange.create_trading_pair(
           %(symbol)s, %(base)s, %(quote)s, %(price_precision)s, %(amount_precision)s,
           %(min_order_amount)s, %(min_notional)s, %(maker_fee_rate)s, %(taker_fee_rate)s,
           %(stp_mode)s) AS c
  JOIN exchange.assets ba ON ba.id = c.base_asset_id
  JOIN exchange.assets qa ON qa.id = c.quote_asset_id;

-- name: set_trading_pair_status
SELECT c.id, c.symbol, ba.symbol AS base_asset, qa.symbol AS quote_asset, c.price_precision,
       c.amount_precision, trim_scale(c.min_order_amount) AS min_order_amount,
       trim_scale(c.min_notional) AS min_notional, trim_scale(c.maker_fee_rate) AS maker_fee_rate,
       trim_scale(c.taker_fee_rate) AS taker_fee_rate, c.status, c.stp_mode,
       trim_scale(ms.last_price) AS last_price, ms.book_sequence
  FROM exchange.set_trading_pair_status(%(symbol)s, %(status)s) AS c
  JOIN exchange.assets ba ON ba.id = c.base_asset_id
  JOIN exchange.assets qa ON qa.id = c.quote_asset_id
  LEFT JOIN exchange.market_state ms ON ms.trading_pair_id = c.id;

-- name: get_trading_pairs
SELECT id, symbol, base_asset, quote_asset, price_precision, amount_precision,
       min_order_amount, min_notional, maker_fee_rate, taker_fee_rate, status, stp_mode,
       last_price, book_sequence
  FROM exchange.get_trading_pairs();

-- name: place_order
SELECT * FROM exchange.place_order(
    %(user_id)s, %(symbol)s, %(side)s, %(type)s, %(amount)s, %(price)s, %(time_in_force)s,
    %(client_order_id)s, %(stop_price)s, %(quote_amount)s, %(stp_mode)s);

-- name: submit_order
-- A procedure (CALL, outside a transaction block): early lock release and combining.
-- The acting user and correlation id (when given) are set transaction-local while the CALL's
-- first argument is evaluated: in the procedure's first transaction, where it reads them
-- (submit_order_begin), and gone at its first COMMIT. One statement, so a pooled server
-- connection (pgbouncer, transaction pooling) neither carries them to another client nor
-- runs this CALL without them. (A CALL argument may not hold a subquery: hence the CASE.)
CALL exchange.submit_order(
    CASE WHEN concat(
              CASE WHEN %(acting_user_id)s::text IS NOT NULL THEN
                  pg_catalog.set_config('exchange.acting_user_id', %(acting_user_id)s::text, true)
              END,
              CASE WHEN %(correlation_id)s::text IS NOT NULL THEN
                  pg_catalog.set_config('exchange.correlation_id', %(correlation_id)s::text, true)
              END) IS NOT NULL
         THEN %(user_id)s::bigint END,
    %(symbol)s, %(side)s, %(type)s, %(amount)s, %(price)s, %(time_in_force)s,
    %(client_order_id)s, %(stop_price)s, %(quote_amount)s, %(stp_mode)s);

-- name: process_order_requests
SELECT exchange.process_order_requests();

-- name: place_orders
-- The batch as parallel arrays, so the client needs no composite-type registration.
SELECT * FROM exchange.place_orders(ARRAY(
    SELECT ROW(r.user_id, r.symbol, r.side, r.type, r.amount, r.price, r.time_in_force,
               r.client_order_id, r.stop_price, r.quote_amount, r.stp_mode)::exchange.order_request
      FROM unnest(%(user_id)s::bigint[], %(symbol)s::text[], %(side)s::text[], %(type)s::text[],
                  %(amount)s::numeric[], %(price)s::numeric[], %(time_in_force)s::text[],
                  %(client_order_id)s::text[], %(stop_price)s::numeric[],
                  %(quote_amount)s::numeric[], %(stp_mode)s::text[])
           WITH ORDINALITY AS r(user_id, symbol, side, type, amount, price, time_in_force,
                                client_order_id, stop_price, quote_amount, stp_mode, ord)
     ORDER BY r.ord));

-- name: cancel_order
SELECT * FROM exchange.cancel_order(%(user_id)s, %(order_id)s);

-- name: cancel_order_by_client_id
SELECT * FROM exchange.cancel_order_by_client_id(%(user_id)s, %(client_order_id)s);

-- name: cancel_all_orders
SELECT * FROM exchange.cancel_all_orders(%(user_id)s, %(symbol)s);

-- name: get_orders
SELECT * FROM exchange.get_orders(%(user_id)s, %(symbol)s, %(open_only)s, %(limit)s, %(order_id)s,
                                  %(before_id)s, %(after_id)s);

-- name: get_user_trades
SELECT trade_id, symbol, order_id, side, role, trim_scale(price) AS price,
       trim_scale(amount) AS amount, trim_scale(quote_amount) AS quote_amount,
       trim_scale(fee) AS fee, fee_asset, created_at
  FROM exchange.get_user_trades(%(user_id)s, %(symbol)s, %(order_id)s, %(limit)s);

-- name: get_order_book
SELECT symbol, sequence, bids, asks FROM exchange.get_order_book(%(symbol)s, %(depth)s);

-- name: get_recent_trades
SELECT id, symbol, price, amount, quote_amount, taker_side, is_maker_buyer, buyer_fee,
       seller_fee, created_at
  FROM exchange.get_recent_trades(%(symbol)s, %(limit)s, %(before_id)s, %(after_id)s);

-- name: get_klines
SELECT open_time, close_time, open, high, low, close, volume, quote_volume, trades_count
  FROM exchange.get_klines(%(symbol)s, %(interval)s, %(from)s, %(to)s, %(limit)s);

-- name: get_ticker_24hr
SELECT symbol, open, high, low, close, volume, quote_volume, trades_count, price_change,
       price_change_percent, last_price, window_start
  FROM exchange.get_ticker_24hr(%(symbol)s);
