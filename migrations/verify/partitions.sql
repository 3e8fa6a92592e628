-- Verify pyexchange:partitions on pg
BEGIN;
SELECT 'exchange.create_monthly_partitions(integer, date)'::regprocedure;
-- Every partitioned table has a partition holding now().
SELECT 1 / (count(*) = 5)::int
  FROM pg_partitioned_table p
  JOIN pg_class c ON c.oid = p.partrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'exchange'
   AND EXISTS (SELECT 1 FROM pg_inherits i JOIN pg_class pc ON pc.oid = i.inhrelid
                WHERE i.inhparent = p.partrelid
                  AND pc.relname = c.relname || '_' || to_char(now() AT TIME ZONE 'UTC', 'YYYY_MM'));
ROLLBACK;
