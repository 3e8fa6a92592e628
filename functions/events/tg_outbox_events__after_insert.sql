-- exchange.tg_outbox_events__after_insert() RETURNS trigger
-- AFTER INSERT ... FOR EACH STATEMENT on exchange.outbox_events (transition table
-- new_events), so it runs once per inserting statement whoever inserts (exchange._emit_event,
-- or a domain function that writes its events set-based, as place_orders does):
-- 1. wakes the relay: NOTIFY exchange_outbox with a constant payload (PostgreSQL collapses
--    it to one per transaction), only when a relay is registered as sleeping
--    (exchange.event_listeners: NOTIFY serializes the commits of all notifying transactions,
--    so transactions nobody waits for must not pay for it);
-- 2. creates the notifications of the new events whose type has an active template
--    (exchange._notify_users_of_event), in this same transaction;
-- 3. announces the market changes: for each trading pair touched by the new order and trade
--    events that somebody watches (registered for exchange_market_<symbol>), one NOTIFY on channel exchange_market_<symbol> (LISTEN "exchange_market_BTC-USDT")
--    with a small JSON payload:
--      {"seq": <highest event id>, "pair_id", "symbol",
--       "trades": [[trade_id, "price", "quantity", "taker_side"], ...],
--       "levels": [["BUY"|"SELL", "price", "quantity now resting at that price", orders], ...],
--       "truncated": true}   -- only when the lists were cut to fit the 8000-byte limit
--    Levels carry the absolute quantity resting at that price after the change (0: the
--    level is gone), so applying them in order onto any earlier snapshot converges. The
--    writers of a pair hold its market lock, so seq increases per pair in commit order.
-- Raises: nothing of its own. Locks: none beyond what it reads.
CREATE OR REPLACE FUNCTION exchange.tg_outbox_events__after_insert()
RETURNS trigger
LANGUAGE plpgsql
AS $$
-- @plpgsql_check_options: newtable = new_events
DECLARE
    v_relay_sleeps boolean;
    v_notify boolean;
    v_market_watched boolean;
    v_pair record;
    v_trades jsonb;
    v_levels jsonb;
    v_payload text;
BEGIN
    -- What this statement has to do, in one query (it runs once per inserting statement, on
    -- every order placed): does a relay sleep, do the new events have active templates, is
    -- any market watched at all.
    SELECT EXISTS (SELECT 1 FROM exchange.event_listeners l WHERE l.channel = 'exchange_outbox'),
           EXISTS (SELECT 1 FROM new_events n
                     JOIN exchange.notification_templates t
                       ON t.event_type = n.event_type AND t.is_active),
           EXISTS (SELECT 1 FROM exchange.event_listeners l
                    WHERE l.channel LIKE 'exchange\_market\_%')
      INTO v_relay_sleeps, v_notify, v_market_watched;

    -- NOTIFY serializes the commits of all notifying transactions: only when a relay sleeps.
    IF v_relay_sleeps THEN
        PERFORM pg_notify('exchange_outbox', '');
    END IF;

    IF v_notify THEN
        PERFORM exchange._notify_users_of_event(n.id, n.event_type, n.event_data)
           FROM new_events n
          WHERE n.event_type IN (SELECT t.event_type FROM exchange.notification_templates t
                                  WHERE t.is_active)
          ORDER BY n.id;
    END IF;

    IF NOT v_market_watched THEN
        RETURN NULL;
    END IF;
    FOR v_pair IN
        SELECT p.pair_id, p.symbol, p.seq
          FROM (SELECT (n.event_data ->> 'pair_id')::integer AS pair_id,
                       max(n.event_data ->> 'symbol') AS symbol, max(n.id) AS seq
                  FROM new_events n
                 WHERE n.aggregate_type IN ('order', 'trade')
                   AND jsonb_typeof(n.event_data -> 'pair_id') = 'number'
                 GROUP BY 1) p
         -- only pairs somebody watches (exchange.register_listener)
         WHERE EXISTS (SELECT 1 FROM exchange.event_listeners l
                        WHERE l.channel = 'exchange_market_' || p.symbol)
    LOOP
        SELECT coalesce(jsonb_agg(jsonb_build_array(
                   (n.event_data ->> 'trade_id')::bigint, n.event_data ->> 'price',
                   n.event_data ->> 'quantity', n.event_data ->> 'taker_side') ORDER BY n.id), '[]')
          INTO v_trades
          FROM new_events n
         WHERE n.event_type = 'trade_executed'
           AND (n.event_data ->> 'pair_id')::integer = v_pair.pair_id;

        WITH touched AS (
            -- placed and filled orders name their price (a maker fill: the maker's price)
            SELECT n.event_data ->> 'side' AS side, (n.event_data ->> 'price')::numeric AS price
              FROM new_events n
             WHERE n.event_type IN ('order_placed', 'order_filled')
               AND jsonb_typeof(n.event_data -> 'pair_id') = 'number'
               AND (n.event_data ->> 'pair_id')::integer = v_pair.pair_id
               AND n.event_data ->> 'price' IS NOT NULL
            UNION
            -- cancelled and expired ones are looked up (an index probe each)
            SELECT o.side::text, o.price
              FROM new_events n
             CROSS JOIN LATERAL (
                   SELECT o.side, o.price FROM exchange.orders o
                    WHERE o.id = (n.event_data ->> 'order_id')::bigint
                    LIMIT 1) o
             WHERE n.event_type IN ('order_cancelled', 'order_expired')
               AND jsonb_typeof(n.event_data -> 'pair_id') = 'number'
               AND (n.event_data ->> 'pair_id')::integer = v_pair.pair_id
               AND jsonb_typeof(n.event_data -> 'order_id') = 'number'
               AND o.price IS NOT NULL
        )
        SELECT coalesce(jsonb_agg(jsonb_build_array(t.side, trim_scale(t.price)::text,
                   trim_scale(coalesce(q.qty, 0))::text, q.n) ORDER BY t.side, t.price), '[]')
          INTO v_levels
          FROM touched t
         CROSS JOIN LATERAL (
               SELECT sum(x.remaining) AS qty, count(*)::integer AS n
                 FROM (SELECT b.remaining FROM exchange.order_book b
                        WHERE t.side = 'SELL' AND b.trading_pair_id = v_pair.pair_id
                          AND b.side = 'SELL' AND b.price = t.price
                       UNION ALL
                       SELECT b.remaining FROM exchange.order_book b
                        WHERE t.side = 'BUY' AND b.trading_pair_id = v_pair.pair_id
                          AND b.side = 'BUY' AND b.price = t.price) x) q
         WHERE t.side IN ('BUY', 'SELL');

        v_payload := jsonb_build_object('seq', v_pair.seq, 'pair_id', v_pair.pair_id,
                                        'symbol', v_pair.symbol, 'trades', v_trades,
                                        'levels', v_levels)::text;
        IF octet_length(v_payload) > 7900 THEN
            v_payload := jsonb_build_object('seq', v_pair.seq, 'pair_id', v_pair.pair_id,
                                            'symbol', v_pair.symbol, 'trades', '[]'::jsonb,
                                            'levels', '[]'::jsonb, 'truncated', true)::text;
        END IF;
        PERFORM pg_notify('exchange_market_' || v_pair.symbol, v_payload);
    END LOOP;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION exchange.tg_outbox_events__after_insert() IS
    'Per inserting statement: NOTIFY exchange_outbox, the notifications of the new events, and one NOTIFY exchange_market_<symbol> per trading pair touched (seq, trades, levels).';
REVOKE ALL ON FUNCTION exchange.tg_outbox_events__after_insert() FROM PUBLIC;
