-- The audit trail the owner cannot erase (docs/security.md, "The audit log"): TRUNCATE,
-- UPDATE and DELETE refused on audit_logs and every partition, present and future, for the
-- owner too; the guards cannot be dropped or disabled; every DDL command on schema exchange
-- (partitions made, attached, detached, dropped) is recorded; DDL elsewhere is not.
BEGIN;
SELECT plan(24);

CREATE TEMP TABLE t_now AS
SELECT 'exchange.audit_logs_' || to_char(now() AT TIME ZONE 'UTC', 'YYYY_MM') AS current_part;
GRANT SELECT ON t_now TO PUBLIC;

SELECT throws_ok($$TRUNCATE exchange.audit_logs$$, 'EX340', NULL, 'TRUNCATE of the log is refused');
SELECT throws_ok(format('TRUNCATE %s', (SELECT current_part FROM t_now)), 'EX340', NULL,
                 'TRUNCATE of the current month''s partition by name is refused');
SELECT throws_ok(format('DELETE FROM %s', (SELECT current_part FROM t_now)), 'EX340', NULL,
                 'and DELETE through the partition');
SELECT is((SELECT count(*)::int FROM pg_inherits i
            WHERE i.inhparent = 'exchange.audit_logs'::regclass
              AND NOT EXISTS (SELECT 1 FROM pg_trigger g WHERE g.tgrelid = i.inhrelid
                                 AND g.tgname = 'tg_audit_logs__no_truncate')), 0,
          'every present partition has the guard');

-- future partitions, whoever makes them and however
SELECT ok((SELECT bool_or(created) FROM exchange.create_monthly_partitions(0, '2098-03-01')
            WHERE table_name = 'audit_logs'), 'create_monthly_partitions makes a new audit month');
SELECT throws_ok($$TRUNCATE exchange.audit_logs_2098_03$$, 'EX340', NULL,
                 'TRUNCATE of a partition made by create_monthly_partitions is refused');
CREATE TABLE exchange.audit_logs_2098_04 PARTITION OF exchange.audit_logs
    FOR VALUES FROM ('2098-04-01 00:00+00') TO ('2098-05-01 00:00+00');
SELECT throws_ok($$TRUNCATE exchange.audit_logs_2098_04$$, 'EX340', NULL,
                 'and of one made by hand with PARTITION OF');

-- the log of DDL
SELECT ok(EXISTS (SELECT 1 FROM exchange.audit_logs WHERE table_name = 'ddl'
                     AND operation = 'CREATE_TABLE' AND entity_key = 'exchange.audit_logs_2098_04'
                     AND db_role = session_user
                     AND new_values ->> 'statement' LIKE '%CREATE TABLE exchange.audit_logs_2098_04 PARTITION OF%'),
          'CREATE TABLE on exchange is recorded, with the login role and the statement');
CREATE TABLE exchange.audit_logs_2098_05 (LIKE exchange.audit_logs INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
ALTER TABLE exchange.audit_logs ATTACH PARTITION exchange.audit_logs_2098_05
    FOR VALUES FROM ('2098-05-01 00:00+00') TO ('2098-06-01 00:00+00');
SELECT ok(EXISTS (SELECT 1 FROM exchange.audit_logs WHERE table_name = 'ddl'
                     AND operation = 'ATTACH_PARTITION' AND entity_key = 'exchange.audit_logs_2098_05'
                     AND new_values ->> 'parent' = 'exchange.audit_logs'
                     AND new_values ->> 'bounds' LIKE 'FOR VALUES FROM%'),
          'ATTACH PARTITION is recorded with its parent and bounds');
SELECT throws_ok($$TRUNCATE exchange.audit_logs_2098_05$$, 'EX340', NULL,
                 'an attached partition gets the guard');
ALTER TABLE exchange.audit_logs DETACH PARTITION exchange.audit_logs_2098_05;
SELECT ok(EXISTS (SELECT 1 FROM exchange.audit_logs WHERE table_name = 'ddl'
                     AND operation = 'DETACH_PARTITION' AND entity_key = 'exchange.audit_logs_2098_05'),
          'DETACH PARTITION is recorded');
SELECT throws_ok($$TRUNCATE exchange.audit_logs_2098_05$$, 'EX340', NULL,
                 'a detached audit month keeps its guard');
DROP TABLE exchange.audit_logs_2098_05;
SELECT ok(EXISTS (SELECT 1 FROM exchange.audit_logs WHERE table_name = 'ddl'
                     AND operation = 'DROP_TABLE' AND entity_key = 'exchange.audit_logs_2098_05'
                     AND (old_values ->> 'original')::boolean),
          'dropping an audit month (retention) is recorded');
SELECT ok(EXISTS (SELECT 1 FROM exchange.audit_logs WHERE table_name = 'ddl'
                     AND operation = 'CREATE_TABLE' AND entity_key = 'exchange.trades_2098_03'),
          'partitions made by create_monthly_partitions are recorded');
CREATE TABLE public.t_not_exchange (x int);
SELECT is((SELECT count(*)::int FROM exchange.audit_logs
            WHERE table_name = 'ddl' AND entity_key LIKE '%t_not_exchange%'), 0,
          'DDL outside schema exchange is not recorded');
SELECT throws_ok(format('DROP TABLE %s', (SELECT current_part FROM t_now)), '23514', NULL,
                 'the current audit month cannot be dropped: its record would have nowhere to go');

-- the guards stay
SELECT throws_ok($$ALTER TABLE exchange.audit_logs DISABLE TRIGGER tg_audit_logs__no_truncate$$,
                 'EX380', NULL, 'the TRUNCATE guard cannot be disabled');
SELECT throws_ok($$DROP TRIGGER tg_audit_logs__append_only ON exchange.audit_logs$$,
                 'EX380', NULL, 'the row guard cannot be dropped');
SELECT throws_ok(format('ALTER TABLE %s DISABLE TRIGGER tg_audit_logs__no_truncate',
                        (SELECT current_part FROM t_now)),
                 'EX380', NULL, 'nor a partition''s guard disabled');

-- the owner, who owns every table, is refused the same way
SET LOCAL ROLE exchange_owner;
SELECT throws_ok(format('TRUNCATE %s', (SELECT current_part FROM t_now)), 'EX340', NULL,
                 'the owner cannot TRUNCATE an audit partition');
SELECT throws_ok($$ALTER TABLE exchange.audit_logs DISABLE TRIGGER tg_audit_logs__append_only$$,
                 'EX380', NULL, 'the owner cannot disable a guard');
SELECT throws_ok($$DROP TRIGGER tg_audit_logs__no_truncate ON exchange.audit_logs$$,
                 'EX380', NULL, 'nor drop one');
CREATE TABLE exchange.t_owner_probe (x int);
SELECT ok(EXISTS (SELECT 1 FROM exchange.audit_logs WHERE table_name = 'ddl'
                     AND operation = 'CREATE_TABLE' AND entity_key = 'exchange.t_owner_probe'),
          'the owner''s DDL is recorded');
DROP TABLE exchange.t_owner_probe;
SELECT ok(EXISTS (SELECT 1 FROM exchange.audit_logs WHERE table_name = 'ddl'
                     AND operation = 'DROP_TABLE' AND entity_key = 'exchange.t_owner_probe'),
          'and so is the owner''s DROP');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
