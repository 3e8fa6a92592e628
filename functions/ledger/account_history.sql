-- exchange.account_history(p_user_id bigint, p_asset text, p_from timestamptz DEFAULT NULL,
--                          p_to timestamptz DEFAULT NULL, p_limit integer DEFAULT 1000,
--                          p_after_id bigint DEFAULT NULL, p_before_id bigint DEFAULT NULL)
--   RETURNS TABLE (entry_id bigint, journal_id bigint, created_at timestamptz, type text,
--                  bucket exchange.balance_bucket, amount numeric, balance_before numeric,
--                  balance_after numeric, reference_type text, reference_id bigint)
-- The journal entries of the user's account for the asset, oldest first (created_at, then
-- id), with p_from <= created_at < p_to (NULL: unbounded), at most p_limit (1..10000) of
-- them. Keyset pages: with p_after_id, the entries just after that entry of the account
-- (the next page); with p_before_id, the ones just before it (the previous page), still
-- oldest first. An entry's created_at is the time its movement's transaction started. No
-- account yet: no rows. Cost: one range scan of transactions (account_id, created_at, id).
-- Access: the user, or an acting user with account:read (exchange._authorize_for_user).
-- Raises: EX320/EX360/EX303/EX321/EX322 (access), EX102 (unknown user), EX103 (unknown asset), EX001 (p_limit outside 1..10000,
-- both cursors, a cursor that is not an entry of this account). Locks: none.
CREATE OR REPLACE FUNCTION exchange.account_history(
    p_user_id bigint,
    p_asset text,
    p_from timestamptz DEFAULT NULL,
    p_to timestamptz DEFAULT NULL,
    p_limit integer DEFAULT 1000,
    p_after_id bigint DEFAULT NULL,
    p_before_id bigint DEFAULT NULL
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
    v_limit    integer := COALESCE(p_limit, 1000);
    v_cursor   bigint := COALESCE(p_after_id, p_before_id);
    v_at       timestamptz;
BEGIN
    PERFORM exchange._authorize_for_user(p_user_id, 'account', 'read');
    IF v_limit NOT BETWEEN 1 AND 10000 OR (p_after_id IS NOT NULL AND p_before_id IS NOT NULL) THEN
        RAISE EXCEPTION USING ERRCODE = 'EX001', MESSAGE = 'invalid history query',
            DETAIL = format('limit %s, after_id %s, before_id %s', p_limit, p_after_id, p_before_id),
            HINT = 'A limit of 1 to 10000, and at most one of after_id and before_id.';
    END IF;
    SELECT a.id INTO v_asset_id FROM exchange.assets a WHERE a.symbol = p_asset;
    IF v_asset_id IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX103',
            MESSAGE = format('unknown asset %s', exchange._quote(p_asset)),
            DETAIL = 'exchange.assets has no asset with this symbol.',
            HINT = 'List the assets with exchange.list_assets().';
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
    IF v_cursor IS NOT NULL THEN
        SELECT t.created_at INTO v_at FROM exchange.transactions t
         WHERE t.id = v_cursor AND t.account_id = v_account;
        IF v_at IS NULL THEN
            RAISE EXCEPTION USING ERRCODE = 'EX001', MESSAGE = 'unknown page cursor',
                DETAIL = format('entry %s is not an entry of user %s''s %s account', v_cursor,
                                p_user_id, exchange._quote(p_asset)),
                HINT = 'Page with the entry_id of an entry from the previous page.';
        END IF;
    END IF;
    IF p_before_id IS NULL THEN
        RETURN QUERY
            SELECT t.id, t.journal_id, t.created_at, t.type, t.bucket, t.amount::numeric,
                   t.balance_before::numeric, t.balance_after::numeric, t.reference_type,
                   t.reference_id
              FROM exchange.transactions t
             WHERE t.account_id = v_account
               AND t.created_at >= COALESCE(p_from, '-infinity')
               AND t.created_at < COALESCE(p_to, 'infinity')
               AND (t.created_at, t.id) > (COALESCE(v_at, '-infinity'), COALESCE(p_after_id, 0))
             ORDER BY t.created_at, t.id
             LIMIT v_limit;
    ELSE
        RETURN QUERY
            SELECT * FROM (
                SELECT t.id, t.journal_id, t.created_at, t.type, t.bucket, t.amount::numeric,
                       t.balance_before::numeric, t.balance_after::numeric, t.reference_type,
                       t.reference_id
                  FROM exchange.transactions t
                 WHERE t.account_id = v_account
                   AND t.created_at >= COALESCE(p_from, '-infinity')
                   AND t.created_at < COALESCE(p_to, 'infinity')
                   AND (t.created_at, t.id) < (v_at, p_before_id)
                 ORDER BY t.created_at DESC, t.id DESC
                 LIMIT v_limit) r
             ORDER BY r.created_at, r.id;
    END IF;
END;
$$;
COMMENT ON FUNCTION exchange.account_history(bigint, text, timestamptz, timestamptz, integer, bigint, bigint) IS
    'The entries of a user''s account for an asset in [p_from, p_to), oldest first, at most p_limit, keyset pages after or before an entry id. Raises EX001, EX102, EX103.';
REVOKE ALL ON FUNCTION exchange.account_history(bigint, text, timestamptz, timestamptz, integer, bigint, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.account_history(bigint, text, timestamptz, timestamptz, integer, bigint, bigint) TO exchange_app;
