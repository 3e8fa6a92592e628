-- exchange.settlement_report(p_batch_id bigint)
--   RETURNS TABLE (batch_id bigint, business_date date, status exchange.batch_status,
--                  trades_count bigint, cutoff_at timestamptz, attempts integer,
--                  started_at timestamptz, finished_at timestamptz, pairs jsonb,
--                  assets jsonb, discrepancies jsonb)
-- One settlement batch as a report (one row): the batch; pairs: per pair symbol,
-- trades, volume, quote volume, fees in base and quote, the sweep's journal record; assets:
-- per asset the users' totals bought, sold, fees paid, net (net sums to minus the fees
-- that went to the exchange) and the number of users; discrepancies: kind and detail of
-- each (FAILED batches). Amounts are decimal strings. Permission report:read.
-- Raises: EX320/EX321 acting user; EX422 unknown batch. Locks: none.
CREATE OR REPLACE FUNCTION exchange.settlement_report(p_batch_id bigint)
RETURNS TABLE (batch_id bigint, business_date date, status exchange.batch_status,
               trades_count bigint, cutoff_at timestamptz, attempts integer,
               started_at timestamptz, finished_at timestamptz, pairs jsonb, assets jsonb,
               discrepancies jsonb)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM exchange._require_admin('report', 'read');
    IF NOT EXISTS (SELECT 1 FROM exchange.settlement_batches b WHERE b.id = p_batch_id) THEN
        RAISE EXCEPTION USING ERRCODE = 'EX422',
            MESSAGE = format('unknown settlement batch %s', COALESCE(p_batch_id::text, 'NULL')),
            DETAIL = 'exchange.settlement_batches has no batch with this id.',
            HINT = 'list_settlement_batches() shows the batches.';
    END IF;
    RETURN QUERY
    SELECT b.id, b.business_date, b.status, b.trades_count, b.cutoff_at, b.attempts,
           b.started_at, b.finished_at,
           COALESCE((SELECT jsonb_agg(jsonb_build_object(
                        'symbol', tp.symbol, 'trades_count', pt.trades_count,
                        'volume', trim_scale(pt.volume)::text,
                        'quote_volume', trim_scale(pt.quote_volume)::text,
                        'base_asset', ba.symbol, 'base_fees', trim_scale(pt.base_fees)::text,
                        'quote_asset', qa.symbol, 'quote_fees', trim_scale(pt.quote_fees)::text,
                        'sweep_journal_id', pt.sweep_journal_id) ORDER BY tp.symbol)
                       FROM exchange.settlement_pair_totals pt
                       JOIN exchange.trading_pairs tp ON tp.id = pt.trading_pair_id
                       JOIN exchange.assets ba ON ba.id = tp.base_asset_id
                       JOIN exchange.assets qa ON qa.id = tp.quote_asset_id
                      WHERE pt.batch_id = b.id), '[]'::jsonb),
           COALESCE((SELECT jsonb_agg(jsonb_build_object(
                        'asset', s.symbol, 'users', s.users, 'bought', trim_scale(s.bought)::text,
                        'sold', trim_scale(s.sold)::text, 'fees_paid', trim_scale(s.fees)::text,
                        'net', trim_scale(s.net)::text) ORDER BY s.symbol)
                       FROM (SELECT a.symbol, count(*) AS users, sum(d.bought) AS bought,
                                    sum(d.sold) AS sold, sum(d.fees_paid) AS fees, sum(d.net) AS net
                               FROM exchange.settlement_details d
                               JOIN exchange.assets a ON a.id = d.asset_id
                              WHERE d.batch_id = b.id
                              GROUP BY a.symbol) s), '[]'::jsonb),
           COALESCE((SELECT jsonb_agg(jsonb_build_object('id', x.id, 'kind', x.kind,
                                                         'detail', x.detail) ORDER BY x.id)
                       FROM exchange.settlement_discrepancies x
                      WHERE x.batch_id = b.id), '[]'::jsonb)
      FROM exchange.settlement_batches b
     WHERE b.id = p_batch_id;
END;
$$;
COMMENT ON FUNCTION exchange.settlement_report(bigint) IS
    'One settlement batch as a report: pair totals, per-asset user totals, discrepancies (report:read). Raises EX320, EX321, EX422.';
