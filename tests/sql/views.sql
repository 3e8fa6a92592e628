-- The reporting views give correct numbers on data with several orders and several trades per
-- pair: trading_pair_stats aggregates orders and trades each on its own (the seed's join on
-- the pair alone multiplied them: orders x trades), user_balances shows the USER accounts of
-- active users on active assets only.
BEGIN;
SELECT plan(9);

INSERT INTO exchange.users (username, email, password_hash, status)
VALUES ('view_u1', 'view_u1@example.com', 'x', 'ACTIVE'),
       ('view_u2', 'view_u2@example.com', 'x', 'ACTIVE'),
       ('view_u3', 'view_u3@example.com', 'x', 'SUSPENDED');
INSERT INTO exchange.assets (symbol, name, type, decimals, is_active)
VALUES ('VWA', 'View A', 'CRYPTO', 8, true), ('VWB', 'View B', 'FIAT', 2, true),
       ('VWC', 'View C', 'CRYPTO', 8, true), ('VWD', 'View D', 'CRYPTO', 8, false);
INSERT INTO exchange.trading_pairs (symbol, base_asset_id, quote_asset_id)
SELECT v.symbol, b.id, q.id
  FROM (VALUES ('VWA-VWB', 'VWA', 'VWB'), ('VWC-VWB', 'VWC', 'VWB'), ('VWD-VWB', 'VWD', 'VWB')) v(symbol, base, quote)
  JOIN exchange.assets b ON b.symbol = v.base JOIN exchange.assets q ON q.symbol = v.quote;

-- VWA-VWB: 4 orders (2 buys by u1, 2 sells by u2) and 3 trades of 2, 1 and 0.5.
-- VWC-VWB: 2 orders and 2 trades of 3 and 4. VWD-VWB: nothing.
INSERT INTO exchange.orders (user_id, trading_pair_id, type, side, amount, price,
                             filled_amount, remaining_amount, status)
SELECT u.id, p.id, 'LIMIT', o.side::exchange.order_side, o.amount, 10, o.filled, o.amount - o.filled,
       CASE WHEN o.filled = o.amount THEN 'FILLED' ELSE 'PARTIALLY_FILLED' END::exchange.order_status
  FROM (VALUES ('VWA-VWB', 'view_u1', 'BUY', 3, 3), ('VWA-VWB', 'view_u1', 'BUY', 1, 0.5),
               ('VWA-VWB', 'view_u2', 'SELL', 2, 2), ('VWA-VWB', 'view_u2', 'SELL', 2.5, 1.5),
               ('VWC-VWB', 'view_u1', 'BUY', 7, 7), ('VWC-VWB', 'view_u2', 'SELL', 8, 7))
       o(pair, username, side, amount, filled)
  JOIN exchange.users u ON u.username = o.username
  JOIN exchange.trading_pairs p ON p.symbol = o.pair;

CREATE TEMP TABLE v_fills (pair text, buy_amount numeric, sell_amount numeric, amount numeric);
INSERT INTO v_fills VALUES ('VWA-VWB', 3, 2, 2), ('VWA-VWB', 3, 2.5, 1), ('VWA-VWB', 1, 2.5, 0.5),
                           ('VWC-VWB', 7, 8, 3), ('VWC-VWB', 7, 8, 4);
INSERT INTO exchange.trades (trading_pair_id, buyer_order_id, buyer_order_created_at,
                             seller_order_id, seller_order_created_at, buyer_user_id,
                             seller_user_id, price, amount, quote_amount, is_maker_buyer)
SELECT p.id, b.id, b.created_at, s.id, s.created_at, b.user_id, s.user_id, 10, f.amount,
       10 * f.amount, true
  FROM v_fills f
  JOIN exchange.trading_pairs p ON p.symbol = f.pair
  JOIN exchange.orders b ON b.trading_pair_id = p.id AND b.side = 'BUY' AND b.amount = f.buy_amount
  JOIN exchange.orders s ON s.trading_pair_id = p.id AND s.side = 'SELL' AND s.amount = f.sell_amount;

