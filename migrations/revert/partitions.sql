-- Revert pyexchange:partitions from pg
-- The partitions themselves go with their parent tables; only the functions are dropped here.
BEGIN;
DROP FUNCTION exchange.create_monthly_partitions(integer, date);
COMMIT;
