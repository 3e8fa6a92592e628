-- exchange._post_pair(p_type text, p_reference_type text, p_reference_id bigint,
--                     p_from_account bigint, p_from_bucket exchange.balance_bucket,
--                     p_to_account bigint, p_to_bucket exchange.balance_bucket,
--                     p_amount numeric, p_journal_id bigint DEFAULT NULL) RETURNS bigint
-- Internal: posts the most common movement, p_amount (> 0) from one account bucket to
-- another, as one journal record with two entries, and returns its id: a transfer or a
-- deposit (two accounts), a hold or its release (one account's available and frozen). The
-- general form, with any number of records and legs, is exchange._post_journals; this one
-- takes scalars, so it has nothing to net and little to check, and does it all in one
-- statement. p_journal_id, when given, is the record's id, taken by the caller from
-- exchange.journal_id_seq beforehand; else it comes from the sequence here.
-- The statement locks the account(s) FOR NO KEY UPDATE in ascending id and reads their new
-- balances under the lock (locked: after a wait, the latest committed version), updates each
-- once from those, and writes the record and its entries (balance_after is the bucket as
-- updated, before = after - amount). The new balances come from locked, not from the
-- UPDATE's own scan: that scan reads the statement's snapshot, which may predate a
-- concurrent movement the lock waited for, and a balance computed from it would be refused
-- (or fail a CHECK) before the UPDATE re-reads the row. A user or fee balance that would go
-- negative is refused in the SET (EX101), before the accounts' CHECKs see it. The statement
-- returns what the last checks need (an account not found, two assets); a failed check
-- raises, which undoes it.
-- Raises: EX010 (a malformed pair, an unknown account, two assets: a bug in the caller),
--         EX101 (insufficient funds, from _refuse_negative_balance).
-- Locks: FOR NO KEY UPDATE on the account(s), ascending id (see _post_journals for the
--        global order).
CREATE OR REPLACE FUNCTION exchange._post_pair(
    p_type text,
    p_reference_type text,
    p_reference_id bigint,
    p_from_account bigint,
    p_from_bucket exchange.balance_bucket,
    p_to_account bigint,
    p_to_bucket exchange.balance_bucket,
    p_amount numeric,
    p_journal_id bigint DEFAULT NULL
)
RETURNS bigint
LANGUAGE plpgsql
AS $$
DECLARE
    v_id     bigint;
    v_known  boolean;
    v_asset  integer;
BEGIN
    IF NOT COALESCE(p_amount > 0 AND p_from_account IS NOT NULL AND p_to_account IS NOT NULL
                    AND p_from_bucket IS NOT NULL AND p_to_bucket IS NOT NULL
                    AND (p_from_account <> p_to_account OR p_from_bucket <> p_to_bucket),
                    false) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX010',
            MESSAGE = 'malformed journal legs',
            DETAIL = format('%s from %s %s to %s %s', p_amount, p_from_account, p_from_bucket,
                            p_to_account, p_to_bucket),
            HINT = 'This is a bug in the calling function.';
    END IF;
    v_id := COALESCE(p_journal_id, nextval('exchange.journal_id_seq'::regclass));
    WITH locked AS MATERIALIZED (
        -- each bucket gets at most one leg: the pair names two different buckets
        SELECT acc.id, acc.kind,
               acc.available_balance
                   + CASE WHEN acc.id = p_from_account AND p_from_bucket = 'AVAILABLE'
                          THEN -p_amount
                          WHEN acc.id = p_to_account AND p_to_bucket = 'AVAILABLE'
                          THEN p_amount ELSE 0 END AS available,
               acc.frozen_balance
                   + CASE WHEN acc.id = p_from_account AND p_from_bucket = 'FROZEN'
                          THEN -p_amount
                          WHEN acc.id = p_to_account AND p_to_bucket = 'FROZEN'
                          THEN p_amount ELSE 0 END AS frozen
          FROM exchange.accounts acc
         WHERE acc.id IN (p_from_account, p_to_account)
         ORDER BY acc.id FOR NO KEY UPDATE
    ), updated AS (
        -- the subquery on locked in WHERE has no column of acc: a one-time filter, run
        -- (locking the rows, ascending) before the UPDATE reads a row
        UPDATE exchange.accounts acc
           SET (available_balance, frozen_balance) = (
                   SELECT CASE WHEN l.available < 0 AND l.kind <> 'EXTERNAL'
                               THEN exchange._refuse_negative_balance(l.id, 'AVAILABLE',
                                                                      l.available)
                               ELSE l.available END,
                          CASE WHEN l.frozen < 0 AND l.kind <> 'EXTERNAL'
                               THEN exchange._refuse_negative_balance(l.id, 'FROZEN', l.frozen)
                               ELSE l.frozen END
                     FROM locked l WHERE l.id = acc.id),
               version = acc.version + 1, updated_at = now()
         WHERE acc.id IN (p_from_account, p_to_account)
           AND (SELECT count(*) FROM locked)
               = CASE WHEN p_from_account = p_to_account THEN 1 ELSE 2 END
        RETURNING acc.id, acc.user_id, acc.asset_id,
                  acc.available_balance::numeric AS available,
                  acc.frozen_balance::numeric AS frozen
    ), jr AS (
        INSERT INTO exchange.journal (id, type, reference_type, reference_id)
        OVERRIDING SYSTEM VALUE
        VALUES (v_id, p_type, p_reference_type, p_reference_id)
    ), entries AS (
        -- in account order, then from before to; lateral: a nested loop over the two legs
        INSERT INTO exchange.transactions
            (journal_id, account_id, user_id, asset_id, bucket, type, amount,
             balance_before, balance_after, reference_type, reference_id)
        SELECT v_id, u.id, u.user_id, u.asset_id, g.bucket, p_type, g.amount,
               g.after - g.amount, g.after, p_reference_type, p_reference_id
          FROM updated u
         CROSS JOIN LATERAL (VALUES
                   (u.id = p_from_account, p_from_bucket, -p_amount,
                    CASE p_from_bucket WHEN 'AVAILABLE' THEN u.available ELSE u.frozen END),
                   (u.id = p_to_account, p_to_bucket, p_amount,
                    CASE p_to_bucket WHEN 'AVAILABLE' THEN u.available ELSE u.frozen END)
               ) AS g(mine, bucket, amount, after)
         WHERE g.mine
        RETURNING asset_id
    )
    SELECT count(*) = 2,
           CASE WHEN min(e.asset_id) <> max(e.asset_id) THEN min(e.asset_id) END
      INTO v_known, v_asset
      FROM entries e;

    IF NOT v_known THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX010',
            MESSAGE = 'journal legs name an unknown account',
            DETAIL = format('accounts %s and %s', p_from_account, p_to_account),
            HINT = 'This is a bug in the calling function.';
    END IF;
    IF v_asset IS NOT NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX010',
            MESSAGE = format('unbalanced journal record for asset %s', v_asset),
            DETAIL = format('type %s, reference %s %s: accounts %s and %s hold two assets',
                            p_type, p_reference_type, p_reference_id, p_from_account,
                            p_to_account),
            HINT = 'This is a bug in the calling function: every movement must sum to zero per asset.';
    END IF;
    RETURN v_id;
END;
$$;
COMMENT ON FUNCTION exchange._post_pair(text, text, bigint, bigint, exchange.balance_bucket, bigint, exchange.balance_bucket, numeric, bigint) IS
    'Internal: posts an amount from one account bucket to another as one journal record (the common movement, in one statement); locks accounts ascending. Raises EX010, EX101.';
REVOKE ALL ON FUNCTION exchange._post_pair(text, text, bigint, bigint, exchange.balance_bucket, bigint, exchange.balance_bucket, numeric, bigint) FROM PUBLIC;
