-- exchange.monitor_bloat()
-- Bloat of the hot tables (the ones every order, cancel, transfer or relay pass rewrites:
-- accounts, order_book, market_state, stop_orders, holds, withdrawals, outbox_events,
-- kyc_daily_usage, ticker_24hr, idempotency_keys, client_order_ids) and of their B-tree
-- indexes, measured with pgstattuple (schema exchange_monitor):
--   a table's bloat_ratio is its dead tuples and free space over its size
--     (pgstattuple_approx: reads only the pages the visibility map does not vouch for);
--   an index's is 1 - leaf density / fill factor (pgstatindex: reads the whole index; the
--     hot tables' indexes are small), 0 for an index without leaf pages yet.
-- bloat_bytes = bytes * bloat_ratio. reindex_recommended: an index whose ratio reaches
-- maintenance_settings.reindex_bloat_ratio and whose size reaches reindex_min_bytes
-- (run_maintenance reports it; pyexchange maintenance run rebuilds it with REINDEX
-- CONCURRENTLY). Returns no row when pgstattuple is not installed.
-- Raises: nothing. Locks: ACCESS SHARE on the relations measured.
-- Access: exchange_readonly and exchange_auditor (and superusers, members of exchange_owner);
--         not exchange_app. Runs as exchange_owner (pg_stat_scan_tables through pg_monitor).
CREATE OR REPLACE FUNCTION exchange.monitor_bloat()
RETURNS TABLE (object_kind text, object_name text, table_name text, bytes bigint,
               bloat_ratio double precision, bloat_bytes bigint, reindex_recommended boolean)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
DECLARE
    v_settings exchange.maintenance_settings;
    v_rel      record;
    v_ratio    double precision;
BEGIN
    IF to_regprocedure('exchange_monitor.pgstatindex(regclass)') IS NULL THEN
        RETURN;
    END IF;
    SELECT * INTO v_settings FROM exchange.maintenance_settings;
    FOR v_rel IN
        SELECT c.oid, c.relname::text AS relname, c.relname::text AS tablename, 'table' AS kind,
               NULL::integer AS fillfactor
          FROM pg_class c
         WHERE c.relnamespace = 'exchange'::regnamespace AND c.relkind = 'r'
           AND c.relname IN ('accounts', 'order_book', 'market_state', 'stop_orders', 'holds',
                             'withdrawals', 'outbox_events', 'kyc_daily_usage', 'ticker_24hr',
                             'idempotency_keys', 'client_order_ids')
        UNION ALL
        SELECT ic.oid, ic.relname::text, tc.relname::text, 'index',
               coalesce((SELECT split_part(o, '=', 2)::integer FROM unnest(ic.reloptions) o
                          WHERE o LIKE 'fillfactor=%'), 90)
          FROM pg_index i
          JOIN pg_class ic ON ic.oid = i.indexrelid
          JOIN pg_class tc ON tc.oid = i.indrelid
          JOIN pg_am am ON am.oid = ic.relam
         WHERE tc.relnamespace = 'exchange'::regnamespace AND tc.relkind = 'r'
           AND am.amname = 'btree' AND i.indisvalid
           AND tc.relname IN ('accounts', 'order_book', 'market_state', 'stop_orders', 'holds',
                              'withdrawals', 'outbox_events', 'kyc_daily_usage', 'ticker_24hr',
                              'idempotency_keys', 'client_order_ids')
         ORDER BY 3, 4 DESC, 2
    LOOP
        object_kind := v_rel.kind;
        object_name := v_rel.relname;
        table_name := v_rel.tablename;
        bytes := pg_relation_size(v_rel.oid);
        IF v_rel.kind = 'table' THEN
            EXECUTE 'SELECT CASE WHEN s.table_len > 0
                                 THEN (s.dead_tuple_len + s.approx_free_space)::double precision / s.table_len
                                 ELSE 0 END
                       FROM exchange_monitor.pgstattuple_approx($1) s'
               INTO v_ratio USING v_rel.oid;
        ELSE
            EXECUTE 'SELECT CASE WHEN s.leaf_pages > 0 AND s.avg_leaf_density = s.avg_leaf_density
                                 THEN greatest(0, 1 - s.avg_leaf_density / $2)
                                 ELSE 0 END
                       FROM exchange_monitor.pgstatindex($1) s'
               INTO v_ratio USING v_rel.oid::regclass, v_rel.fillfactor::double precision;
        END IF;
        bloat_ratio := v_ratio;
        bloat_bytes := (bytes * v_ratio)::bigint;
        reindex_recommended := v_rel.kind = 'index'
                               AND v_ratio >= v_settings.reindex_bloat_ratio
                               AND bytes >= v_settings.reindex_min_bytes;
        RETURN NEXT;
    END LOOP;
END;
$$;
COMMENT ON FUNCTION exchange.monitor_bloat() IS
    'Bloat of the hot tables and their B-tree indexes (pgstattuple), with the indexes whose bloat passes the maintenance threshold.';
REVOKE ALL ON FUNCTION exchange.monitor_bloat() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.monitor_bloat() TO exchange_readonly, exchange_auditor;
