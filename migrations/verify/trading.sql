-- Verify pyexchange:trading on pg
BEGIN;
SELECT 1 FROM exchange.order_book, exchange.stop_orders, exchange.market_state, exchange.client_order_ids LIMIT 0;
SELECT 'exchange.place_orders(exchange.order_request[])'::regprocedure;
SELECT 'exchange._order_result(bigint, timestamptz, jsonb)'::regprocedure;
SELECT 'exchange.place_order(bigint, text, text, text, numeric, numeric, text, text, numeric, numeric, text)'::regprocedure;
SELECT 'exchange.cancel_order(bigint, bigint)'::regprocedure;
SELECT 'exchange.cancel_order_by_client_id(bigint, text)'::regprocedure;
SELECT 'exchange.cancel_all_orders(bigint, text)'::regprocedure;
SELECT 'exchange._cancel_orders(bigint[], timestamptz[])'::regprocedure;
SELECT 'exchange.create_trading_pair(text, text, text, integer, integer, numeric, numeric, numeric, numeric, text)'::regprocedure;
SELECT 'exchange.set_trading_pair_status(text, text)'::regprocedure;
SELECT 'exchange.get_orders(bigint, text, boolean, integer, bigint)'::regprocedure;
SELECT 'exchange.get_trading_pairs()'::regprocedure;
SELECT 'exchange.get_order_book(text, integer)'::regprocedure;
SELECT 'exchange.get_recent_trades(text, integer)'::regprocedure;
SELECT 'exchange.get_klines(text, text, timestamptz, timestamptz, integer)'::regprocedure;
SELECT 'exchange.get_ticker_24hr(text)'::regprocedure;
ROLLBACK;
