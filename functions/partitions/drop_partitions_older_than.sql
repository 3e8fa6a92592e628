-- exchange.drop_partitions_older_than(p_keep_months int, p_dry_run boolean DEFAULT false,
--                                     p_table_name text DEFAULT NULL)
-- Retention: drops every monthly partition of the partitioned exchange tables (orders, trades,
-- klines, notifications, audit_logs; only p_table_name's when given, so that each table has
-- its own retention) whose whole range lies before the kept window. The kept
-- window is the current month (UTC) and the p_keep_months months before it, so
-- p_keep_months = 0 keeps only this month and the months ahead. Each partition is detached
-- first (its rows stop being visible through the parent) and then dropped.
-- Refuses, and drops nothing at all, when a partition to drop still holds an open order
-- (status NEW, PARTIALLY_FILLED or PENDING), or when a trade kept in a younger partition
-- still references an order of a partition to drop. With p_dry_run it only reports what it
-- would drop (after the same checks). Returns one row per partition dropped, oldest first;
-- trades partitions come before orders partitions of the same month (trades reference orders).
-- An orders partition is also refused while any trade not dropped by the same call (with
-- p_table_name = 'orders': any trade) references one of its orders: prune trades first.
-- Raises: EX001 (p_keep_months NULL or outside 0..1200), EX003 (a partition still in use),
--         EX020 (p_table_name is not a partitioned table of schema exchange).
-- Locks: a transaction advisory lock serialising partition maintenance; DETACH takes ACCESS
--        EXCLUSIVE on each parent table for the moment of the detach (the transaction keeps it
--        until commit, so run it off-peak).
-- Access: a DBA (a superuser or a member of exchange_owner, runs with the caller's rights);
--         not granted to any exchange role. exchange.run_maintenance calls it per table.
CREATE OR REPLACE FUNCTION exchange.drop_partitions_older_than(
    p_keep_months integer,
    p_dry_run boolean DEFAULT false,
    p_table_name text DEFAULT NULL
)
RETURNS TABLE (table_name text, partition_name text, range_start timestamptz,
               range_end timestamptz)
LANGUAGE plpgsql
SET search_path = exchange, pg_catalog, pg_temp
AS $$
DECLARE
    v_cutoff  timestamptz;
    v_parents  text[];
    v_children text[];
    v_starts   timestamptz[];
    v_ends     timestamptz[];
    v_open     bigint;
    v_kept_trades_from timestamptz;
BEGIN
    IF p_keep_months IS NULL OR p_keep_months NOT BETWEEN 0 AND 1200 OR p_dry_run IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX001',
            MESSAGE = format('invalid retention: keep %s months', p_keep_months),
            DETAIL = 'p_keep_months is NULL or outside 0..1200.',
            HINT = 'p_keep_months must be between 0 and 1200 (0 keeps only the current month).';
    END IF;

    IF p_table_name IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM pg_partitioned_table p
          JOIN pg_class c ON c.oid = p.partrelid
         WHERE c.relnamespace = 'exchange'::regnamespace AND p.partstrat = 'r'
           AND c.relname = p_table_name) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX020',
            MESSAGE = format('%s is not a partitioned table of schema exchange', p_table_name),
            DETAIL = 'Only the range-partitioned tables of schema exchange have monthly partitions.',
            HINT = 'Name one of orders, trades, klines, notifications, audit_logs (or NULL for all).';
    END IF;

    PERFORM pg_advisory_xact_lock(hashtext('exchange.partition_maintenance'));

    -- The first instant kept: the start (UTC) of the month p_keep_months before this one.
    v_cutoff := (date_trunc('month', now() AT TIME ZONE 'UTC')
                 - make_interval(months => p_keep_months)) AT TIME ZONE 'UTC';

    SELECT coalesce(array_agg(b.parent ORDER BY b.lo, b.ord, b.parent), '{}'),
           coalesce(array_agg(b.child ORDER BY b.lo, b.ord, b.parent), '{}'),
           coalesce(array_agg(b.lo ORDER BY b.lo, b.ord, b.parent), '{}'),
           coalesce(array_agg(b.hi ORDER BY b.lo, b.ord, b.parent), '{}')
      INTO v_parents, v_children, v_starts, v_ends
      FROM (SELECT pc.relname::text AS parent, cc.relname::text AS child,
                   m[1]::timestamptz AS lo, m[2]::timestamptz AS hi,
                   CASE pc.relname WHEN 'trades' THEN 0 WHEN 'orders' THEN 2 ELSE 1 END AS ord
              FROM pg_partitioned_table p
              JOIN pg_class pc ON pc.oid = p.partrelid
              JOIN pg_namespace n ON n.oid = pc.relnamespace
              JOIN pg_inherits i ON i.inhparent = p.partrelid
              JOIN pg_class cc ON cc.oid = i.inhrelid
              CROSS JOIN LATERAL regexp_match(pg_get_expr(cc.relpartbound, cc.oid),
                                              '^FOR VALUES FROM \(''([^'']+)''\) TO \(''([^'']+)''\)$') m
             WHERE n.nspname = 'exchange' AND p.partstrat = 'r'
               AND (p_table_name IS NULL OR pc.relname = p_table_name)) b
     WHERE b.hi <= v_cutoff;
    -- Trades that stay after this call: those after the cutoff when trades are pruned with
    -- the orders, every trade otherwise.
    v_kept_trades_from := CASE WHEN p_table_name IS NULL THEN v_cutoff ELSE '-infinity' END;

    -- Refuse before touching anything: open orders in an orders partition to drop, ...
    FOR i IN 1 .. cardinality(v_children) LOOP
        CONTINUE WHEN v_parents[i] <> 'orders';
        EXECUTE format('SELECT count(*) FROM exchange.%I WHERE status IN (%L, %L, %L)',
                       v_children[i], 'NEW', 'PARTIALLY_FILLED', 'PENDING')
           INTO v_open;
        IF v_open > 0 THEN
            RAISE EXCEPTION USING
                ERRCODE = 'EX003',
                MESSAGE = format('partition %s still holds %s open order(s)', v_children[i], v_open),
                DETAIL = format('Orders with status NEW, PARTIALLY_FILLED or PENDING created from %s to %s.',
                                v_starts[i], v_ends[i]),
                HINT = 'Cancel or expire those orders first, or keep more months.';
        END IF;
        -- ... or orders still referenced by trades that are kept.
        IF EXISTS (SELECT 1 FROM exchange.trades t
                    WHERE t.created_at >= v_kept_trades_from
                      AND ((t.buyer_order_created_at >= v_starts[i]
                            AND t.buyer_order_created_at < v_ends[i])
                        OR (t.seller_order_created_at >= v_starts[i]
                            AND t.seller_order_created_at < v_ends[i]))) THEN
            RAISE EXCEPTION USING
                ERRCODE = 'EX003',
                MESSAGE = format('partition %s holds orders that kept trades reference', v_children[i]),
                DETAIL = format('Trades created since %s reference orders created from %s to %s.',
                                v_kept_trades_from, v_starts[i], v_ends[i]),
                HINT = 'Keep more months, or drop the trades of those months first.';
        END IF;
    END LOOP;

    FOR i IN 1 .. cardinality(v_children) LOOP
        IF NOT p_dry_run THEN
            EXECUTE format('ALTER TABLE exchange.%I DETACH PARTITION exchange.%I',
                           v_parents[i], v_children[i]);
            -- Re-check on the detached table: nothing can be written to it any more.
            IF v_parents[i] = 'orders' THEN
                EXECUTE format('SELECT count(*) FROM exchange.%I WHERE status IN (%L, %L, %L)',
                               v_children[i], 'NEW', 'PARTIALLY_FILLED', 'PENDING')
                   INTO v_open;
                IF v_open > 0 THEN
                    RAISE EXCEPTION USING
                        ERRCODE = 'EX003',
                        MESSAGE = format('partition %s still holds %s open order(s)',
                                         v_children[i], v_open),
                        DETAIL = 'Dropping it would delete open orders and their holds.',
                        HINT = 'Cancel or expire those orders first, or keep more months.';
                END IF;
            END IF;
            EXECUTE format('DROP TABLE exchange.%I', v_children[i]);
        END IF;
        table_name := v_parents[i];
        partition_name := v_children[i];
        range_start := v_starts[i];
        range_end := v_ends[i];
        RETURN NEXT;
    END LOOP;
END;
$$;
COMMENT ON FUNCTION exchange.drop_partitions_older_than(integer, boolean, text) IS
    'Retention: detaches then drops the monthly partitions older than the current month (UTC) and the p_keep_months before it; refuses (EX003) while one holds an open order or a kept trade references it; p_table_name limits it to one table. Raises EX001, EX003, EX020.';
REVOKE ALL ON FUNCTION exchange.drop_partitions_older_than(integer, boolean, text) FROM PUBLIC;
