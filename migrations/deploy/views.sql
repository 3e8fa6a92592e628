-- Deploy pyexchange:views to pg
-- requires: assets orders
-- The seed's reporting views, corrected.
BEGIN;

-- Balances of active users on active assets (the seed's filter; assets.is_active now exists).
CREATE VIEW exchange.user_balances AS
SELECT u.id AS user_id,
       u.username,
       a.symbol AS asset_symbol,
       acc.available_balance,
       acc.frozen_balance,
       acc.total_balance
  FROM exchange.users u
  JOIN exchange.accounts acc ON acc.user_id = u.id AND acc.kind = 'USER'
  JOIN exchange.assets a ON a.id = acc.asset_id
 WHERE u.status = 'ACTIVE' AND a.is_active;
COMMENT ON VIEW exchange.user_balances IS 'Balances of active users on active assets.';

-- Each aggregate is computed on its own: joining orders and trades on the pair alone, as the
-- seed did, multiplies the counts (orders x trades).
CREATE VIEW exchange.trading_pair_stats AS
SELECT tp.symbol,
       base.symbol AS base_asset,
       quote.symbol AS quote_asset,
       COALESCE(o.total_orders, 0) AS total_orders,
       COALESCE(t.total_trades, 0) AS total_trades,
       COALESCE(t.total_volume, 0) AS total_volume
  FROM exchange.trading_pairs tp
  JOIN exchange.assets base ON base.id = tp.base_asset_id
  JOIN exchange.assets quote ON quote.id = tp.quote_asset_id
  LEFT JOIN (SELECT trading_pair_id, count(*) AS total_orders
               FROM exchange.orders GROUP BY trading_pair_id) o ON o.trading_pair_id = tp.id
  LEFT JOIN (SELECT trading_pair_id, count(*) AS total_trades, sum(amount) AS total_volume
               FROM exchange.trades GROUP BY trading_pair_id) t ON t.trading_pair_id = tp.id;
COMMENT ON VIEW exchange.trading_pair_stats IS 'Per pair: orders, trades and base volume, each aggregated on its own.';

COMMIT;
