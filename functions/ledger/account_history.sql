-- exchange.account_history(p_user_id bigint, p_asset text, p_from timestamptz DEFAULT NULL,
--                          p_to timestamptz DEFAULT NULL)
--   RETURNS TABLE (entry_id bigint, journal_id bigint, created_at timestamptz, type text,
--                  bucket exchange.balance_bucket, amount numeric, balance_before numeric,
--                  balance_after numeric, reference_type text, reference_id bigint)
-- The journal entries of the user's account for the asset, oldest first, with
-- p_from <= created_at < p_to (NULL: unbounded). An entry's created_at is the time its
-- movement's transaction started. No account yet: no rows.
-- Access: the user, or an acting user with account:read (exchange._authorize_for_user).
-- Raises: EX102 (unknown user), EX103 (unknown asset). Locks: none.
CREATE OR REPLACE FUNCTION exchange.account_history(
    p_user_id bigint,
    p_asset text,
    p_from timestamptz DEFAULT NULL,
    p_to timestamptz DEFAULT NULL
)
RETURNS TABLE (entry_id bigint, journal_id bigint, created_at timestamptz, type text,
               bucket exchange.balance_bucket, amount numeric, balance_before numeric,
               balance_after numeric, reference_type text, reference_id bigint)
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
    SELECT a.id INTO v_asset_id FROM exchange.assets a WHERE a.symbol = p_asset;
    IF v_asset_id IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX103',
            MESSAGE = format('unknown asset %s', COALESCE(p_asset, 'NULL'));
    END IF;
    IF NOT EXISTS (SELECT 1 FROM exchange.users u WHERE u.id = p_user_id) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX102',
            MESSAGE = format('unknown user %s', COALESCE(p_user_id::text, 'NULL'));
    END IF;
    SELECT acc.id INTO v_account FROM exchange.accounts acc
     WHERE acc.user_id = p_user_id AND acc.asset_id = v_asset_id AND acc.kind = 'USER';
    RETURN QUERY
        SELECT t.id, t.journal_id, t.created_at, t.type, t.bucket, t.amount::numeric,
               t.balance_before::numeric, t.balance_after::numeric, t.reference_type,
               t.reference_id
          FROM exchange.transactions t
         WHERE t.account_id = v_account
           AND (p_from IS NULL OR t.created_at >= p_from)
           AND (p_to IS NULL OR t.created_at < p_to)
         ORDER BY t.id;
END;
$$;
COMMENT ON FUNCTION exchange.account_history(bigint, text, timestamptz, timestamptz) IS
    'The entries of a user''s account for an asset in [p_from, p_to), oldest first. Raises EX102, EX103.';
REVOKE ALL ON FUNCTION exchange.account_history(bigint, text, timestamptz, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.account_history(bigint, text, timestamptz, timestamptz) TO exchange_app;
