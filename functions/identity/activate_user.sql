-- exchange.activate_user(p_user_id bigint) RETURNS exchange.user_profiles
-- Moves a PENDING user to ACTIVE (the application calls it once the user has confirmed their
-- email). Allowed with no acting user (the application vouches for the confirmation), when
-- the acting user is the user themselves, or when the acting user holds user:activate.
-- Raises: EX309 no such user; EX310 the user is not PENDING; EX321 the acting user is
--         another user without user:activate.
-- Emits: user_activated (exchange._emit_event; payloads in docs/events.md).
-- Locks: the user row.
CREATE OR REPLACE FUNCTION exchange.activate_user(p_user_id bigint)
RETURNS exchange.user_profiles
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
DECLARE
    v_acting bigint := exchange._acting_user_id();
    v_status exchange.user_status;
    v_result exchange.user_profiles;
BEGIN
    IF v_acting IS NOT NULL AND v_acting IS DISTINCT FROM p_user_id THEN
        PERFORM exchange._require_permission(v_acting, 'user', 'activate');
    END IF;
    SELECT status INTO v_status FROM exchange.users WHERE id = p_user_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'EX309', MESSAGE = format('user %s does not exist', p_user_id),
            DETAIL = 'exchange.users has no user with this id.',
            HINT = 'Check the user id.';
    END IF;
    IF v_status <> 'PENDING' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX310',
            MESSAGE = format('user %s is %s, not PENDING', p_user_id, v_status),
            DETAIL = format('user %s has status %s', p_user_id, v_status),
            HINT = 'Only a PENDING user can be activated; use set_user_status for the others.';
    END IF;
    UPDATE exchange.users SET status = 'ACTIVE', version = version + 1 WHERE id = p_user_id;
    SELECT * INTO v_result FROM exchange.user_profiles WHERE id = p_user_id;
    PERFORM exchange._emit_event('user', p_user_id::text, 'user_activated',
        jsonb_build_object('user_id', p_user_id, 'username', v_result.username));
    RETURN v_result;
END;
$$;
COMMENT ON FUNCTION exchange.activate_user(bigint) IS
    'PENDING -> ACTIVE (email confirmed). The acting user, if set and not the user, needs user:activate. Raises EX309, EX310, EX321.';
REVOKE ALL ON FUNCTION exchange.activate_user(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.activate_user(bigint) TO exchange_app;
