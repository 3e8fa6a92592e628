-- exchange.balance_at(p_user_id bigint, p_asset text, p_at timestamptz,
--                     OUT available numeric, OUT frozen numeric, OUT total numeric)
-- The user's balance of the asset at time p_at, from the journal: the sum of the account's
-- entries with created_at <= p_at (an entry's time is the start of its movement's
-- transaction). Zero before the first entry or without an account.
-- Access: the user, or an acting user with account:read (exchange._authorize_for_user).
-- Raises: EX102 (unknown user), EX103 (unknown asset), EX001 (p_at NULL). Locks: none.
CREATE OR REPLACE FUNCTION exchange.balance_at(
    p_user_id bigint,
    p_asset text,
    p_at timestamptz,
    OUT available numeric,
    OUT frozen numeric,
    OUT total numeric
)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
DECLARE
    v_asset_id integer;
    v_account  bigint;
BEGIN
    PERFORM exchange._authorize_for_user(p_user_id, 'account', 'read');
    IF p_at IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX001',
            MESSAGE = 'balance_at needs a time',
            DETAIL = 'p_at is NULL.',
            HINT = 'Pass p_at (e.g. now()).';
    END IF;
    SELECT a.id INTO v_asset_id FROM exchange.assets a WHERE a.symbol = p_asset;
    IF v_asset_id IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX103',
            MESSAGE = format('unknown asset %s', exchange._quote(p_asset)),
            DETAIL = 'exchange.assets has no asset with this symbol.',
            HINT = 'list_assets() shows the assets.';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM exchange.users u WHERE u.id = p_user_id) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX102',
            MESSAGE = format('unknown user %s', COALESCE(p_user_id::text, 'NULL')),
            DETAIL = 'exchange.users has no user with this id.',
            HINT = 'Check the user id.';
    END IF;
    SELECT acc.id INTO v_account FROM exchange.accounts acc
     WHERE acc.user_id = p_user_id AND acc.asset_id = v_asset_id AND acc.kind = 'USER';
    SELECT COALESCE(sum(t.amount) FILTER (WHERE t.bucket = 'AVAILABLE'), 0),
           COALESCE(sum(t.amount) FILTER (WHERE t.bucket = 'FROZEN'), 0)
      INTO available, frozen
      FROM exchange.transactions t
     WHERE t.account_id = v_account AND t.created_at <= p_at;
    total := available + frozen;
END;
$$;
COMMENT ON FUNCTION exchange.balance_at(bigint, text, timestamptz) IS
    'A user''s available, frozen and total balance of an asset at a time, from the journal entries. Raises EX001, EX102, EX103.';
REVOKE ALL ON FUNCTION exchange.balance_at(bigint, text, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.balance_at(bigint, text, timestamptz) TO exchange_app;
