-- Revert pyexchange:access from pg
-- Gives back the privileges this change took (ownership stays with exchange_owner; a
-- superuser can still revert every earlier change).
BEGIN;
REVOKE SELECT ON ALL TABLES IN SCHEMA exchange FROM exchange_readonly, exchange_auditor;
REVOKE USAGE ON SCHEMA exchange FROM exchange_app, exchange_readonly, exchange_auditor;
DO $$ BEGIN
    EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO PUBLIC', current_database());
END $$;
DROP FUNCTION exchange._apply_ownership_and_grants();
DROP FUNCTION exchange.create_login(text, text, text);
COMMIT;
