-- exchange._require_permission(p_resource text, p_action text) RETURNS bigint
-- exchange._require_permission(p_user_id bigint, p_resource text, p_action text) RETURNS bigint
-- Internal: the guard of every administrative function. Checks that a user holds the
-- permission (resource, action) through one of their roles and returns that user's id.
-- The two-argument form checks the acting user (exchange.acting_user_id). The three-argument
-- form checks p_user_id (e.g. a reviewer passed explicitly) and, when an acting user is also
-- set, requires the two to be the same user.
-- Call it first in an administrative function:
--     v_actor := exchange._require_permission('asset', 'create');
-- The permissions that exist are listed in docs/security.md (table exchange.permissions).
-- Raises: EX320 no acting user (or a malformed one); EX321 the user lacks the permission or
--         does not exist; EX322 p_user_id differs from the acting user; EX303 the user is
--         not ACTIVE; EX326 no such permission exists (a typo in the caller).
-- Locks: none (plain reads).
CREATE OR REPLACE FUNCTION exchange._require_permission(
    p_user_id bigint, p_resource text, p_action text)
RETURNS bigint
LANGUAGE plpgsql
STABLE
AS $$
DECLARE
    v_acting  bigint := exchange._acting_user_id();
    v_status  exchange.user_status;
    v_allowed boolean;
BEGIN
    IF p_user_id IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX320',
            MESSAGE = format('%s:%s requires an acting user', p_resource, p_action),
            DETAIL = 'The setting exchange.acting_user_id is not set in this session.',
            HINT = 'Pass the acting user (Exchange(acting_user_id=...), or SET exchange.acting_user_id).';
    END IF;
    IF v_acting IS NOT NULL AND v_acting <> p_user_id THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX322',
            MESSAGE = 'the user named in the call is not the acting user',
            DETAIL = format('named user %s, acting user %s', p_user_id, v_acting),
            HINT = 'An application user may act only as themselves.';
    END IF;

    SELECT u.status,
           EXISTS (SELECT 1
                     FROM exchange.user_roles ur
                     JOIN exchange.role_permissions rp ON rp.role_id = ur.role_id
                     JOIN exchange.permissions p ON p.id = rp.permission_id
                    WHERE ur.user_id = u.id AND p.resource = p_resource AND p.action = p_action)
      INTO v_status, v_allowed
      FROM exchange.users u
     WHERE u.id = p_user_id;

    IF NOT FOUND OR NOT v_allowed THEN
        IF NOT EXISTS (SELECT 1 FROM exchange.permissions
                        WHERE resource = p_resource AND action = p_action) THEN
            RAISE EXCEPTION USING
                ERRCODE = 'EX326',
                MESSAGE = format('unknown permission %s:%s', exchange._quote(p_resource), exchange._quote(p_action)),
                DETAIL = 'exchange.permissions has no such resource:action (a bug in the calling function).',
                HINT = 'The permissions are listed in docs/security.md and exchange.permissions.';
        END IF;
        RAISE EXCEPTION USING
            ERRCODE = 'EX321',
            MESSAGE = format('permission denied: %s:%s', p_resource, p_action),
            DETAIL = format('user %s does not hold %s:%s', p_user_id, p_resource, p_action),
            HINT = 'Grant the user a role that has this permission (exchange.grant_role).';
    END IF;
    IF v_status <> 'ACTIVE' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX303',
            MESSAGE = 'the acting user is not active',
            DETAIL = format('user %s is %s', p_user_id, v_status),
            HINT = 'Only ACTIVE users may act.';
    END IF;
    RETURN p_user_id;
END;
$$;
COMMENT ON FUNCTION exchange._require_permission(bigint, text, text) IS
    'Internal guard: p_user_id (which must equal the acting user when one is set) holds resource:action and is ACTIVE; returns the id. Raises EX320, EX321, EX322, EX303, EX326.';
REVOKE ALL ON FUNCTION exchange._require_permission(bigint, text, text) FROM PUBLIC;

CREATE OR REPLACE FUNCTION exchange._require_permission(p_resource text, p_action text)
RETURNS bigint
LANGUAGE sql
STABLE
AS $$
    SELECT exchange._require_permission(exchange._acting_user_id(), p_resource, p_action);
$$;
COMMENT ON FUNCTION exchange._require_permission(text, text) IS
    'Internal guard: the acting user (exchange.acting_user_id) holds resource:action and is ACTIVE; returns their id. Raises EX320, EX321, EX303, EX326.';
REVOKE ALL ON FUNCTION exchange._require_permission(text, text) FROM PUBLIC;
