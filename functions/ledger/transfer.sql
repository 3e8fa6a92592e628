-- exchange.transfer(p_from_user_id bigint, p_to_user_id bigint, p_asset text,
--                   p_amount numeric, p_idempotency_key text) RETURNS bigint
-- One transfer between two users' available balances: the single form of
-- exchange.transfers(), which it calls. Returns the journal id (the transfer id).
-- Idempotent: the same key with the same transfer returns the original journal id and moves
-- nothing; the same key with another request raises EX108.
-- Access: as exchange.transfers: the sender is the acting user (or a DBA session).
-- Raises: EX109, EX108, EX103 (unknown asset), EX102 (unknown user), EX106 (to oneself),
--         EX104 (inactive asset), EX105 (invalid amount), EX101 (insufficient funds).
-- Locks: the key; then both account rows in ascending id.
CREATE OR REPLACE FUNCTION exchange.transfer(
    p_from_user_id bigint,
    p_to_user_id bigint,
    p_asset text,
    p_amount numeric,
    p_idempotency_key text
)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
BEGIN
    RETURN (exchange.transfers(ARRAY[ROW(p_from_user_id, p_to_user_id, p_asset, p_amount,
                                         p_idempotency_key)::exchange.transfer_request]))[1];
END;
$$;
COMMENT ON FUNCTION exchange.transfer(bigint, bigint, text, numeric, text) IS
    'One transfer between users (calls transfers()); idempotent by key; returns the journal id. Raises EX101, EX102, EX103, EX104, EX105, EX106, EX108, EX109.';
REVOKE ALL ON FUNCTION exchange.transfer(bigint, bigint, text, numeric, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.transfer(bigint, bigint, text, numeric, text) TO exchange_app;
