-- Revert pyexchange:schema from pg
BEGIN;
DROP SCHEMA exchange CASCADE;
COMMIT;
