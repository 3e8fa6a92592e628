-- Trading through the SQL API, as a DBA calls it in psql: a pair, a resting order, a cross
-- with exact fees and holds, the book and its sequence, stops, cancels, refusals by SQLSTATE.
BEGIN;
SELECT plan(26);

SELECT lives_ok($$SELECT exchange.create_asset('TRA', 'Trade A', 'CRYPTO', 8)$$, 'asset TRA');
SELECT lives_ok($$SELECT exchange.create_asset('TRQ', 'Trade Q', 'CRYPTO', 8)$$, 'asset TRQ');
SELECT is((SELECT status::text FROM exchange.create_trading_pair('TRA-TRQ', 'TRA', 'TRQ', 2, 4, 0, 1, 0.001, 0.002)),
          'TRADING', 'create_trading_pair: a TRADING pair');
SELECT isnt((SELECT fee_base_account_id FROM exchange.market_state ms
               JOIN exchange.trading_pairs tp ON tp.id = ms.trading_pair_id WHERE tp.symbol = 'TRA-TRQ'),
            NULL, 'the pair has its own fee accounts');
SELECT throws_ok($$SELECT exchange.create_trading_pair('TRA-TRQ', 'TRA', 'TRQ')$$, 'EX221', NULL,
                 'the same pair twice is refused');

INSERT INTO exchange.users (username, email, password_hash, status, kyc_level)
VALUES ('tr_maker', 'tr_maker@example.com', 'x', 'ACTIVE', 2),
       ('tr_taker', 'tr_taker@example.com', 'x', 'ACTIVE', 2);
SELECT exchange.deposit(u.id, a, 1000, 'tr-' || u.username || a)
  FROM exchange.users u, unnest(ARRAY['TRA', 'TRQ']) a WHERE u.username LIKE 'tr\_%';
CREATE TEMP TABLE tr_u AS
SELECT (SELECT id FROM exchange.users WHERE username = 'tr_maker') AS maker,
       (SELECT id FROM exchange.users WHERE username = 'tr_taker') AS taker;

SELECT is((SELECT status::text || ' ' || hold_amount::numeric
             FROM exchange.place_order((SELECT maker FROM tr_u), 'TRA-TRQ', 'SELL', 'LIMIT', 2, 10, p_client_order_id => 'm1')),
          'NEW 2.000000000000000000', 'a sell rests and holds its base amount');
SELECT is((SELECT frozen_balance::numeric FROM exchange.accounts a JOIN exchange.assets s ON s.id = a.asset_id
            WHERE a.user_id = (SELECT maker FROM tr_u) AND s.symbol = 'TRA'), 2::numeric,
          'the hold is frozen in the ledger');
SELECT is((SELECT jsonb_array_length(fills) || ' ' || status::text || ' ' || trim_scale(fee_paid)::text
             FROM exchange.place_order((SELECT taker FROM tr_u), 'TRA-TRQ', 'BUY', 'LIMIT', 1.5, 10.5)),
          '1 FILLED 0.003', 'a crossing buy fills at the maker''s price, taker fee 0.2 % of the base it receives');
SELECT is((SELECT (trim_scale(price), trim_scale(amount), trim_scale(buyer_fee), trim_scale(seller_fee), is_maker_buyer)::text
             FROM exchange.trades t JOIN exchange.trading_pairs tp ON tp.id = t.trading_pair_id
            WHERE tp.symbol = 'TRA-TRQ'),
          '(10,1.5,0.003,0.015,f)', 'the trade: price 10, amount 1.5, fees rounded down in what each side receives');
SELECT is((SELECT trim_scale(available_balance) || '/' || trim_scale(frozen_balance)
             FROM exchange.accounts a JOIN exchange.assets s ON s.id = a.asset_id
            WHERE a.user_id = (SELECT taker FROM tr_u) AND s.symbol = 'TRQ'),
          '985/0', 'the taker paid 15 and its hold at 10.5 was released exactly');
