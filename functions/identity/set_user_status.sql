-- exchange.set_user_status(p_user_id bigint, p_status exchange.user_status,
--                          p_reason text DEFAULT NULL) RETURNS exchange.user_profiles
-- Suspends, reinstates or closes a user. The acting user needs user:suspend, except that a
-- user may close their own account. Allowed transitions (also enforced by a trigger on
-- users): PENDING -> ACTIVE | CLOSED; ACTIVE -> SUSPENDED | CLOSED; SUSPENDED -> ACTIVE |
-- CLOSED; CLOSED is final. The last ACTIVE admin cannot be suspended or closed. The reason
-- goes to the audit log.
-- Raises: EX001 status NULL or reason over 500 characters; EX309 no such user; EX310 transition not allowed; EX320/EX321 acting user missing
--         or without user:suspend; EX324 the last active admin.
-- Emits: user_activated (back to ACTIVE) or user_locked (SUSPENDED, CLOSED) (exchange._emit_event; payloads in docs/events.md).
-- Locks: the admin role row (when the user is an admin), then the user row.
CREATE OR REPLACE FUNCTION exchange.set_user_status(
    p_user_id bigint, p_status exchange.user_status, p_reason text DEFAULT NULL)
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
    IF NOT (p_status = 'CLOSED' AND v_acting = p_user_id) THEN
        PERFORM exchange._require_admin('user', 'suspend');
    END IF;
    PERFORM exchange._check_text(p_reason, 'reason', 500, 'EX001', false);
    IF p_status IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'EX001', MESSAGE = 'p_status is required',
            DETAIL = 'p_status is NULL.', HINT = 'Pass ACTIVE, SUSPENDED or CLOSED.';
    END IF;
    IF p_status <> 'ACTIVE' THEN
        PERFORM exchange._guard_last_admin(p_user_id);
    END IF;
    SELECT status INTO v_status FROM exchange.users WHERE id = p_user_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'EX309', MESSAGE = format('user %s does not exist', p_user_id),
            DETAIL = 'exchange.users has no user with this id.', HINT = 'Check the user id.';
    END IF;
    UPDATE exchange.users SET status = p_status, version = version + 1 WHERE id = p_user_id;
    PERFORM exchange._audit_action('SET_STATUS', 'users', p_user_id::text,
        jsonb_build_object('from', v_status, 'to', p_status, 'reason', p_reason));
    SELECT * INTO v_result FROM exchange.user_profiles WHERE id = p_user_id;
    IF p_status = 'ACTIVE' AND v_status <> 'ACTIVE' THEN
        PERFORM exchange._emit_event('user', p_user_id::text, 'user_activated',
            jsonb_build_object('user_id', p_user_id, 'username', v_result.username));
    ELSIF p_status IN ('SUSPENDED', 'CLOSED') AND v_status IS DISTINCT FROM p_status THEN
        PERFORM exchange._emit_event('user', p_user_id::text, 'user_locked',
            jsonb_build_object('user_id', p_user_id, 'username', v_result.username,
                               'status', p_status, 'locked_until', NULL, 'reason', p_reason));
    END IF;
    RETURN v_result;
END;
$$;
COMMENT ON FUNCTION exchange.set_user_status(bigint, exchange.user_status, text) IS
    'Suspends, reinstates or closes a user (user:suspend; a user may close their own account). Raises EX001, EX303, EX309, EX310, EX320, EX321, EX324.';
REVOKE ALL ON FUNCTION exchange.set_user_status(bigint, exchange.user_status, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.set_user_status(bigint, exchange.user_status, text) TO exchange_app;
