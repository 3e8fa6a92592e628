-- Operations (docs/operations.md): monitoring, maintenance and its scheduling.

-- name: monitor_overview
SELECT * FROM exchange.monitor_overview(%(window)s::interval);

-- name: monitor_connections
SELECT database_name, role_name, state, connections, waiting_on_lock, oldest_transaction_seconds
  FROM exchange.monitor_connections();

-- name: monitor_slow_statements
SELECT query, role_name, calls, total_ms, mean_ms, max_ms, rows, cache_hit_ratio
  FROM exchange.monitor_slow_statements(%(limit)s, %(min_mean_ms)s);

-- name: monitor_table_sizes
SELECT table_name, partitioned, partitions, rows_estimate, table_bytes, index_bytes,
       total_bytes, growth_1d_bytes, growth_7d_bytes
  FROM exchange.monitor_table_sizes();

-- name: monitor_index_usage
SELECT index_name, table_name, scans, tuples_read, bytes, backs_constraint, unused
  FROM exchange.monitor_index_usage();

-- name: monitor_bloat
SELECT object_kind, object_name, table_name, bytes, bloat_ratio, bloat_bytes, reindex_recommended
  FROM exchange.monitor_bloat();

-- name: monitor_activity
SELECT pid, role_name, application_name, state, transaction_seconds, statement_seconds,
       wait_event_type, wait_event, blocked_by, query
  FROM exchange.monitor_activity(%(min_seconds)s);

-- name: monitor_replication
SELECT role, application_name, client_addr, state, sync_state, lag_bytes,
       write_lag_seconds, flush_lag_seconds, replay_lag_seconds
  FROM exchange.monitor_replication();

-- name: monitor_reconcile
SELECT check_name, discrepancies FROM exchange.monitor_reconcile();

-- name: run_maintenance
SELECT step, target, outcome, detail
  FROM exchange.run_maintenance(%(dry_run)s, %(schedule_reindex)s);

-- name: reindex_target
-- The index REINDEX CONCURRENTLY rebuilds, checked to be an index of schema exchange.
SELECT c.oid::regclass::text AS name
  FROM pg_class c
 WHERE c.relnamespace = 'exchange'::regnamespace AND c.relkind = 'i' AND c.relname = %(name)s;

-- name: cron_status
-- Can this server run pg_cron jobs in this database? pg_cron must be installed on the
-- server, preloaded, and pointed at this database (cron.database_name).
SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_cron') AS available,
       coalesce('pg_cron' = ANY (string_to_array(
           replace(current_setting('shared_preload_libraries', true), ' ', ''), ',')), false)
           AS preloaded,
       current_setting('cron.database_name', true) AS cron_database,
       current_database() AS database,
       EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_cron') AS installed,
       (SELECT extversion FROM pg_extension WHERE extname = 'pg_cron') AS version;

-- name: create_pg_cron
CREATE EXTENSION IF NOT EXISTS pg_cron;

-- name: cron_schedule
SELECT cron.schedule(%(name)s, %(schedule)s, %(command)s) AS jobid;

-- name: cron_jobs
SELECT j.jobid, j.jobname::text AS jobname, j.schedule::text AS schedule,
       j.command, j.active, j.username::text AS username,
       (SELECT r.status FROM cron.job_run_details r WHERE r.jobid = j.jobid
         ORDER BY r.runid DESC LIMIT 1) AS last_status,
       (SELECT r.end_time FROM cron.job_run_details r WHERE r.jobid = j.jobid
         ORDER BY r.runid DESC LIMIT 1) AS last_run_at
  FROM cron.job j
 WHERE j.jobname LIKE 'pyexchange-%'
 ORDER BY j.jobname;
