-- exchange._partition_horizon() RETURNS integer
-- Internal: how many whole months after the current one (UTC) every range-partitioned table
-- of schema exchange covers without a gap: 3 after the first deploy (this month and three
-- more); 0 when only this month exists; -1 when some table lacks this month (inserts fail
-- now); at most 120. NULL when there is no partitioned table.
-- Raises: nothing. Locks: none (catalog reads).
-- Access: internal (no grant); called by the monitoring functions and run_maintenance.
CREATE OR REPLACE FUNCTION exchange._partition_horizon()
RETURNS integer
LANGUAGE sql
STABLE
AS $$
    WITH parents AS (
        SELECT p.partrelid AS oid
          FROM pg_catalog.pg_partitioned_table p
          JOIN pg_catalog.pg_class c ON c.oid = p.partrelid
         WHERE c.relnamespace = 'exchange'::regnamespace AND p.partstrat = 'r'
    ), parts AS MATERIALIZED (
        SELECT i.inhparent AS parent, m[1]::timestamptz AS lo, m[2]::timestamptz AS hi
          FROM pg_catalog.pg_inherits i
          JOIN parents pa ON pa.oid = i.inhparent
          JOIN pg_catalog.pg_class cc ON cc.oid = i.inhrelid
          CROSS JOIN LATERAL pg_catalog.regexp_match(
                  pg_catalog.pg_get_expr(cc.relpartbound, cc.oid),
                  '^FOR VALUES FROM \(''([^'']+)''\) TO \(''([^'']+)''\)$') m
    ), gaps AS (
        SELECT pa.oid,
               min(g) FILTER (WHERE NOT EXISTS (
                   SELECT 1 FROM parts
                    WHERE parts.parent = pa.oid
                      AND parts.lo <= ((date_trunc('month', now() AT TIME ZONE 'UTC')
                                        + make_interval(months => g)) AT TIME ZONE 'UTC')
                      AND parts.hi >= ((date_trunc('month', now() AT TIME ZONE 'UTC')
                                        + make_interval(months => g + 1)) AT TIME ZONE 'UTC')))
                   AS first_gap
          FROM parents pa CROSS JOIN generate_series(0, 121) g
         GROUP BY pa.oid
    )
    SELECT least(min(coalesce(first_gap, 121)) - 1, 120) FROM gaps;
$$;
COMMENT ON FUNCTION exchange._partition_horizon() IS
    'Internal: whole months after the current one (UTC) that every partitioned table covers; -1 when this month is missing somewhere.';
REVOKE ALL ON FUNCTION exchange._partition_horizon() FROM PUBLIC;
