-- name: create_monthly_partitions
SELECT table_name, partition_name, range_start, range_end, created
  FROM exchange.create_monthly_partitions(
           %(months_ahead)s, COALESCE(%(from_date)s::date, current_date));
