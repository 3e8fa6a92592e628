-- Revert pyexchange:partition_maintenance from pg
BEGIN;
DROP FUNCTION exchange.partition_status(integer, boolean);
DROP FUNCTION exchange.drop_partitions_older_than(integer, boolean, text);
COMMIT;
