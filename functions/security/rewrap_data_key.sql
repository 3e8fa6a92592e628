-- exchange.rewrap_data_key(p_id integer, p_wrapped_key bytea, p_master_key_id text,
--                          p_expected_master_key_id text) RETURNS void
-- Key rotation (`pyexchange keys rotate`): replaces data key p_id, wrapped until now by
-- p_expected_master_key_id, with the same key wrapped by the new master key. The encrypted
-- values do not change (they name the data key, not the master key).
-- Access: admin only, as create_data_key.
-- Raises: EX320/EX321/EX303 (exchange._require_admin), EX001 (malformed, no such key, or the
-- key is no longer wrapped by p_expected_master_key_id: a concurrent rotation).
-- Locks: the data key row.
CREATE OR REPLACE FUNCTION exchange.rewrap_data_key(
    p_id integer, p_wrapped_key bytea, p_master_key_id text, p_expected_master_key_id text)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM exchange._require_admin('encryption_key', 'manage');
    IF p_wrapped_key IS NULL OR octet_length(p_wrapped_key) <> 60
       OR p_master_key_id IS NULL OR p_master_key_id !~ '^[A-Za-z0-9_.-]{1,64}$' THEN
        RAISE EXCEPTION USING ERRCODE = 'EX001', MESSAGE = 'invalid data key',
            DETAIL = format('wrapped key of %s bytes (60 expected); master key id %s',
                            COALESCE(octet_length(p_wrapped_key)::text, 'NULL'),
                            CASE WHEN p_master_key_id ~ '^[A-Za-z0-9_.-]{1,64}$' THEN 'valid'
                                 ELSE 'missing or malformed' END),
            HINT = 'A 32-byte key wrapped with AES-GCM (12-byte nonce, 16-byte tag), and the id of its master key.';
    END IF;
    UPDATE exchange.data_keys
       SET wrapped_key = p_wrapped_key, master_key_id = p_master_key_id, rewrapped_at = now()
     WHERE id = p_id AND master_key_id = p_expected_master_key_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'EX001',
            MESSAGE = format('data key %s is not wrapped by master key %s', p_id, p_expected_master_key_id),
            DETAIL = 'No such data key, or its master key changed since it was listed.',
            HINT = 'Another rotation ran meanwhile: run pyexchange keys rotate again.';
    END IF;
    PERFORM exchange._audit_action('REWRAP_DATA_KEY', 'data_keys', p_id::text,
        jsonb_build_object('from', p_expected_master_key_id, 'to', p_master_key_id));
END
$$;
COMMENT ON FUNCTION exchange.rewrap_data_key(integer, bytea, text, text) IS
    'Admin (encryption_key:manage, or a DBA): re-wraps a data key under a new master key (rotation). Raises EX001, EX303, EX320, EX321.';
REVOKE ALL ON FUNCTION exchange.rewrap_data_key(integer, bytea, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.rewrap_data_key(integer, bytea, text, text) TO exchange_app;
