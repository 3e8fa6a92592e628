-- Revert pyexchange:operations from pg
-- (pg_monitor stays granted to exchange_owner: role memberships are the cluster's.)
BEGIN;
DROP FUNCTION exchange.run_maintenance(boolean, boolean);
DROP FUNCTION exchange.monitor_reconcile();
DROP FUNCTION exchange.monitor_replication();
DROP FUNCTION exchange.monitor_activity(double precision);
DROP FUNCTION exchange.monitor_bloat();
DROP FUNCTION exchange.monitor_index_usage();
DROP FUNCTION exchange.monitor_table_sizes();
DROP FUNCTION exchange.monitor_slow_statements(integer, double precision);
DROP FUNCTION exchange.monitor_connections();
DROP FUNCTION exchange.monitor_overview(interval);
DROP FUNCTION exchange._record_size_sample();
DROP FUNCTION exchange._partition_horizon();
DROP TABLE exchange.size_history;
DROP TABLE exchange.maintenance_settings;
DROP INDEX IF EXISTS exchange.orders_created_at_brin_idx;
DROP INDEX IF EXISTS exchange.trades_created_at_brin_idx;
DROP INDEX IF EXISTS exchange.withdrawals_created_at_brin_idx;
DROP SCHEMA exchange_monitor CASCADE;
COMMIT;
