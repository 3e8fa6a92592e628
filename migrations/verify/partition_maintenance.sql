-- Verify pyexchange:partition_maintenance on pg
BEGIN;
SELECT 'exchange.drop_partitions_older_than(integer, boolean, text)'::regprocedure;
SELECT 'exchange.partition_status(integer, boolean)'::regprocedure;
ROLLBACK;
