-- exchange.monitor_index_usage()
-- Every index of schema exchange (an index of a partitioned table once, summed over its
-- partitions) with its table, scans and tuples read since the statistics were reset, its
-- size, whether it backs a constraint (primary key, unique, exclusion), and unused = no
-- scan and no constraint: a candidate to drop (after a full business cycle of statistics,
-- and never on a standby's say alone: its scans are counted where they run).
-- Raises: nothing. Locks: none.
-- Access: exchange_readonly and exchange_auditor (and superusers, members of exchange_owner);
--         not exchange_app.
CREATE OR REPLACE FUNCTION exchange.monitor_index_usage()
RETURNS TABLE (index_name text, table_name text, scans bigint, tuples_read bigint,
               bytes bigint, backs_constraint boolean, unused boolean)
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
    WITH idx AS (
        SELECT ic.oid, ic.relname::text AS index_name, tc.relname::text AS table_name,
               EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = ic.oid
                          AND k.contype IN ('p', 'u', 'x')) AS backs_constraint
          FROM pg_index i
          JOIN pg_class ic ON ic.oid = i.indexrelid
          JOIN pg_class tc ON tc.oid = i.indrelid
         WHERE ic.relnamespace = 'exchange'::regnamespace AND NOT ic.relispartition
    ), usage AS (
        SELECT idx.index_name, idx.table_name, idx.backs_constraint,
               coalesce(sum(s.idx_scan), 0)::bigint AS scans,
               coalesce(sum(s.idx_tup_read), 0)::bigint AS tuples_read,
               coalesce(sum(pg_relation_size(pt.relid)), 0)::bigint AS bytes
          FROM idx
          CROSS JOIN LATERAL pg_partition_tree(idx.oid) pt
          LEFT JOIN pg_stat_all_indexes s ON s.indexrelid = pt.relid
         WHERE pt.isleaf
         GROUP BY idx.index_name, idx.table_name, idx.backs_constraint
    )
    SELECT u.index_name, u.table_name, u.scans, u.tuples_read, u.bytes, u.backs_constraint,
           u.scans = 0 AND NOT u.backs_constraint
      FROM usage u
     ORDER BY u.table_name, u.index_name;
$$;
COMMENT ON FUNCTION exchange.monitor_index_usage() IS
    'Every exchange index (partitioned ones summed) with scans, tuples read, size, whether it backs a constraint, and unused (no scan, no constraint).';
REVOKE ALL ON FUNCTION exchange.monitor_index_usage() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.monitor_index_usage() TO exchange_readonly, exchange_auditor;
