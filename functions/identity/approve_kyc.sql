-- exchange.approve_kyc(p_reviewer_id bigint, p_verification_id bigint, p_note text DEFAULT NULL)
--   RETURNS exchange.kyc_verifications
-- exchange.reject_kyc(p_reviewer_id bigint, p_verification_id bigint, p_note text)
--   RETURNS exchange.kyc_verifications
-- A reviewer (permission kyc:review; the acting user, when set, must be the reviewer) closes
-- a pending verification. Approval raises the user's kyc_level to the requested level (never
-- lowers it); rejection needs a note. Nobody reviews their own verification.
-- Raises: EX320/EX321/EX322/EX303 the reviewer's checks; EX332 no such verification;
--         EX333 not pending; EX334 own verification; EX001 rejection without a note, a note over 1000
--         characters.
-- Emits: kyc_decided (approve and reject) (exchange._emit_event; payloads in docs/events.md).
-- Locks: the verification row, then the user row (updated on approval, locked on rejection
-- so that the kyc_decided event is emitted under the aggregate's lock).
CREATE OR REPLACE FUNCTION exchange._review_kyc(
    p_reviewer_id bigint, p_verification_id bigint, p_approve boolean, p_note text)
RETURNS exchange.kyc_verifications
LANGUAGE plpgsql
AS $$
DECLARE
    v_kyc exchange.kyc_verifications;
BEGIN
    PERFORM exchange._require_permission(p_reviewer_id, 'kyc', 'review');
    PERFORM exchange._check_text(p_note, 'review note', 1000, 'EX001', false);
    SELECT * INTO v_kyc FROM exchange.kyc_verifications WHERE id = p_verification_id FOR UPDATE;
    IF v_kyc.id IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX332', MESSAGE = format('KYC verification %s does not exist', p_verification_id),
            DETAIL = 'exchange.kyc_verifications has no verification with this id.',
            HINT = 'list_kyc_verifications() shows the pending verifications.';
    END IF;
    IF v_kyc.status <> 'PENDING' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX333',
            MESSAGE = format('KYC verification %s is already %s', p_verification_id, v_kyc.status),
            DETAIL = 'A verification is reviewed once.',
            HINT = 'Submit a new verification to change the level again.';
    END IF;
    IF v_kyc.user_id = p_reviewer_id THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX334',
            MESSAGE = 'a reviewer cannot review their own KYC verification',
            DETAIL = format('reviewer %s submitted verification %s', p_reviewer_id, p_verification_id),
            HINT = 'Ask another reviewer.';
    END IF;
    UPDATE exchange.kyc_verifications
       SET status = CASE WHEN p_approve THEN 'APPROVED' ELSE 'REJECTED' END::exchange.kyc_status,
           reviewer_id = p_reviewer_id, review_note = p_note, reviewed_at = now()
     WHERE id = p_verification_id
    RETURNING * INTO v_kyc;
    IF p_approve THEN
        UPDATE exchange.users
           SET kyc_level = greatest(kyc_level, v_kyc.requested_level), version = version + 1
         WHERE id = v_kyc.user_id;
    ELSE
        -- the user's row is the event's aggregate: hold it while emitting (docs/events.md)
        PERFORM 1 FROM exchange.users WHERE id = v_kyc.user_id FOR NO KEY UPDATE;
    END IF;
    PERFORM exchange._emit_event('user', v_kyc.user_id::text, 'kyc_decided',
        jsonb_build_object('user_id', v_kyc.user_id, 'kyc_id', v_kyc.id, 'status', v_kyc.status,
                           'kyc_level', (SELECT u.kyc_level FROM exchange.users u
                                          WHERE u.id = v_kyc.user_id),
                           'reason', p_note));
    RETURN v_kyc;
END;
$$;
COMMENT ON FUNCTION exchange._review_kyc(bigint, bigint, boolean, text) IS
    'Internal: approve_kyc and reject_kyc. Raises EX320, EX321, EX322, EX303, EX332, EX333, EX334.';
REVOKE ALL ON FUNCTION exchange._review_kyc(bigint, bigint, boolean, text) FROM PUBLIC;

CREATE OR REPLACE FUNCTION exchange.approve_kyc(
    p_reviewer_id bigint, p_verification_id bigint, p_note text DEFAULT NULL)
RETURNS exchange.kyc_verifications
LANGUAGE sql
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
    SELECT * FROM exchange._review_kyc(p_reviewer_id, p_verification_id, true, p_note);
$$;
COMMENT ON FUNCTION exchange.approve_kyc(bigint, bigint, text) IS
    'Approves a pending KYC verification (kyc:review) and raises the user''s level. Raises EX320, EX321, EX322, EX303, EX332, EX333, EX334.';
REVOKE ALL ON FUNCTION exchange.approve_kyc(bigint, bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.approve_kyc(bigint, bigint, text) TO exchange_app;

CREATE OR REPLACE FUNCTION exchange.reject_kyc(
    p_reviewer_id bigint, p_verification_id bigint, p_note text)
RETURNS exchange.kyc_verifications
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
BEGIN
    IF nullif(btrim(p_note), '') IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX001',
            MESSAGE = 'a KYC rejection needs a note',
            DETAIL = 'The note is NULL, empty or only whitespace.',
            HINT = 'Say why the verification is rejected.';
    END IF;
    RETURN exchange._review_kyc(p_reviewer_id, p_verification_id, false, p_note);
END;
$$;
COMMENT ON FUNCTION exchange.reject_kyc(bigint, bigint, text) IS
    'Rejects a pending KYC verification with a note (kyc:review). Raises EX001, EX320, EX321, EX322, EX303, EX332, EX333, EX334.';
REVOKE ALL ON FUNCTION exchange.reject_kyc(bigint, bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.reject_kyc(bigint, bigint, text) TO exchange_app;