REVOKE ALL ON FUNCTION exchange.settlement_report(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.settlement_report(bigint) TO exchange_app;

-- exchange.list_settlement_batches(p_limit integer DEFAULT 30)
--   RETURNS SETOF exchange.settlement_batches
-- The latest batches, newest business day first. Permission report:read.
-- Raises: EX320/EX321 acting user. Locks: none.
CREATE OR REPLACE FUNCTION exchange.list_settlement_batches(p_limit integer DEFAULT 30)
RETURNS SETOF exchange.settlement_batches
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM exchange._require_admin('report', 'read');
    RETURN QUERY
    SELECT b.* FROM exchange.settlement_batches b
     ORDER BY b.business_date DESC
     LIMIT GREATEST(COALESCE(p_limit, 30), 1);
END;
$$;
COMMENT ON FUNCTION exchange.list_settlement_batches(integer) IS
    'The latest settlement batches, newest day first (report:read). Raises EX320, EX321.';
REVOKE ALL ON FUNCTION exchange.list_settlement_batches(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.list_settlement_batches(integer) TO exchange_app;

-- exchange.user_statement(p_user_id bigint, p_business_date date)
--   RETURNS TABLE (user_id bigint, business_date date, asset text, trades_count bigint,
--                  bought numeric, sold numeric, fees_paid numeric, net numeric,
--                  batch_id bigint, batch_status exchange.batch_status)
-- A user's daily statement: per asset, what the user's trades of the UTC day bought, sold
-- and paid in fees, and the net; with the settlement batch that cleared the day, if any.
-- Computed from the trades themselves, so a day not cleared yet has a statement too.
-- Access: the user, or an acting user with report:read (exchange._authorize_for_user).
-- Raises: EX320, EX360, EX303, EX321, EX322 (access); EX309 no such user; EX411 date or user
-- NULL, or a date outside 1970..9999. Locks: none.
CREATE OR REPLACE FUNCTION exchange.user_statement(p_user_id bigint, p_business_date date)
RETURNS TABLE (user_id bigint, business_date date, asset text, trades_count bigint,
               bought numeric, sold numeric, fees_paid numeric, net numeric,
               batch_id bigint, batch_status exchange.batch_status)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
DECLARE
    v_from   timestamptz;
BEGIN
    IF p_user_id IS NULL OR p_business_date IS NULL
       OR NOT (p_business_date BETWEEN date '1970-01-01' AND date '9999-12-30') THEN
        RAISE EXCEPTION USING ERRCODE = 'EX411',
            MESSAGE = 'a statement needs a user and a date',
            DETAIL = format('user %s, date %s (dates from 1970-01-01 to 9999-12-30)',
                            p_user_id, p_business_date),
            HINT = 'Pass both, the date a finite day.';
    END IF;
    v_from := p_business_date::timestamp AT TIME ZONE 'UTC';
    PERFORM exchange._authorize_for_user(p_user_id, 'report', 'read');
    IF NOT EXISTS (SELECT 1 FROM exchange.users u WHERE u.id = p_user_id) THEN
        RAISE EXCEPTION USING ERRCODE = 'EX309',
            MESSAGE = format('user %s does not exist', p_user_id),
            DETAIL = 'exchange.users has no user with this id.',
            HINT = 'A statement is for an existing user: check the user id.';
    END IF;
    RETURN QUERY
    WITH t AS (
        SELECT x.* FROM exchange.trades x
         WHERE x.buyer_user_id = p_user_id
           AND x.created_at >= v_from AND x.created_at < v_from + interval '1 day'
        UNION
        SELECT x.* FROM exchange.trades x
         WHERE x.seller_user_id = p_user_id
           AND x.created_at >= v_from AND x.created_at < v_from + interval '1 day'
    ), m AS (
        SELECT t.id, v.asset_id, v.bought, v.sold, v.fee
          FROM t
          JOIN exchange.trading_pairs tp ON tp.id = t.trading_pair_id
         CROSS JOIN LATERAL (VALUES
               (t.buyer_user_id, tp.base_asset_id, t.amount::numeric, 0::numeric, t.buyer_fee::numeric),
               (t.buyer_user_id, tp.quote_asset_id, 0, t.quote_amount, 0),
               (t.seller_user_id, tp.base_asset_id, 0, t.amount, 0),
               (t.seller_user_id, tp.quote_asset_id, t.quote_amount, 0, t.seller_fee))
               AS v(user_id, asset_id, bought, sold, fee)
         WHERE v.user_id = p_user_id
    )
    SELECT p_user_id, p_business_date, a.symbol::text, count(DISTINCT m.id),
           trim_scale(sum(m.bought)), trim_scale(sum(m.sold)), trim_scale(sum(m.fee)),
           trim_scale(sum(m.bought) - sum(m.sold) - sum(m.fee)), b.id, b.status
      FROM m
      JOIN exchange.assets a ON a.id = m.asset_id
      LEFT JOIN exchange.settlement_batches b
             ON b.business_date = p_business_date AND b.status = 'COMPLETED'
     GROUP BY a.symbol, b.id, b.status
     ORDER BY a.symbol;
END;
$$;
COMMENT ON FUNCTION exchange.user_statement(bigint, date) IS
    'A user''s daily statement per asset (bought, sold, fees, net) from the day''s trades, with the clearing batch (self or report:read). Raises EX309, EX321, EX411.';
REVOKE ALL ON FUNCTION exchange.user_statement(bigint, date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.user_statement(bigint, date) TO exchange_app;
