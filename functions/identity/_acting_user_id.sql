-- exchange._acting_user_id() RETURNS bigint
-- Internal: the application user on whose behalf the current transaction acts, read from the
-- session setting exchange.acting_user_id (the Python client sets it per transaction with
-- set_config(..., true)); NULL when it is not set or empty.
-- Raises: EX320 when the setting is present but not a user id.
-- Locks: none.
CREATE OR REPLACE FUNCTION exchange._acting_user_id()
RETURNS bigint
LANGUAGE plpgsql
STABLE
AS $$
DECLARE
    v_raw text := nullif(btrim(current_setting('exchange.acting_user_id', true)), '');
BEGIN
    IF v_raw IS NULL THEN
        RETURN NULL;
    END IF;
    IF v_raw !~ '^[0-9]{1,18}$' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX320',
            MESSAGE = 'the acting user setting is not a user id',
            DETAIL = format('exchange.acting_user_id = %L', left(v_raw, 40)),
            HINT = 'Set exchange.acting_user_id to the numeric id of the application user.';
    END IF;
    RETURN v_raw::bigint;
END;
$$;
COMMENT ON FUNCTION exchange._acting_user_id() IS
    'Internal: the acting application user from the exchange.acting_user_id setting, or NULL. Raises EX320 on a malformed value.';
REVOKE ALL ON FUNCTION exchange._acting_user_id() FROM PUBLIC;
