-- exchange._refuse_negative_balance(p_account_id bigint, p_bucket exchange.balance_bucket,
--                                   p_balance numeric) RETURNS numeric
-- Internal: raises EX101 (insufficient funds) for an account bucket that a posting would take
-- to p_balance, below zero. The seed's check_account_balance trigger, moved into the
-- statements that change balances: the posting functions (_post_pair, _post_journals) call
-- it from the SET of their balance UPDATEs, in the branch of a CASE that only a user or fee
-- balance going negative reaches, so the refusal is typed and a posting that is not refused
-- pays nothing for it.
-- The CHECK constraints on accounts stay as the last line against any other writer.
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
BEGIN
    RAISE EXCEPTION USING
        ERRCODE = 'EX101',
        MESSAGE = format('insufficient funds in account %s', p_account_id),
        DETAIL = format('%s would be %s', lower(p_bucket::text), trim_scale(p_balance)),
        HINT = 'A balance can never go negative; move less or deposit first.';
END;
$$;
COMMENT ON FUNCTION exchange._refuse_negative_balance(bigint, exchange.balance_bucket, numeric) IS
    'Internal: raises EX101 for an account bucket a posting would take below zero (called by _post_pair and _post_journals in their balance UPDATEs).';
REVOKE ALL ON FUNCTION exchange._refuse_negative_balance(bigint, exchange.balance_bucket, numeric) FROM PUBLIC;
