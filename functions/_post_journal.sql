-- exchange._post_journal(p_type text, p_reference_type text, p_reference_id bigint,
--                        p_account_ids bigint[], p_buckets exchange.balance_bucket[],
--                        p_amounts numeric[]) RETURNS bigint
-- Internal: the one place where balances change. Writes one journal record and its entries
-- for a movement given as legs (account, bucket, signed amount), and returns the journal id.
-- Legs are netted first: one entry and one balance update per (account, bucket), set-based,
-- whatever the number of legs (a placement with many fills passes all of them at once).
-- Nets of zero write nothing. The legs of each asset must sum to zero.
-- Callers validate amounts; this function guards the invariants.
-- Raises: EX010 (legs malformed, unknown account, or an asset whose legs do not sum to
--         zero: a bug in the caller), EX101 (a user/fee balance would go negative, from the
--         accounts trigger).
-- Locks: FOR UPDATE on every account touched, in ascending id. Callers that lock more
--        (a market, other accounts) must take those locks first and in the global order:
--        market lock, then accounts ascending.
CREATE OR REPLACE FUNCTION exchange._post_journal(
    p_type text,
    p_reference_type text,
    p_reference_id bigint,
    p_account_ids bigint[],
    p_buckets exchange.balance_bucket[],
    p_amounts numeric[]
)
RETURNS bigint
LANGUAGE plpgsql
AS $$
DECLARE
    v_journal_id bigint;
    v_accounts   bigint[];
    v_locked     integer;
    v_bad_asset  integer;
BEGIN
    IF cardinality(p_account_ids) IS DISTINCT FROM cardinality(p_buckets)
       OR cardinality(p_account_ids) IS DISTINCT FROM cardinality(p_amounts)
       OR cardinality(p_account_ids) IS NULL
       OR array_position(p_amounts, NULL) IS NOT NULL
       OR array_position(p_account_ids, NULL) IS NOT NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX010',
            MESSAGE = 'malformed journal legs',
            DETAIL = format('%s accounts, %s buckets, %s amounts',
                            cardinality(p_account_ids), cardinality(p_buckets),
                            cardinality(p_amounts)),
            HINT = 'This is a bug in the calling function.';
    END IF;

    SELECT array_agg(DISTINCT a ORDER BY a) INTO v_accounts FROM unnest(p_account_ids) AS a;

    SELECT count(*) INTO v_locked
      FROM (SELECT 1 FROM exchange.accounts
             WHERE id = ANY (v_accounts) ORDER BY id FOR UPDATE) AS locked;
    IF v_locked <> cardinality(v_accounts) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX010',
            MESSAGE = 'journal legs name an unknown account',
            DETAIL = format('accounts %s, found %s', v_accounts, v_locked),
            HINT = 'This is a bug in the calling function.';
    END IF;

    SELECT acc.asset_id INTO v_bad_asset
      FROM unnest(p_account_ids, p_amounts) AS l(account_id, amount)
      JOIN exchange.accounts acc ON acc.id = l.account_id
     GROUP BY acc.asset_id
    HAVING sum(l.amount) <> 0
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX010',
            MESSAGE = format('unbalanced journal record for asset %s', v_bad_asset),
            DETAIL = format('type %s, reference %s %s', p_type, p_reference_type, p_reference_id),
            HINT = 'This is a bug in the calling function: every movement must sum to zero per asset.';
    END IF;

    INSERT INTO exchange.journal (type, reference_type, reference_id)
    VALUES (p_type, p_reference_type, p_reference_id)
    RETURNING id INTO v_journal_id;

    WITH legs AS (
        SELECT l.account_id, l.bucket, sum(l.amount) AS amount
          FROM unnest(p_account_ids, p_buckets, p_amounts) AS l(account_id, bucket, amount)
         GROUP BY l.account_id, l.bucket
        HAVING sum(l.amount) <> 0
    ), per_account AS (
        SELECT account_id,
               COALESCE(sum(amount) FILTER (WHERE bucket = 'AVAILABLE'), 0) AS d_available,
               COALESCE(sum(amount) FILTER (WHERE bucket = 'FROZEN'), 0) AS d_frozen
          FROM legs
         GROUP BY account_id
    ), updated AS (
        UPDATE exchange.accounts acc
           SET available_balance = acc.available_balance + p.d_available,
               frozen_balance = acc.frozen_balance + p.d_frozen,
               version = acc.version + 1
          FROM per_account p
         WHERE acc.id = p.account_id
        RETURNING acc.id, acc.user_id, acc.asset_id, acc.available_balance, acc.frozen_balance
    )
    INSERT INTO exchange.transactions
        (journal_id, account_id, user_id, asset_id, bucket, type, amount,
         balance_before, balance_after, reference_type, reference_id)
    SELECT v_journal_id, u.id, u.user_id, u.asset_id, l.bucket, p_type, l.amount,
           CASE l.bucket WHEN 'AVAILABLE' THEN u.available_balance ELSE u.frozen_balance END
               - l.amount,
           CASE l.bucket WHEN 'AVAILABLE' THEN u.available_balance ELSE u.frozen_balance END,
           p_reference_type, p_reference_id
      FROM updated u
      JOIN legs l ON l.account_id = u.id
     ORDER BY u.id, l.bucket;

    RETURN v_journal_id;
END;
$$;
COMMENT ON FUNCTION exchange._post_journal(text, text, bigint, bigint[], exchange.balance_bucket[], numeric[]) IS
    'Internal: posts netted, balanced legs as one journal record with one entry per (account, bucket); locks accounts ascending. Raises EX010, EX101.';
REVOKE ALL ON FUNCTION exchange._post_journal(text, text, bigint, bigint[], exchange.balance_bucket[], numeric[]) FROM PUBLIC;
