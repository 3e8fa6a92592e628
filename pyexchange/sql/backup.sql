-- Backups and restore (pyexchange/backup.py, pyexchange/dump.py, pyexchange/drill.py).

-- name: backup_archive_mode
SELECT current_setting('archive_mode');

-- name: backup_archive_command
SELECT current_setting('archive_command');

-- name: backup_tables
-- The tables whose rows a backup must bring back: leaf tables (partitions included,
-- partitioned parents excluded) of the given schemas, permanent ones only.
SELECT n.nspname, c.relname
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = ANY(%(schemas)s::text[])
   AND c.relkind = 'r'
   AND c.relpersistence = 'p'
 ORDER BY n.nspname, c.relname;

-- name: backup_commit_marker
-- An empty transaction that still writes a commit record (it takes a transaction id).
SELECT pg_current_xact_id();

-- name: dump_snapshot
-- Run first in the dump's REPEATABLE READ transaction: its snapshot for pg_dump --snapshot,
-- and the socket directory the source's risk loopback was given (see restore_loopback_host).
SELECT pg_export_snapshot(), current_setting('server_version'), current_database(),
       (SELECT s.loopback_host FROM exchange.risk_settings s LIMIT 1);

-- name: dump_migrations
-- The migration history (yoyo); the caller checks that the table exists.
SELECT migration_id FROM public._yoyo_migration ORDER BY migration_id;

-- name: dump_roles
-- The roles a restore needs: owners of the database's objects, grantees of their privileges
-- and of default privileges, and (recursively) the members of all of
-- these; with their groups among them. Predefined pg_* roles are left out.
WITH RECURSIVE used(oid) AS (
    SELECT c.relowner FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
    UNION SELECT p.proowner FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
    UNION SELECT t.typowner FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
     WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
    UNION SELECT n.nspowner FROM pg_namespace n
     WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
    UNION SELECT (aclexplode(c.relacl)).grantee FROM pg_class c WHERE c.relacl IS NOT NULL
    UNION SELECT (aclexplode(p.proacl)).grantee FROM pg_proc p WHERE p.proacl IS NOT NULL
    UNION SELECT (aclexplode(n.nspacl)).grantee FROM pg_namespace n WHERE n.nspacl IS NOT NULL
    UNION SELECT (aclexplode(t.typacl)).grantee FROM pg_type t WHERE t.typacl IS NOT NULL
    UNION SELECT d.defaclrole FROM pg_default_acl d
    UNION SELECT (aclexplode(d.defaclacl)).grantee FROM pg_default_acl d
    UNION
    SELECT m.member FROM pg_auth_members m JOIN used u ON u.oid = m.roleid
)
SELECT r.rolname, r.rolcanlogin, r.rolinherit,
       ARRAY(SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
              WHERE m.member = r.oid AND m.roleid IN (SELECT oid FROM used)
              ORDER BY g.rolname) AS member_of,
       r.rolsuper
  FROM pg_roles r
 WHERE r.oid IN (SELECT oid FROM used) AND r.rolname NOT LIKE 'pg\_%'
 ORDER BY r.rolname;

-- name: dump_extensions
SELECT e.extname, n.nspname, e.extversion
  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
 ORDER BY e.extname;

-- name: restore_whoami
SELECT current_database(), r.rolsuper, current_user
  FROM pg_roles r WHERE r.rolname = current_user;

-- name: restore_target_contents
-- What makes a database not empty: schemas besides public, relations in public, extensions
-- besides plpgsql.
SELECT (SELECT array_agg(n.nspname::text ORDER BY n.nspname) FROM pg_namespace n
         WHERE n.nspname NOT IN ('public', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'),
       (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')),
       (SELECT array_agg(e.extname::text ORDER BY e.extname) FROM pg_extension e
         WHERE e.extname <> 'plpgsql');

-- name: restore_top_level_tables
-- The tables to empty before a data-only load: each dumped table's partition root (or the
-- table itself).
SELECT DISTINCT n.nspname, c.relname
  FROM unnest(%(schemas)s::text[], %(names)s::text[]) AS t(schema_name, table_name)
  JOIN pg_class c ON c.oid = COALESCE(
           pg_partition_root(format('%%I.%%I', t.schema_name, t.table_name)::regclass),
           format('%%I.%%I', t.schema_name, t.table_name)::regclass)
  JOIN pg_namespace n ON n.oid = c.relnamespace
 ORDER BY 1, 2;

-- name: restore_loopback_host
-- After restoring on another server: the risk engine's loopback (risk_settings.loopback_host)
-- follows to this server's first socket directory, as the risk_engine migration set it at
-- the source, unless it was changed there by hand.
UPDATE exchange.risk_settings
   SET loopback_host = NULLIF(btrim(split_part(current_setting('unix_socket_directories'), ',', 1)), '')
 WHERE loopback_host IS NOT DISTINCT FROM %(old)s::text
   AND loopback_host IS DISTINCT FROM
       NULLIF(btrim(split_part(current_setting('unix_socket_directories'), ',', 1)), '')
RETURNING loopback_host;
