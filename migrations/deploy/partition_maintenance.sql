-- Deploy pyexchange:partition_maintenance to pg
-- requires: partitions
-- Retention (drop_partitions_older_than) and reporting (partition_status) of the monthly
-- partitions.
BEGIN;

\ir ../../functions/partitions/drop_partitions_older_than.sql
\ir ../../functions/partitions/partition_status.sql

COMMIT;
