-- exchange.submit_kyc(p_user_id bigint, p_level integer, p_documents jsonb DEFAULT '{}')
--   RETURNS exchange.kyc_verifications
-- Files a KYC verification asking for level p_level (1 or 2, above the user's level) with its
-- documents, stored encrypted: '{}' (none) or {"ciphertext": "<envelope>"}, the envelope
-- (exchange._check_ciphertext) of the JSON object the application validated (at most 64 kB)
-- and encrypted (pyexchange.crypto); the database never sees them in plain text.
-- One pending verification per user.
-- Access: the user themselves only, ACTIVE (exchange._authorize_for_user), or a DBA session.
-- Raises: EX309 no such user; EX303 user CLOSED or SUSPENDED; EX330 bad level; EX331 one is
--         already pending; EX337 documents not {} or {"ciphertext": ...} (or larger than
--         96 kB); EX382 the ciphertext is not an envelope; EX320, EX360, EX303, EX321,
--         EX322 (access).
-- Locks: the user row (so two submissions of one user take turns).
CREATE OR REPLACE FUNCTION exchange.submit_kyc(
    p_user_id bigint, p_level integer, p_documents jsonb DEFAULT '{}'::jsonb)
RETURNS exchange.kyc_verifications
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
DECLARE
    v_user   record;
    v_result exchange.kyc_verifications;
BEGIN
    PERFORM exchange._authorize_for_user(p_user_id);
    IF p_documents IS NULL OR jsonb_typeof(p_documents) <> 'object'
       OR octet_length(p_documents::text) > 98304
       OR (p_documents <> '{}'::jsonb
           AND (jsonb_typeof(p_documents -> 'ciphertext') IS DISTINCT FROM 'string'
                OR p_documents - 'ciphertext' <> '{}'::jsonb)) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX337',
            MESSAGE = 'KYC documents must be {} or {"ciphertext": "<envelope>"}',
            DETAIL = 'the documents (a JSON object of at most 64 kB) are stored encrypted',
            HINT = 'The pyexchange client encrypts them (docs/security.md).';
    END IF;
    PERFORM exchange._check_ciphertext(p_documents ->> 'ciphertext', 'KYC documents');
    SELECT id, status, kyc_level INTO v_user FROM exchange.users WHERE id = p_user_id FOR UPDATE;
    IF v_user.id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'EX309', MESSAGE = format('user %s does not exist', p_user_id),
            DETAIL = 'exchange.users has no user with this id.',
            HINT = 'Check the user id.';
    END IF;
    IF v_user.status IN ('SUSPENDED', 'CLOSED') THEN
        RAISE EXCEPTION USING ERRCODE = 'EX303', MESSAGE = format('user %s is %s', p_user_id, v_user.status),
            DETAIL = 'Only an ACTIVE user submits a KYC verification.',
            HINT = 'Activate the user first.';
    END IF;
    IF p_level IS NULL OR p_level NOT BETWEEN 1 AND 2 OR p_level <= v_user.kyc_level THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX330',
            MESSAGE = format('cannot ask for KYC level %s', p_level),
            DETAIL = format('the user is at level %s; levels are 1 and 2', v_user.kyc_level),
            HINT = 'Ask for a level above the current one.';
    END IF;
    IF EXISTS (SELECT 1 FROM exchange.kyc_verifications
                WHERE user_id = p_user_id AND status = 'PENDING') THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX331',
            MESSAGE = 'a KYC verification is already pending',
            DETAIL = 'A user has at most one pending verification.',
            HINT = 'Wait for the review of the pending verification.';
    END IF;
    INSERT INTO exchange.kyc_verifications (user_id, requested_level, documents)
    VALUES (p_user_id, p_level::smallint, p_documents)
    RETURNING * INTO v_result;
    RETURN v_result;
END;
$$;
COMMENT ON FUNCTION exchange.submit_kyc(bigint, integer, jsonb) IS
    'Files a KYC verification for a higher level with its documents (JSON object). Raises EX303, EX309, EX322, EX330, EX331, EX337.';
REVOKE ALL ON FUNCTION exchange.submit_kyc(bigint, integer, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.submit_kyc(bigint, integer, jsonb) TO exchange_app;
