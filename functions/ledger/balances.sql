-- exchange.balances(p_user_id bigint)
--   RETURNS TABLE (asset text, available numeric, frozen numeric, total numeric,
--                  version integer, updated_at timestamptz)
-- The user's balances, one row per asset the user has an account for, by symbol.
-- Access: the user, or an acting user with account:read (exchange._authorize_for_user).
-- Raises: EX102 (unknown user). Locks: none.
CREATE OR REPLACE FUNCTION exchange.balances(p_user_id bigint)
RETURNS TABLE (asset text, available numeric, frozen numeric, total numeric,
               version integer, updated_at timestamptz)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM exchange._authorize_for_user(p_user_id, 'account', 'read');
    IF NOT EXISTS (SELECT 1 FROM exchange.users u WHERE u.id = p_user_id) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX102',
            MESSAGE = format('unknown user %s', COALESCE(p_user_id::text, 'NULL')),
            DETAIL = 'exchange.users has no user with this id.',
            HINT = 'Check the user id.';
    END IF;
    RETURN QUERY
        SELECT a.symbol::text, acc.available_balance::numeric, acc.frozen_balance::numeric,
               acc.total_balance::numeric, acc.version, acc.updated_at
          FROM exchange.accounts acc
          JOIN exchange.assets a ON a.id = acc.asset_id
         WHERE acc.user_id = p_user_id AND acc.kind = 'USER'
         ORDER BY a.symbol;
END;
$$;
COMMENT ON FUNCTION exchange.balances(bigint) IS
    'A user''s balances (available, frozen, total) per asset. Raises EX102.';
REVOKE ALL ON FUNCTION exchange.balances(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.balances(bigint) TO exchange_app;
