-- Verify pyexchange:orders on pg
BEGIN;
SELECT id, symbol, base_asset_id, quote_asset_id, min_order_amount, min_notional,
       price_precision, amount_precision, taker_fee_rate, maker_fee_rate, status
  FROM exchange.trading_pairs WHERE false;
SELECT id, uuid, user_id, trading_pair_id, client_order_id, type, side, time_in_force, amount,
       price, stop_price, filled_amount, remaining_amount, status, created_at, version
  FROM exchange.orders WHERE false;
SELECT id, uuid, trading_pair_id, buyer_order_id, seller_order_id, buyer_user_id,
       seller_user_id, price, amount, buyer_fee, seller_fee, is_maker_buyer, created_at
  FROM exchange.trades WHERE false;
SELECT 1 / count(*) FROM pg_partitioned_table WHERE partrelid = 'exchange.orders'::regclass;
SELECT 1 / count(*) FROM pg_partitioned_table WHERE partrelid = 'exchange.trades'::regclass;
ROLLBACK;
