-- Revert pyexchange:audit from pg
BEGIN;
DROP TABLE exchange.audit_logs;
COMMIT;
