-- exchange._authorize_for_user(p_user_id bigint, p_resource text DEFAULT NULL,
--                              p_action text DEFAULT NULL, p_duty_role text DEFAULT NULL)
--   RETURNS bigint
-- Internal: the one rule deciding whether this session may act for user p_user_id, called
-- first by every user-scoped API function (orders, movements, holds, withdrawals, balances,
-- history, profiles, KYC, notifications). Returns the acting user's id, or NULL on the DBA
-- path.
--  * With an acting user (exchange.acting_user_id): the setting must be a user id (EX320),
--    the user must exist (EX360) and be ACTIVE (EX303: PENDING, SUSPENDED and CLOSED users
--    act for nobody, themselves included), and be p_user_id, or hold p_resource:p_action,
--    the permission to act for others (EX321 otherwise; EX322 when p_resource is NULL: a
--    function only the user may call for themselves). A NULL p_user_id ("every user", e.g.
--    list_withdrawals) counts as another user.
--  * Without one: only the DBA path passes, a session whose login is a member of
--    exchange_owner (a DBA in psql, the migrations), or of p_duty_role when the function
--    serves that duty for every user (exchange_custody: the withdrawal processor lists and
--    cancels withdrawals); the application (exchange_app) gets EX320.
-- Cost: one primary-key read of the acting user; plus one permission lookup when acting for
-- another user. Call it once per call (a batch: once, then compare the batch's users).
-- Raises: EX320, EX360, EX303, EX321, EX322. Locks: none.
CREATE OR REPLACE FUNCTION exchange._authorize_for_user(
    p_user_id bigint,
    p_resource text DEFAULT NULL,
    p_action text DEFAULT NULL,
    p_duty_role text DEFAULT NULL
)
RETURNS bigint
LANGUAGE plpgsql
STABLE
AS $$
DECLARE
    v_acting bigint := exchange._acting_user_id();
    v_status exchange.user_status;
BEGIN
    IF v_acting IS NULL THEN
        IF pg_has_role(session_user, 'exchange_owner', 'MEMBER')
           OR (p_duty_role IS NOT NULL AND pg_has_role(session_user, p_duty_role, 'MEMBER')) THEN
            RETURN NULL;
        END IF;
        RAISE EXCEPTION USING
            ERRCODE = 'EX320',
            MESSAGE = 'this call needs an acting user',
            DETAIL = format('for user %s; login %s is not a member of exchange_owner',
                            COALESCE(p_user_id::text, 'ALL'), session_user),
            HINT = 'Pass the acting user (Exchange(acting_user_id=...), or SET exchange.acting_user_id).';
    END IF;
    SELECT u.status INTO v_status FROM exchange.users u WHERE u.id = v_acting;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX360',
            MESSAGE = 'the acting user does not exist',
            DETAIL = format('exchange.acting_user_id = %s', v_acting),
            HINT = 'Set exchange.acting_user_id to the id of an existing, authenticated user.';
    END IF;
    IF v_status <> 'ACTIVE' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX303',
            MESSAGE = 'the acting user is not active',
            DETAIL = format('user %s is %s', v_acting, v_status),
            HINT = 'Only ACTIVE users may act.';
    END IF;
    IF p_user_id IS DISTINCT FROM v_acting THEN
        IF p_resource IS NULL THEN
            RAISE EXCEPTION USING
                ERRCODE = 'EX322',
                MESSAGE = 'only the user may do this for themselves',
                DETAIL = format('acting user %s, named user %s', v_acting,
                                COALESCE(p_user_id::text, 'ALL')),
                HINT = 'An application user acts only for themselves here.';
        END IF;
        IF NOT EXISTS (SELECT 1
                         FROM exchange.user_roles ur
                         JOIN exchange.role_permissions rp ON rp.role_id = ur.role_id
                         JOIN exchange.permissions p ON p.id = rp.permission_id
                        WHERE ur.user_id = v_acting
                          AND p.resource = p_resource AND p.action = p_action) THEN
            RAISE EXCEPTION USING
                ERRCODE = 'EX321',
                MESSAGE = format('permission denied: %s:%s', p_resource, p_action),
                DETAIL = format('acting user %s may not act for user %s without %s:%s',
                                v_acting, COALESCE(p_user_id::text, 'ALL'), p_resource, p_action),
                HINT = 'A user acts for themselves; acting for others needs the permission named.';
        END IF;
    END IF;
    RETURN v_acting;
END;
$$;
COMMENT ON FUNCTION exchange._authorize_for_user(bigint, text, text, text) IS
    'Internal: the rule of every user-scoped function: the acting user exists, is ACTIVE and is p_user_id or holds resource:action; no acting user only for members of exchange_owner or p_duty_role (returns NULL). Raises EX320, EX360, EX303, EX321, EX322.';
REVOKE ALL ON FUNCTION exchange._authorize_for_user(bigint, text, text, text) FROM PUBLIC;
