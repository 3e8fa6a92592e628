-- exchange.create_data_key(p_wrapped_key bytea, p_master_key_id text) RETURNS integer
-- Stores a new data key, already wrapped by the master key p_master_key_id (the database never
-- sees a key in clear), and returns its id, which every value encrypted with it carries.
-- pyexchange makes one on first use when none is wrapped by its current master key.
-- Access: exchange_app (any session: the first client to encrypt with a new master key makes
-- its data key) and the owner. A key planted by someone without the master key is harmless:
-- clients use only a data key that their master key opens (pyexchange.crypto), so it is never
-- used, and values never name it. Re-wrapping an existing key is admin-only
-- (exchange.rewrap_data_key).
-- Raises: EX001 (malformed key or id).
-- Locks: none (an insert).
CREATE OR REPLACE FUNCTION exchange.create_data_key(p_wrapped_key bytea, p_master_key_id text)
RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
DECLARE
    v_id integer;
BEGIN
    IF p_wrapped_key IS NULL OR octet_length(p_wrapped_key) <> 60
       OR p_master_key_id IS NULL OR p_master_key_id !~ '^[A-Za-z0-9_.-]{1,64}$' THEN
        RAISE EXCEPTION USING ERRCODE = 'EX001', MESSAGE = 'invalid data key',
            DETAIL = format('wrapped key of %s bytes (60 expected); master key id %s',
                            COALESCE(octet_length(p_wrapped_key)::text, 'NULL'),
                            CASE WHEN p_master_key_id ~ '^[A-Za-z0-9_.-]{1,64}$' THEN 'valid'
                                 ELSE 'missing or malformed' END),
            HINT = 'A 32-byte key wrapped with AES-GCM (12-byte nonce, 16-byte tag), and the id of its master key.';
    END IF;
    INSERT INTO exchange.data_keys (wrapped_key, master_key_id)
    VALUES (p_wrapped_key, p_master_key_id) RETURNING id INTO v_id;
    PERFORM exchange._audit_action('CREATE_DATA_KEY', 'data_keys', v_id::text,
                                   jsonb_build_object('master_key_id', p_master_key_id));
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION exchange.create_data_key(bytea, text) IS
    'Stores a new data key, wrapped by a master key the database never sees, and returns its id. Raises EX001.';
REVOKE ALL ON FUNCTION exchange.create_data_key(bytea, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.create_data_key(bytea, text) TO exchange_app;
