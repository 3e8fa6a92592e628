-- exchange._record_size_sample() RETURNS integer
-- Internal: appends one sample to exchange.size_history, all rows stamped now(): the
-- database's size, each table of schema exchange (a partitioned table once, summed over its
-- partitions; table, indexes and TOAST) and each index (a partitioned index summed over its
-- partitions' indexes). Monthly partitions are not sampled one by one. Returns the number of
-- rows written.
-- Raises: nothing. Locks: ROW EXCLUSIVE on size_history.
-- Access: internal (no grant); called by exchange.run_maintenance.
CREATE OR REPLACE FUNCTION exchange._record_size_sample()
RETURNS integer
LANGUAGE sql
AS $$
    WITH ins AS (
        INSERT INTO exchange.size_history (sampled_at, object_kind, object_name, bytes)
        SELECT now(), 'database', current_database(), pg_catalog.pg_database_size(current_database())
        UNION ALL
        SELECT now(), CASE WHEN c.relkind IN ('r', 'p') THEN 'table' ELSE 'index' END,
               c.relname::text,
               CASE c.relkind
                   WHEN 'r' THEN pg_catalog.pg_total_relation_size(c.oid)
                   WHEN 'i' THEN pg_catalog.pg_relation_size(c.oid)
                   WHEN 'p' THEN coalesce((SELECT sum(pg_catalog.pg_total_relation_size(t.relid))
                                             FROM pg_catalog.pg_partition_tree(c.oid) t
                                            WHERE t.isleaf), 0)::bigint
                   ELSE coalesce((SELECT sum(pg_catalog.pg_relation_size(t.relid))
                                    FROM pg_catalog.pg_partition_tree(c.oid) t
                                   WHERE t.isleaf), 0)::bigint
               END
          FROM pg_catalog.pg_class c
         WHERE c.relnamespace = 'exchange'::regnamespace
           AND c.relkind IN ('r', 'p', 'i', 'I')
           AND NOT c.relispartition
        RETURNING 1
    )
    SELECT count(*)::integer FROM ins;
$$;
COMMENT ON FUNCTION exchange._record_size_sample() IS
    'Internal: appends the sizes of the database, every exchange table and index to size_history; returns the rows written.';
REVOKE ALL ON FUNCTION exchange._record_size_sample() FROM PUBLIC;
