-- exchange.run_maintenance(p_dry_run boolean DEFAULT false, p_schedule_reindex boolean DEFAULT false)
-- The exchange's routine maintenance, idempotent and safe at any time, driven by
-- exchange.maintenance_settings; returns one row per thing done (step, target, outcome,
-- detail), in this order:
--   partitions    create_monthly_partitions(months_ahead): each partition created, or one
--                 row 'ok' with the horizon;
--   retention     per partitioned table (trades before orders: trades reference orders), the
--                 partitions older than its keep_<table>_months dropped (drop_partitions_
--                 older_than(..., table)); 'kept' when its setting is NULL; 'refused' (EX003,
--                 an open order or a kept trade) leaves that table's partitions in place and
--                 the run goes on;
--   prune         outbox events published or failed before outbox_keep (prune_outbox_events),
--                 kyc_daily_usage rows older than kyc_usage_keep_days (only today's count
--                 against a limit), size_history samples older than size_history_keep;
--                 notifications go by partition retention;
--   analyze       ANALYZE of each partitioned parent (autovacuum never analyzes a parent, so
--                 the planner would have no statistics for it);
--   size_history  one sample of every table's and index's size (_record_size_sample);
--   reindex       each index of a hot table whose bloat passes the threshold (monitor_bloat):
--                 outcome 'needed'. REINDEX CONCURRENTLY cannot run inside a function (nor
--                 a transaction): `pyexchange maintenance run` runs it afterwards; with
--                 p_schedule_reindex (the pg_cron job's call) a one-off pg_cron job named
--                 'pyexchange-reindex-<index>' is scheduled five minutes later (outcome
--                 'scheduled') and removed by the next run once the index is no longer
--                 bloated.
-- With p_dry_run nothing is changed: the rows say what would be done ('would create',
-- 'would drop', 'would analyze', ...).
-- Raises: EX001 (NULL arguments). A refusal of retention is reported, not raised.
-- Locks: the partition-maintenance advisory lock (create/drop), ACCESS EXCLUSIVE on a parent
--        while a partition is detached (retention), ROW EXCLUSIVE on the pruned tables,
--        SHARE UPDATE EXCLUSIVE on each analyzed table.
-- Access: a DBA: a superuser or a member of exchange_owner (it runs with the caller's rights;
--         ANALYZE and DDL need the owner's); not granted to any exchange role.
CREATE OR REPLACE FUNCTION exchange.run_maintenance(
    p_dry_run boolean DEFAULT false,
    p_schedule_reindex boolean DEFAULT false
)
RETURNS TABLE (step text, target text, outcome text, detail text)
LANGUAGE plpgsql
SET search_path = exchange, pg_catalog, pg_temp
AS $$
DECLARE
    v_s       exchange.maintenance_settings;
    v_row     record;
    v_table   text;
    v_keep    integer;
    v_count   bigint;
    v_any     boolean;
    v_reindex text[] := ARRAY[]::text[];
    v_at      timestamp;
    -- pg_cron's schema, named at run time: the function must not depend on it
    v_cron    text := 'cron';
    v_jobs    text[];
    v_job     text;
BEGIN
    IF p_dry_run IS NULL OR p_schedule_reindex IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'EX001', MESSAGE = 'invalid maintenance arguments',
            DETAIL = format('p_dry_run = %s, p_schedule_reindex = %s',
                            COALESCE(p_dry_run::text, 'NULL'), COALESCE(p_schedule_reindex::text, 'NULL')),
            HINT = 'p_dry_run and p_schedule_reindex are true or false.';
    END IF;
    SELECT * INTO STRICT v_s FROM exchange.maintenance_settings;

    -- partitions ahead
    v_any := false;
    IF p_dry_run THEN
        FOR v_row IN SELECT ps.table_name, ps.month
                       FROM exchange.partition_status(v_s.months_ahead, false) ps
                      WHERE ps.missing LOOP
            v_any := true;
            RETURN QUERY SELECT 'partitions', v_row.table_name || '_' || to_char(v_row.month, 'YYYY_MM'),
                                'would create', to_char(v_row.month, 'YYYY-MM');
        END LOOP;
    ELSE
        FOR v_row IN SELECT c.partition_name, c.range_start, c.range_end
                       FROM exchange.create_monthly_partitions(v_s.months_ahead) c
                      WHERE c.created LOOP
            v_any := true;
            RETURN QUERY SELECT 'partitions', v_row.partition_name, 'created',
                                format('%s to %s', v_row.range_start, v_row.range_end);
        END LOOP;
    END IF;
    IF NOT v_any THEN
        RETURN QUERY SELECT 'partitions', 'all', 'ok',
                            format('horizon %s month(s) ahead', exchange._partition_horizon());
    END IF;

    -- retention, one table at a time
    FOREACH v_table IN ARRAY ARRAY['trades', 'orders', 'klines', 'notifications', 'audit_logs'] LOOP
        v_keep := CASE v_table WHEN 'trades' THEN v_s.keep_trades_months
                               WHEN 'orders' THEN v_s.keep_orders_months
                               WHEN 'klines' THEN v_s.keep_klines_months
                               WHEN 'notifications' THEN v_s.keep_notifications_months
                               ELSE v_s.keep_audit_logs_months END;
        IF v_keep IS NULL THEN
            RETURN QUERY SELECT 'retention', v_table, 'kept', 'no retention set';
            CONTINUE;
        END IF;
        BEGIN
            v_any := false;
            FOR v_row IN SELECT d.partition_name, d.range_start, d.range_end
                           FROM exchange.drop_partitions_older_than(v_keep, p_dry_run, v_table) d LOOP
                v_any := true;
                RETURN QUERY SELECT 'retention', v_row.partition_name,
                                    CASE WHEN p_dry_run THEN 'would drop' ELSE 'dropped' END,
                                    format('older than %s month(s)', v_keep);
            END LOOP;
            IF NOT v_any THEN
                RETURN QUERY SELECT 'retention', v_table, 'ok',
                                    format('nothing older than %s month(s)', v_keep);
            END IF;
        EXCEPTION WHEN SQLSTATE 'EX003' THEN
            RETURN QUERY SELECT 'retention', v_table, 'refused', SQLERRM;
        END;
    END LOOP;

    -- pruning
    IF p_dry_run THEN
        SELECT count(*) INTO v_count FROM exchange.outbox_events e
         WHERE e.status <> 'PENDING' AND e.created_at < now() - v_s.outbox_keep;
        RETURN QUERY SELECT 'prune', 'outbox_events', 'would delete', v_count::text;
        SELECT count(*) INTO v_count FROM exchange.kyc_daily_usage k
         WHERE k.day < current_date - v_s.kyc_usage_keep_days;
        RETURN QUERY SELECT 'prune', 'kyc_daily_usage', 'would delete', v_count::text;
        SELECT count(*) INTO v_count FROM exchange.size_history h
         WHERE h.sampled_at < now() - v_s.size_history_keep;
        RETURN QUERY SELECT 'prune', 'size_history', 'would delete', v_count::text;
    ELSE
        SELECT coalesce(sum(p.deleted), 0) INTO v_count
          FROM exchange.prune_outbox_events(v_s.outbox_keep) p;
        RETURN QUERY SELECT 'prune', 'outbox_events', 'deleted', v_count::text;
        DELETE FROM exchange.kyc_daily_usage k WHERE k.day < current_date - v_s.kyc_usage_keep_days;
        GET DIAGNOSTICS v_count = ROW_COUNT;
        RETURN QUERY SELECT 'prune', 'kyc_daily_usage', 'deleted', v_count::text;
        DELETE FROM exchange.size_history h WHERE h.sampled_at < now() - v_s.size_history_keep;
        GET DIAGNOSTICS v_count = ROW_COUNT;
        RETURN QUERY SELECT 'prune', 'size_history', 'deleted', v_count::text;
    END IF;

    -- statistics of the partitioned parents
    FOR v_row IN SELECT c.relname::text AS relname
                   FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid
                  WHERE c.relnamespace = 'exchange'::regnamespace
                  ORDER BY c.relname LOOP
        IF NOT p_dry_run THEN
            EXECUTE format('ANALYZE exchange.%I', v_row.relname);
        END IF;
        RETURN QUERY SELECT 'analyze', v_row.relname,
                            CASE WHEN p_dry_run THEN 'would analyze' ELSE 'analyzed' END, ''::text;
    END LOOP;

    -- size history
    IF p_dry_run THEN
        RETURN QUERY SELECT 'size_history', 'sample', 'would record', ''::text;
    ELSE
        RETURN QUERY SELECT 'size_history', 'sample', 'recorded',
                            format('%s object(s)', exchange._record_size_sample());
    END IF;

    -- bloated indexes
    FOR v_row IN SELECT b.object_name, b.table_name, b.bloat_ratio, b.bytes
                   FROM exchange.monitor_bloat() b
                  WHERE b.reindex_recommended LOOP
        v_reindex := v_reindex || v_row.object_name;
        IF p_schedule_reindex AND NOT p_dry_run
           AND to_regprocedure('cron.schedule(text, text, text)') IS NOT NULL THEN
            v_at := (now() AT TIME ZONE 'UTC') + interval '5 minutes';
            EXECUTE format('SELECT %I.schedule($1, $2, $3)', v_cron)
              USING 'pyexchange-reindex-' || v_row.object_name,
                    format('%s %s * * *', extract(minute FROM v_at)::int, extract(hour FROM v_at)::int),
                    format('REINDEX INDEX CONCURRENTLY exchange.%I', v_row.object_name);
            RETURN QUERY SELECT 'reindex', v_row.object_name, 'scheduled',
                                format('bloat %s of %s bytes (table %s)',
                                       round(v_row.bloat_ratio::numeric, 2), v_row.bytes, v_row.table_name);
        ELSE
            RETURN QUERY SELECT 'reindex', v_row.object_name, 'needed',
                                format('bloat %s of %s bytes (table %s)',
                                       round(v_row.bloat_ratio::numeric, 2), v_row.bytes, v_row.table_name);
        END IF;
    END LOOP;
    -- one-off reindex jobs of indexes that are no longer bloated
    IF NOT p_dry_run AND to_regclass('cron.job') IS NOT NULL THEN
        EXECUTE format(
            'SELECT coalesce(array_agg(j.jobname::text), ARRAY[]::text[]) FROM %I.job j
              WHERE j.jobname LIKE ''pyexchange-reindex-%%'' AND j.username = current_user
                AND NOT (substr(j.jobname, 20) = ANY ($1))', v_cron)
           INTO v_jobs USING v_reindex;
        FOREACH v_job IN ARRAY v_jobs LOOP
            EXECUTE format('SELECT %I.unschedule($1)', v_cron) USING v_job;
            RETURN QUERY SELECT 'reindex', substr(v_job, 20), 'unscheduled', 'no longer bloated';
        END LOOP;
    END IF;
END;
$$;
COMMENT ON FUNCTION exchange.run_maintenance(boolean, boolean) IS
    'Routine maintenance from maintenance_settings: partitions ahead, retention per table, outbox/KYC-usage/size-history pruning, ANALYZE of partitioned parents, a size sample, bloated indexes to reindex; reports each step. Raises EX001.';
REVOKE ALL ON FUNCTION exchange.run_maintenance(boolean, boolean) FROM PUBLIC;
