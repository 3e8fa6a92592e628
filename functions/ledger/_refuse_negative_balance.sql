-- exchange._refuse_negative_balance(p_account_id bigint, p_bucket exchange.balance_bucket,
--                                   p_balance numeric) RETURNS numeric
-- Internal: raises EX101 (insufficient funds) for an account bucket that a posting would take
-- to p_balance, below zero. The seed's check_account_balance trigger, moved into the
-- statements that change balances: the posting functions (_post_pair, _post_journals) call
-- it from the SET of their balance UPDATEs, in the branch of a CASE that only a user or fee
-- balance going negative reaches, so the refusal is typed and a posting that is not refused
-- pays nothing for it.
-- The CHECK constraints on accounts stay as the last line against any other writer.
-- The message names the user (or system account), the asset, the amount available in the
-- bucket and the amount the posting needed.
-- Never returns (the numeric result type lets the CASE branch type-check).
-- Raises: EX101.
CREATE OR REPLACE FUNCTION exchange._refuse_negative_balance(
    p_account_id bigint,
    p_bucket exchange.balance_bucket,
    p_balance numeric
)
RETURNS numeric
LANGUAGE plpgsql
AS $$
DECLARE
    v_user   bigint;
    v_kind   text;
    v_asset  text;
    v_have   numeric;
BEGIN
    -- Only the refusal reaches here, so naming the asset and amounts costs a posting nothing.
    -- Inside the refused UPDATE this reads the row as it was before the statement.
    SELECT a.user_id, a.kind::text, s.symbol,
           CASE p_bucket WHEN 'AVAILABLE' THEN a.available_balance ELSE a.frozen_balance END
      INTO v_user, v_kind, v_asset, v_have
      FROM exchange.accounts a
      JOIN exchange.assets s ON s.id = a.asset_id
     WHERE a.id = p_account_id;
    RAISE EXCEPTION USING
        ERRCODE = 'EX101',
        MESSAGE = format('insufficient funds: %s has %s %s %s, %s required',
                         CASE WHEN v_user IS NOT NULL THEN format('user %s', v_user)
                              ELSE format('the %s account', COALESCE(v_kind, '?')) END,
                         trim_scale(COALESCE(v_have, 0)), COALESCE(v_asset, '?'),
                         lower(p_bucket::text),
                         trim_scale(COALESCE(v_have, 0) - p_balance)),
        DETAIL = format('account %s: the %s balance would be %s', p_account_id,
                        lower(p_bucket::text), trim_scale(p_balance)),
        HINT = 'A balance can never go negative; move less or deposit first.';
END;
$$;
COMMENT ON FUNCTION exchange._refuse_negative_balance(bigint, exchange.balance_bucket, numeric) IS
    'Internal: raises EX101 for an account bucket a posting would take below zero (called by _post_pair and _post_journals in their balance UPDATEs).';
REVOKE ALL ON FUNCTION exchange._refuse_negative_balance(bigint, exchange.balance_bucket, numeric) FROM PUBLIC;
