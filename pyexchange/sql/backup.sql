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
