-- exchange.monitor_table_sizes()
-- Every table of schema exchange (a partitioned table once, summed over its partitions) with
-- its estimated rows, heap, index and total size (with TOAST), and its growth in bytes
-- against the size-history samples (exchange.size_history, written by run_maintenance) taken
-- at least one and seven days ago (NULL without such a sample). Largest first.
-- Raises: nothing. Locks: none.
-- Access: exchange_readonly and exchange_auditor (and superusers, members of exchange_owner);
--         not exchange_app.
CREATE OR REPLACE FUNCTION exchange.monitor_table_sizes()
RETURNS TABLE (table_name text, partitioned boolean, partitions integer, rows_estimate bigint,
               table_bytes bigint, index_bytes bigint, total_bytes bigint,
               growth_1d_bytes bigint, growth_7d_bytes bigint)
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
    WITH t AS (
        SELECT c.oid, c.relname::text AS relname, c.relkind = 'p' AS partitioned
          FROM pg_class c
         WHERE c.relnamespace = 'exchange'::regnamespace AND c.relkind IN ('r', 'p')
           AND NOT c.relispartition
    ), sized AS (
        SELECT t.relname, t.partitioned,
               (count(*) FILTER (WHERE pt.relid <> t.oid))::integer AS partitions,
               sum(greatest(pc.reltuples, 0))::bigint AS rows_estimate,
               sum(pg_table_size(pt.relid))::bigint AS table_bytes,
               sum(pg_indexes_size(pt.relid))::bigint AS index_bytes,
               sum(pg_total_relation_size(pt.relid))::bigint AS total_bytes
          FROM t
          CROSS JOIN LATERAL pg_partition_tree(t.oid) pt
          JOIN pg_class pc ON pc.oid = pt.relid
         WHERE pt.isleaf OR NOT t.partitioned
         GROUP BY t.relname, t.partitioned
    )
    SELECT s.relname, s.partitioned, s.partitions, s.rows_estimate, s.table_bytes,
           s.index_bytes, s.total_bytes,
           s.total_bytes - (SELECT h.bytes FROM exchange.size_history h
                             WHERE h.object_kind = 'table' AND h.object_name = s.relname
                               AND h.sampled_at <= now() - interval '1 day'
                             ORDER BY h.sampled_at DESC LIMIT 1),
           s.total_bytes - (SELECT h.bytes FROM exchange.size_history h
                             WHERE h.object_kind = 'table' AND h.object_name = s.relname
                               AND h.sampled_at <= now() - interval '7 days'
                             ORDER BY h.sampled_at DESC LIMIT 1)
      FROM sized s
     ORDER BY s.total_bytes DESC, s.relname;
$$;
COMMENT ON FUNCTION exchange.monitor_table_sizes() IS
    'Every exchange table (partitioned ones summed) with rows, heap, index and total bytes and its growth over 1 and 7 days from size_history.';
REVOKE ALL ON FUNCTION exchange.monitor_table_sizes() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.monitor_table_sizes() TO exchange_readonly, exchange_auditor;