SELECT is((SELECT bids::text || asks::text || sequence FROM exchange.get_order_book('TRA-TRQ', 5)),
          '[][["10", "0.5", 1]]2', 'the book: 0.5 left at 10, sequence 2');
SELECT is((SELECT id FROM exchange.place_order((SELECT maker FROM tr_u), 'TRA-TRQ', 'SELL', 'LIMIT', 9, 99, p_client_order_id => 'm1')),
          (SELECT order_id FROM exchange.client_order_ids WHERE client_order_id = 'm1'),
          'the same client order id returns the original order');
SELECT is((SELECT status::text FROM exchange.place_order((SELECT taker FROM tr_u), 'TRA-TRQ', 'SELL', 'STOP_LOSS', 1, p_stop_price => 9)),
          'PENDING', 'a stop order waits');
SELECT is((SELECT status::text FROM exchange.place_order((SELECT maker FROM tr_u), 'TRA-TRQ', 'BUY', 'LIMIT', 3, 9)),
          'NEW', 'a bid at 9 rests');
SELECT is((SELECT status::text FROM exchange.place_order((SELECT maker FROM tr_u), 'TRA-TRQ', 'SELL', 'LIMIT', 0.2, 9)),
          'NEW', 'selling into its own bid: nothing trades, the sell rests');
SELECT is((SELECT status::text FROM exchange.orders
            WHERE user_id = (SELECT maker FROM tr_u) AND side = 'BUY'),
          'EXPIRED', 'self-trade prevention (the pair''s default, EXPIRE_MAKER) expired the resting bid');
SELECT is((SELECT status::text || ' ' || trim_scale(filled_amount)
             FROM exchange.place_order((SELECT taker FROM tr_u), 'TRA-TRQ', 'BUY', 'LIMIT', 0.3, 9)),
          'EXPIRED 0.2', 'a buy takes the 0.2 at 9 and rests 0.1, which its own stop (triggered by that trade, in the same call) then expires by self-trade prevention: the result is the order at the end of the call');
SELECT is((SELECT status::text FROM exchange.orders
            WHERE user_id = (SELECT taker FROM tr_u) AND type = 'STOP_LOSS'),
          'EXPIRED', 'the trade at 9 triggered the stop at 9; with no other bid its market sell expired');
SELECT throws_ok($$SELECT * FROM exchange.place_order((SELECT taker FROM tr_u), 'NOPE-TRQ', 'BUY', 'LIMIT', 1, 10)$$,
                 'EX201', NULL, 'unknown pair');
SELECT throws_ok($$SELECT * FROM exchange.place_order((SELECT taker FROM tr_u), 'TRA-TRQ', 'BUY', 'LIMIT', 1, 10.001)$$,
                 'EX210', NULL, 'price finer than the tick');
SELECT throws_ok($$SELECT * FROM exchange.place_order((SELECT taker FROM tr_u), 'TRA-TRQ', 'BUY', 'LIMIT', 0.00001, 10)$$,
                 'EX211', NULL, 'amount finer than the step');
SELECT throws_ok($$SELECT * FROM exchange.place_order((SELECT taker FROM tr_u), 'TRA-TRQ', 'BUY', 'LIMIT', 0.01, 10)$$,
                 'EX213', NULL, 'below the minimum notional');
SELECT throws_ok($$SELECT * FROM exchange.place_order((SELECT taker FROM tr_u), 'TRA-TRQ', 'BUY', 'LIMIT', 1000, 10)$$,
                 'EX101', NULL, 'insufficient funds');
SELECT throws_ok($$SELECT * FROM exchange.cancel_order((SELECT maker FROM tr_u), -1)$$,
                 'EX216', NULL, 'cancelling an unknown order');
SELECT is((SELECT count(*)::int FROM exchange.cancel_all_orders((SELECT maker FROM tr_u), 'TRA-TRQ')), 1,
          'cancel_all_orders cancels what is open');
SELECT is((SELECT count(*)::int FROM exchange.reconcile()), 0, 'reconcile: every ledger invariant holds');

SELECT * FROM finish();
ROLLBACK;
