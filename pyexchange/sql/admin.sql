-- name: create_monthly_partitions
SELECT table_name, partition_name, range_start, range_end, created
  FROM exchange.create_monthly_partitions(
           %(months_ahead)s, COALESCE(%(from_date)s::date, current_date));

-- name: partition_status
SELECT table_name, partition_name, month, range_start, range_end, row_count, total_bytes, missing
  FROM exchange.partition_status(%(months_ahead)s, %(exact)s);

-- name: drop_partitions_older_than
SELECT table_name, partition_name, range_start, range_end
  FROM exchange.drop_partitions_older_than(%(keep_months)s, %(dry_run)s);

-- name: table_row_counts
-- Every table of schema exchange (partitioned parents counted through their partitions;
-- the partitions themselves are not listed), with its exact row count.
SELECT c.relname::text AS table_name,
       c.relkind = 'p' AS partitioned,
       (xpath('/row/n/text()',
              query_to_xml(format('SELECT count(*) AS n FROM exchange.%I', c.relname),
                           false, true, '')))[1]::text::bigint AS row_count
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'exchange' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
 ORDER BY c.relname;
