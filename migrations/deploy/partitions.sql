-- Deploy pyexchange:partitions to pg
-- requires: orders market_data notifications audit
-- Monthly partition management, and the partitions for this month and the next three.
BEGIN;

\ir ../../functions/partitions/create_monthly_partitions.sql

DO $$ BEGIN PERFORM exchange.create_monthly_partitions(3, current_date); END $$;

COMMIT;
