-- Verify pyexchange:operations on pg
BEGIN;
SELECT singleton FROM exchange.maintenance_settings WHERE false;
SELECT sampled_at FROM exchange.size_history WHERE false;
SELECT 'exchange._partition_horizon()'::regprocedure;
SELECT 'exchange._record_size_sample()'::regprocedure;
SELECT 'exchange.monitor_overview(interval)'::regprocedure;
SELECT 'exchange.monitor_connections()'::regprocedure;
SELECT 'exchange.monitor_slow_statements(integer, double precision)'::regprocedure;
SELECT 'exchange.monitor_table_sizes()'::regprocedure;
SELECT 'exchange.monitor_index_usage()'::regprocedure;
SELECT 'exchange.monitor_bloat()'::regprocedure;
SELECT 'exchange.monitor_activity(double precision)'::regprocedure;
SELECT 'exchange.monitor_replication()'::regprocedure;
SELECT 'exchange.monitor_reconcile()'::regprocedure;
SELECT 'exchange.run_maintenance(boolean, boolean)'::regprocedure;
ROLLBACK;
