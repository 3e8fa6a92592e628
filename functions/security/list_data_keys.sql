-- exchange.list_data_keys() RETURNS TABLE (id integer, wrapped_key bytea, master_key_id text)
-- The data keys of application-level encryption, each wrapped (AES-256-GCM) by the master
-- key named by master_key_id, newest last. A wrapped key is useless without its master key,
-- which never reaches the database (PYEXCHANGE_MASTER_KEY or a key file: docs/security.md).
-- Access: exchange_app (the application encrypts and decrypts phones, KYC documents and
-- webhook secrets), exchange_worker (the notification worker decrypts secrets to sign), and
-- the owner.
-- Raises: nothing. Locks: none.
CREATE OR REPLACE FUNCTION exchange.list_data_keys()
RETURNS TABLE (id integer, wrapped_key bytea, master_key_id text)
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
    SELECT k.id, k.wrapped_key, k.master_key_id FROM exchange.data_keys k ORDER BY k.id;
$$;
COMMENT ON FUNCTION exchange.list_data_keys() IS
    'The wrapped data keys of application-level encryption (useless without the master key), oldest first.';
REVOKE ALL ON FUNCTION exchange.list_data_keys() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.list_data_keys() TO exchange_app, exchange_worker;