SELECT is((SELECT count(*)::int FROM exchange.trades t JOIN exchange.trading_pairs p
             ON p.id = t.trading_pair_id WHERE p.symbol LIKE 'VW%'), 5,
          'fixture: five trades were written');
SELECT results_eq(
    $$SELECT symbol::text, base_asset::text, quote_asset::text, total_orders::bigint,
             total_trades::bigint, total_volume::numeric
        FROM exchange.trading_pair_stats WHERE symbol LIKE 'VW%' ORDER BY symbol$$,
    $$VALUES ('VWA-VWB', 'VWA', 'VWB', 4::bigint, 3::bigint, 3.5::numeric),
             ('VWC-VWB', 'VWC', 'VWB', 2::bigint, 2::bigint, 7::numeric),
             ('VWD-VWB', 'VWD', 'VWB', 0::bigint, 0::bigint, 0::numeric)$$,
    'trading_pair_stats: orders, trades and volume per pair, not multiplied (4 orders, not 12)');
SELECT isnt((SELECT total_orders::bigint FROM exchange.trading_pair_stats WHERE symbol = 'VWA-VWB'),
            (SELECT count(*) FROM exchange.orders o JOIN exchange.trades t
                 ON t.trading_pair_id = o.trading_pair_id
               JOIN exchange.trading_pairs p ON p.id = o.trading_pair_id WHERE p.symbol = 'VWA-VWB'),
            'the seed''s orders x trades join would have counted 12 orders');
SELECT is((SELECT count(*)::int FROM exchange.trading_pair_stats WHERE symbol LIKE 'VW%'), 3,
          'one row per pair, including a pair with no activity');

-- Balances: u1 and u2 on VWA, VWB and the inactive VWD; u3 is suspended; one EXTERNAL account.
INSERT INTO exchange.accounts (user_id, asset_id, available_balance, frozen_balance)
SELECT u.id, a.id, b.available, b.frozen
  FROM (VALUES ('view_u1', 'VWA', 1.5, 0.5), ('view_u1', 'VWB', 100, 20),
               ('view_u2', 'VWA', 4, 0), ('view_u2', 'VWD', 9, 0),
               ('view_u3', 'VWA', 7, 1)) b(username, asset, available, frozen)
  JOIN exchange.users u ON u.username = b.username
  JOIN exchange.assets a ON a.symbol = b.asset;
INSERT INTO exchange.accounts (kind, asset_id, available_balance)
SELECT 'EXTERNAL', id, -13 FROM exchange.assets WHERE symbol = 'VWA';

SELECT results_eq(
    $$SELECT username::text, asset_symbol::text, available_balance::numeric,
             frozen_balance::numeric, total_balance::numeric
        FROM exchange.user_balances WHERE username LIKE 'view_%' ORDER BY username, asset_symbol$$,
    $$VALUES ('view_u1', 'VWA', 1.5, 0.5, 2.0), ('view_u1', 'VWB', 100, 20, 120),
             ('view_u2', 'VWA', 4, 0, 4)$$,
    'user_balances: active users on active assets, with available, frozen and total');
SELECT is((SELECT count(*)::int FROM exchange.user_balances WHERE username = 'view_u3'), 0,
          'a suspended user''s balances are not shown');
SELECT is((SELECT count(*)::int FROM exchange.user_balances WHERE asset_symbol = 'VWD'), 0,
          'balances on an inactive asset are not shown');
SELECT is((SELECT sum(total_balance)::numeric FROM exchange.user_balances WHERE asset_symbol = 'VWA'),
          6.0::numeric, 'system (EXTERNAL) accounts are not user balances');
SELECT is((SELECT user_id FROM exchange.user_balances WHERE username = 'view_u2' AND asset_symbol = 'VWA'),
          (SELECT id FROM exchange.users WHERE username = 'view_u2'),
          'user_balances carries the user id');

SELECT * FROM finish();
ROLLBACK;
