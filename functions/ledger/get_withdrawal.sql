-- exchange.get_withdrawal(p_withdrawal_id bigint) RETURNS exchange.withdrawals
-- exchange.list_withdrawals(p_user_id bigint DEFAULT NULL,
--                           p_status exchange.withdrawal_status DEFAULT NULL,
--                           p_limit integer DEFAULT 100) RETURNS SETOF exchange.withdrawals
-- Reads withdrawals: one by id, or the newest first, optionally of one user and one status.
-- Access: the withdrawal's user, or an acting user with withdrawal:read; every user's
-- (list_withdrawals without p_user_id) needs withdrawal:read (exchange._authorize_for_user;
-- a DBA without an acting user may read all). The withdrawal processor (exchange_custody,
-- without an acting user) may read them too.
-- Raises: EX112 (unknown withdrawal, get_withdrawal); EX320, EX360, EX303, EX321, EX322 (access).
-- Locks: none.
CREATE OR REPLACE FUNCTION exchange.get_withdrawal(p_withdrawal_id bigint)
RETURNS exchange.withdrawals
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
DECLARE
    v_w exchange.withdrawals;
BEGIN
    SELECT w.* INTO v_w FROM exchange.withdrawals w WHERE w.id = p_withdrawal_id;
    IF v_w.id IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX112',
            MESSAGE = format('unknown withdrawal %s', COALESCE(p_withdrawal_id::text, 'NULL')),
            DETAIL = 'exchange.withdrawals has no withdrawal with this id (of this user).',
            HINT = 'Check the withdrawal id.';
    END IF;
    PERFORM exchange._authorize_for_user(v_w.user_id, 'withdrawal', 'read', 'exchange_custody');
    RETURN v_w;
END;
$$;
COMMENT ON FUNCTION exchange.get_withdrawal(bigint) IS 'One withdrawal by id. Raises EX112.';
REVOKE ALL ON FUNCTION exchange.get_withdrawal(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.get_withdrawal(bigint) TO exchange_app, exchange_custody;

CREATE OR REPLACE FUNCTION exchange.list_withdrawals(
    p_user_id bigint DEFAULT NULL,
    p_status exchange.withdrawal_status DEFAULT NULL,
    p_limit integer DEFAULT 100
)
RETURNS SETOF exchange.withdrawals
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM exchange._authorize_for_user(p_user_id, 'withdrawal', 'read', 'exchange_custody');
    RETURN QUERY
    SELECT w.* FROM exchange.withdrawals w
     WHERE (p_user_id IS NULL OR w.user_id = p_user_id)
       AND (p_status IS NULL OR w.status = p_status)
     ORDER BY w.created_at DESC, w.id DESC
     LIMIT LEAST(GREATEST(COALESCE(p_limit, 100), 0), 10000);
END;
$$;
COMMENT ON FUNCTION exchange.list_withdrawals(bigint, exchange.withdrawal_status, integer) IS
    'Withdrawals newest first, optionally of one user and one status (at most 10000).';
REVOKE ALL ON FUNCTION exchange.list_withdrawals(bigint, exchange.withdrawal_status, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.list_withdrawals(bigint, exchange.withdrawal_status, integer) TO exchange_app, exchange_custody;
