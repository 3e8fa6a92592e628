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
