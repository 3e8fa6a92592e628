-- exchange._cancel_orders(p_order_ids bigint[], p_created_ats timestamptz[])
--   RETURNS SETOF exchange.order_result
-- Internal: ends open orders that the caller has already taken out of exchange.order_book /
-- exchange.stop_orders while holding their markets' locks: status CANCELED, hold_amount 0,
-- the hold released exactly (one ORDER_RELEASE journal record per order, one
-- _post_journals call), an order_cancelled event each, and each market's book sequence
-- bumped once per canceled order. Returns the canceled orders.
-- Raises: EX010 (a bug). Locks: the held accounts, ascending (in _post_journals).
CREATE OR REPLACE FUNCTION exchange._cancel_orders(p_order_ids bigint[], p_created_ats timestamptz[])
RETURNS SETOF exchange.order_result
LANGUAGE plpgsql
AS $$
DECLARE
    v_rows record;
    r_type  text[] := '{}'::text[];
    r_rtype text[] := '{}'::text[];
    r_rid   bigint[] := '{}'::bigint[];
    l_rec   integer[] := '{}'::integer[];
    l_acc   bigint[] := '{}'::bigint[];
    l_bkt   exchange.balance_bucket[] := '{}'::exchange.balance_bucket[];
    l_amt   numeric[] := '{}'::numeric[];
    v_r     integer;
BEGIN
    IF COALESCE(cardinality(p_order_ids), 0) = 0 THEN
        RETURN;
    END IF;
    FOR v_rows IN
        WITH upd AS (
            UPDATE exchange.orders o
               SET status = 'CANCELED', hold_amount = 0, version = o.version + 1
              FROM exchange.orders old
              JOIN unnest(p_order_ids, p_created_ats) AS x(id, created_at)
                ON old.id = x.id AND old.created_at = x.created_at
             WHERE o.id = old.id AND o.created_at = old.created_at
            RETURNING o.id, o.user_id, o.trading_pair_id, o.side, old.hold_amount AS hold,
                      o.remaining_amount
        )
        SELECT u.id, u.user_id, u.trading_pair_id, u.side, u.hold, u.remaining_amount,
               tp.symbol,
               exchange._user_account(u.user_id, CASE u.side WHEN 'BUY' THEN tp.quote_asset_id
                                                             ELSE tp.base_asset_id END) AS acc
          FROM upd u JOIN exchange.trading_pairs tp ON tp.id = u.trading_pair_id
         ORDER BY u.id
    LOOP
        INSERT INTO exchange.outbox_events (aggregate_type, aggregate_id, event_type, event_data, correlation_id)
        VALUES ('order', v_rows.id::text, 'order_cancelled',
                jsonb_build_object('order_id', v_rows.id, 'user_id', v_rows.user_id,
                                   'pair_id', v_rows.trading_pair_id, 'symbol', v_rows.symbol,
                                   'side', v_rows.side,
                                   'remaining_quantity', trim_scale(v_rows.remaining_amount)::text,
                                   'status', 'CANCELED'),
                NULLIF(current_setting('exchange.correlation_id', true), '')::uuid);
        CONTINUE WHEN v_rows.hold = 0;
        r_type := array_append(r_type, 'ORDER_RELEASE');
        r_rtype := array_append(r_rtype, 'ORDER');
        r_rid := array_append(r_rid, v_rows.id);
        v_r := cardinality(r_type);
        l_rec := array_append(l_rec, v_r); l_acc := array_append(l_acc, v_rows.acc);
        l_bkt := array_append(l_bkt, 'FROZEN'); l_amt := array_append(l_amt, -v_rows.hold);
        l_rec := array_append(l_rec, v_r); l_acc := array_append(l_acc, v_rows.acc);
        l_bkt := array_append(l_bkt, 'AVAILABLE'); l_amt := array_append(l_amt, v_rows.hold::numeric);
    END LOOP;
    IF cardinality(r_type) > 0 THEN
        PERFORM exchange._post_journals(r_type, r_rtype, r_rid, l_rec, l_acc, l_bkt, l_amt);
    END IF;
    UPDATE exchange.market_state s SET book_sequence = s.book_sequence + c.n
      FROM (SELECT o.trading_pair_id, count(*) AS n
              FROM exchange.orders o
              JOIN unnest(p_order_ids, p_created_ats) AS x(id, created_at)
                ON o.id = x.id AND o.created_at = x.created_at
             GROUP BY o.trading_pair_id) AS c
     WHERE s.trading_pair_id = c.trading_pair_id;
    RETURN QUERY
    SELECT o.id, o.uuid, o.user_id, tp.symbol::text, o.client_order_id::text, o.side, o.type,
           o.time_in_force, o.stp_mode, o.status, o.price::numeric, o.stop_price::numeric,
           o.amount::numeric, o.quote_amount::numeric, o.filled_amount::numeric,
           o.remaining_amount::numeric, o.filled_quote::numeric, o.fee_paid::numeric,
           o.hold_amount::numeric, o.created_at, o.updated_at, NULL::jsonb
      FROM unnest(p_order_ids, p_created_ats) AS x(id, created_at)
      JOIN exchange.orders o ON o.id = x.id AND o.created_at = x.created_at
      JOIN exchange.trading_pairs tp ON tp.id = o.trading_pair_id
     ORDER BY o.id;
END;
$$;
COMMENT ON FUNCTION exchange._cancel_orders(bigint[], timestamptz[]) IS
    'Internal: cancels orders already taken off the book under their market locks: status, exact hold release, events, book sequence.';
REVOKE ALL ON FUNCTION exchange._cancel_orders(bigint[], timestamptz[]) FROM PUBLIC;
