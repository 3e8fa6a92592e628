-- exchange._post_journal(p_type text, p_reference_type text, p_reference_id bigint,
--                        p_account_ids bigint[], p_buckets exchange.balance_bucket[],
--                        p_amounts numeric[]) RETURNS bigint
-- Internal: posts one movement, given as legs (account, bucket, signed amount), as one
-- journal record and returns its id. The single form of exchange._post_journals (see there
-- for netting, checks and locks).
-- Raises: EX010, EX101 (from _post_journals). Locks: accounts touched, ascending id.
CREATE OR REPLACE FUNCTION exchange._post_journal(
    p_type text,
    p_reference_type text,
    p_reference_id bigint,
    p_account_ids bigint[],
    p_buckets exchange.balance_bucket[],
    p_amounts numeric[]
)
RETURNS bigint
LANGUAGE sql
AS $$
    SELECT (exchange._post_journals(
        ARRAY[p_type], ARRAY[p_reference_type], ARRAY[p_reference_id],
        array_fill(1, ARRAY[cardinality(p_account_ids)]),
        p_account_ids, p_buckets, p_amounts))[1];
$$;
COMMENT ON FUNCTION exchange._post_journal(text, text, bigint, bigint[], exchange.balance_bucket[], numeric[]) IS
    'Internal: posts one balanced movement as one journal record (single form of _post_journals). Raises EX010, EX101.';
REVOKE ALL ON FUNCTION exchange._post_journal(text, text, bigint, bigint[], exchange.balance_bucket[], numeric[]) FROM PUBLIC;
