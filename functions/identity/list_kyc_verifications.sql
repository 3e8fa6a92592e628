-- exchange.list_kyc_verifications(p_user_id bigint) RETURNS SETOF exchange.kyc_verifications
-- A user's KYC history, newest first. The acting user is the user themselves or holds
-- kyc:read. Raises: EX321 not allowed. Locks: none.
CREATE OR REPLACE FUNCTION exchange.list_kyc_verifications(p_user_id bigint)
RETURNS SETOF exchange.kyc_verifications
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
DECLARE
    v_acting bigint := exchange._acting_user_id();
BEGIN
    IF v_acting IS NOT NULL AND v_acting <> p_user_id THEN
        PERFORM exchange._require_permission(v_acting, 'kyc', 'read');
    END IF;
    RETURN QUERY
        SELECT * FROM exchange.kyc_verifications WHERE user_id = p_user_id
         ORDER BY submitted_at DESC, id DESC;
END;
$$;
COMMENT ON FUNCTION exchange.list_kyc_verifications(bigint) IS
    'A user''s KYC verifications, newest first (self or kyc:read). Raises EX321.';
REVOKE ALL ON FUNCTION exchange.list_kyc_verifications(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.list_kyc_verifications(bigint) TO exchange_app;
