-- exchange.partition_status(p_months_ahead int DEFAULT 3, p_exact boolean DEFAULT true)
-- For each range-partitioned table of schema exchange (orders, trades, klines, notifications,
-- audit_logs): one row per partition, with its month (UTC), range, rows and size on disk
-- (table, indexes and TOAST), and one row per month missing among the current month (UTC)
-- and the p_months_ahead months after it (missing = true, partition_name NULL): the months
-- that exchange.create_monthly_partitions would create. A partition whose bounds are not a
-- month (attached by hand) is reported with month NULL. Rows are exact counts (a scan of
-- each partition) unless p_exact is false, when they are the planner's estimate
-- (pg_class.reltuples; NULL before the first ANALYZE).
-- Raises: EX001 (p_months_ahead NULL or outside 0..120).
-- Locks: ACCESS SHARE on the partitions it counts.
-- Access: superusers, members of exchange_owner, exchange_readonly and exchange_auditor (for
--         monitoring: it runs as exchange_owner, so they need no privilege on the tables);
--         not exchange_app.
CREATE OR REPLACE FUNCTION exchange.partition_status(
    p_months_ahead integer DEFAULT 3,
    p_exact boolean DEFAULT true
)
RETURNS TABLE (table_name text, partition_name text, month date, range_start timestamptz,
               range_end timestamptz, row_count bigint, total_bytes bigint, missing boolean)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
DECLARE
    v_row record;
    v_this_month date := date_trunc('month', now() AT TIME ZONE 'UTC')::date;
BEGIN
    IF p_months_ahead IS NULL OR p_months_ahead NOT BETWEEN 0 AND 120 OR p_exact IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX001',
            MESSAGE = format('invalid partition horizon: %s months', p_months_ahead),
            DETAIL = 'p_months_ahead is NULL or outside 0..120.',
            HINT = 'p_months_ahead must be between 0 and 120.';
    END IF;

    FOR v_row IN
        WITH parents AS (
            SELECT c.oid, c.relname::text AS relname
              FROM pg_partitioned_table p
              JOIN pg_class c ON c.oid = p.partrelid
              JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = 'exchange' AND p.partstrat = 'r'
        ), parts AS (
            SELECT pa.relname AS parent, cc.oid AS child_oid, cc.relname::text AS child,
                   cc.reltuples, m[1]::timestamptz AS lo, m[2]::timestamptz AS hi
              FROM parents pa
              JOIN pg_inherits i ON i.inhparent = pa.oid
              JOIN pg_class cc ON cc.oid = i.inhrelid
              LEFT JOIN LATERAL regexp_match(pg_get_expr(cc.relpartbound, cc.oid),
                       '^FOR VALUES FROM \(''([^'']+)''\) TO \(''([^'']+)''\)$') m ON true
        ), months AS (
            SELECT pa.relname AS parent,
                   (v_this_month + make_interval(months => g))::date AS month
              FROM parents pa CROSS JOIN generate_series(0, p_months_ahead) g
        )
        SELECT parts.parent, parts.child, parts.child_oid, parts.reltuples,
               CASE WHEN (parts.lo AT TIME ZONE 'UTC') = date_trunc('month', parts.lo AT TIME ZONE 'UTC')
                     AND (parts.hi AT TIME ZONE 'UTC')
                         = date_trunc('month', parts.lo AT TIME ZONE 'UTC') + interval '1 month'
                    THEN (parts.lo AT TIME ZONE 'UTC')::date END AS month,
               parts.lo, parts.hi, false AS missing
          FROM parts
        UNION ALL
        SELECT mo.parent, NULL, NULL, NULL, mo.month,
               (mo.month::timestamp AT TIME ZONE 'UTC'),
               ((mo.month + interval '1 month') AT TIME ZONE 'UTC'), true
          FROM months mo
         WHERE NOT EXISTS (SELECT 1 FROM parts
                            WHERE parts.parent = mo.parent
                              AND parts.lo <= (mo.month::timestamp AT TIME ZONE 'UTC')
                              AND parts.hi > (mo.month::timestamp AT TIME ZONE 'UTC'))
         ORDER BY 1, 6 NULLS LAST, 2
    LOOP
        table_name := v_row.parent;
        partition_name := v_row.child;
        month := v_row.month;
        range_start := v_row.lo;
        range_end := v_row.hi;
        missing := v_row.missing;
        row_count := NULL;
        total_bytes := NULL;
        IF NOT v_row.missing THEN
            total_bytes := pg_total_relation_size(v_row.child_oid);
            IF p_exact THEN
                EXECUTE format('SELECT count(*) FROM exchange.%I', v_row.child) INTO row_count;
            ELSIF v_row.reltuples >= 0 THEN
                row_count := v_row.reltuples::bigint;
            END IF;
        END IF;
        RETURN NEXT;
    END LOOP;
END;
$$;
COMMENT ON FUNCTION exchange.partition_status(integer, boolean) IS
    'Per partitioned exchange table: each partition''s month, range, rows and size, and the months missing among the current month (UTC) and the p_months_ahead after it. Raises EX001.';
REVOKE ALL ON FUNCTION exchange.partition_status(integer, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.partition_status(integer, boolean) TO exchange_readonly, exchange_auditor;
