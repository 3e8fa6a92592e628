-- exchange.create_monthly_partitions(p_months_ahead int DEFAULT 3, p_from date DEFAULT current_date)
-- Makes sure every range-partitioned table of schema exchange (orders, trades, klines,
-- notifications, audit_logs) has a partition for the month of p_from and each of the
-- p_months_ahead months after it. Months are calendar months in UTC, whatever the session's
-- TimeZone. Idempotent: existing partitions are left alone. Returns one row per partition
-- considered, with created = true for those made now.
-- New partitions are built apart and then attached (ATTACH PARTITION takes SHARE UPDATE
-- EXCLUSIVE on the parent), so trading is not blocked while they are made.
-- Raises: EX001 (p_months_ahead outside 0..120, p_from not a date in 1970..9999, or NULL
-- arguments).
-- New partitions are given to the owner of their table.
-- Locks: a transaction advisory lock serialising partition maintenance.
CREATE OR REPLACE FUNCTION exchange.create_monthly_partitions(
    p_months_ahead integer DEFAULT 3,
    p_from date DEFAULT current_date
)
RETURNS TABLE (table_name text, partition_name text, range_start timestamptz,
               range_end timestamptz, created boolean)
LANGUAGE plpgsql
SET search_path = exchange, pg_catalog, pg_temp
AS $$
DECLARE
    v_parent  record;
    v_month   date;
    v_start   timestamptz;
    v_end     timestamptz;
    v_name    text;
    v_exists  boolean;
BEGIN
    IF p_months_ahead IS NULL OR p_from IS NULL OR p_months_ahead NOT BETWEEN 0 AND 120
       OR NOT (p_from >= date '1970-01-01' AND p_from <= date '9989-12-31') THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX001',
            MESSAGE = format('invalid partition horizon: %s months from %s', p_months_ahead, p_from),
            DETAIL = 'p_months_ahead must be in 0..120 and p_from a finite date from 1970-01-01 to 9989-12-31.',
            HINT = 'p_months_ahead must be between 0 and 120 and p_from a date.';
    END IF;

    PERFORM pg_advisory_xact_lock(hashtext('exchange.partition_maintenance'));

    FOR v_parent IN
        SELECT c.relname::text AS relname, pg_get_userbyid(c.relowner)::text AS owner
          FROM pg_partitioned_table p
          JOIN pg_class c ON c.oid = p.partrelid
          JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'exchange' AND p.partstrat = 'r'
         ORDER BY c.relname
    LOOP
        FOR i IN 0 .. p_months_ahead LOOP
            v_month := (date_trunc('month', p_from) + make_interval(months => i))::date;
            v_start := (v_month::text || ' 00:00:00+00')::timestamptz;
            v_end := ((v_month + interval '1 month')::date::text || ' 00:00:00+00')::timestamptz;
            v_name := v_parent.relname || '_' || to_char(v_month, 'YYYY_MM');

            SELECT EXISTS (
                SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = 'exchange' AND c.relname = v_name
            ) INTO v_exists;

            IF NOT v_exists THEN
                EXECUTE format(
                    'CREATE TABLE exchange.%I (LIKE exchange.%I INCLUDING DEFAULTS INCLUDING CONSTRAINTS)',
                    v_name, v_parent.relname);
                EXECUTE format(
                    'ALTER TABLE exchange.%I ATTACH PARTITION exchange.%I FOR VALUES FROM (%L) TO (%L)',
                    v_parent.relname, v_name, v_start, v_end);
                -- A partition belongs to whoever owns its table (exchange_owner once the
                -- access change ran), not to the role that happened to call this.
                IF v_parent.owner <> current_user THEN
                    EXECUTE format('ALTER TABLE exchange.%I OWNER TO %I', v_name, v_parent.owner);
                END IF;
            END IF;

            table_name := v_parent.relname;
            partition_name := v_name;
            range_start := v_start;
            range_end := v_end;
            created := NOT v_exists;
            RETURN NEXT;
        END LOOP;
    END LOOP;
END;
$$;
COMMENT ON FUNCTION exchange.create_monthly_partitions(integer, date) IS
    'Ensures monthly (UTC) partitions of every partitioned exchange table from the month of p_from through p_months_ahead months later; idempotent. Raises EX001.';
