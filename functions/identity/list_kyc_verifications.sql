-- exchange.list_kyc_verifications(p_user_id bigint) RETURNS SETOF exchange.kyc_verifications
-- A user's KYC history, newest first.
-- Access: the user, or an acting user with kyc:read (exchange._authorize_for_user).
-- Raises: EX320, EX360, EX303, EX321, EX322 (access). Locks: none.
CREATE OR REPLACE FUNCTION exchange.list_kyc_verifications(p_user_id bigint)
RETURNS SETOF exchange.kyc_verifications
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM exchange._authorize_for_user(p_user_id, 'kyc', 'read');
    RETURN QUERY
        SELECT * FROM exchange.kyc_verifications WHERE user_id = p_user_id
         ORDER BY submitted_at DESC, id DESC;
END;
$$;
COMMENT ON FUNCTION exchange.list_kyc_verifications(bigint) IS
    'A user''s KYC verifications, newest first (self or kyc:read). Raises EX321.';
REVOKE ALL ON FUNCTION exchange.list_kyc_verifications(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.list_kyc_verifications(bigint) TO exchange_app;
