-- Verify pyexchange:audit on pg
BEGIN;
SELECT id, db_role, app_user_id, table_name, operation, entity_key, old_values, new_values, created_at
  FROM exchange.audit_logs WHERE false;
ROLLBACK;
