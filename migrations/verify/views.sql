-- Verify pyexchange:views on pg
BEGIN;
SELECT user_id, username, asset_symbol, available_balance, frozen_balance, total_balance
  FROM exchange.user_balances WHERE false;
SELECT symbol, base_asset, quote_asset, total_orders, total_trades, total_volume
  FROM exchange.trading_pair_stats WHERE false;
ROLLBACK;
