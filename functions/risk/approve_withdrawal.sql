-- exchange.approve_withdrawal(p_withdrawal_id bigint, p_note text) RETURNS exchange.withdrawals
-- exchange.reject_withdrawal(p_withdrawal_id bigint, p_note text) RETURNS exchange.withdrawals
-- The review of a withdrawal a risk rule held (status REVIEW, its amount + fee frozen):
-- approve makes it PENDING (complete_withdrawal then pays it out as any other); reject
-- cancels it (exchange.cancel_withdrawal: the funds go back to available). Either closes the
-- withdrawal's ACTIVE risk events as RESOLVED with the note ('approved: ...' /
-- 'rejected: ...'). Permission withdrawal:approve (admin, risk_officer); audited.
-- Raises: EX320/EX321 acting user; EX411 empty note; EX112 unknown withdrawal; EX410 not
--         in REVIEW.
-- Locks: the withdrawal row; reject: then the user's account row (cancel_withdrawal).
-- exchange._review_withdrawal(p_withdrawal_id bigint, p_note text, p_approve boolean)
--   RETURNS exchange.withdrawals
-- Internal: the body of approve_withdrawal / reject_withdrawal (see there).
CREATE OR REPLACE FUNCTION exchange._review_withdrawal(
    p_withdrawal_id bigint, p_note text, p_approve boolean)
RETURNS exchange.withdrawals
LANGUAGE plpgsql
AS $$
DECLARE
    v_actor bigint;
    v_w     exchange.withdrawals;
    v_note  text;
BEGIN
    v_actor := exchange._require_admin('withdrawal', 'approve');
    IF p_note IS NULL OR btrim(p_note) = '' THEN
        RAISE EXCEPTION USING ERRCODE = 'EX411',
            MESSAGE = 'a review note is required',
            DETAIL = 'The note is NULL, empty or only whitespace.',
            HINT = 'Say why the withdrawal is approved or rejected.';
    END IF;
    PERFORM exchange._check_text(p_note, 'review note', 1000, 'EX411');
    SELECT w.* INTO v_w FROM exchange.withdrawals w WHERE w.id = p_withdrawal_id FOR UPDATE;
    IF v_w.id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'EX112',
            MESSAGE = format('unknown withdrawal %s', COALESCE(p_withdrawal_id::text, 'NULL')),
            DETAIL = 'exchange.withdrawals has no withdrawal with this id.',
            HINT = 'list the withdrawals under review with exchange.list_risk_events().';
    END IF;
    IF v_w.status <> 'REVIEW' THEN
        RAISE EXCEPTION USING ERRCODE = 'EX410',
            MESSAGE = format('withdrawal %s is %s, not under review', v_w.id, v_w.status),
            DETAIL = 'Only a withdrawal in status REVIEW is approved or rejected.',
            HINT = 'Only a withdrawal held by a risk rule (status REVIEW) is approved or rejected.';
    END IF;
    v_note := CASE WHEN p_approve THEN 'approved: ' ELSE 'rejected: ' END || btrim(p_note);
    IF p_approve THEN
        UPDATE exchange.withdrawals w
           SET status = 'PENDING', note = v_note, version = w.version + 1
         WHERE w.id = v_w.id
        RETURNING w.* INTO v_w;
    ELSE
        v_w := exchange.cancel_withdrawal(v_w.id, v_note);
    END IF;
    UPDATE exchange.risk_events e
       SET status = 'RESOLVED', resolution_note = v_note, resolved_by = v_actor, resolved_at = now()
     WHERE e.reference_type = 'WITHDRAWAL' AND e.reference_id = v_w.id AND e.status = 'ACTIVE';
    PERFORM exchange._audit_action(
        CASE WHEN p_approve THEN 'APPROVE_WITHDRAWAL' ELSE 'REJECT_WITHDRAWAL' END,
        'withdrawals', v_w.id::text, jsonb_build_object('note', v_note));
    RETURN v_w;
END;
$$;
COMMENT ON FUNCTION exchange._review_withdrawal(bigint, text, boolean) IS
    'Internal: approves (-> PENDING) or rejects (cancel) a withdrawal in REVIEW and resolves its risk events.';
REVOKE ALL ON FUNCTION exchange._review_withdrawal(bigint, text, boolean) FROM PUBLIC;

CREATE OR REPLACE FUNCTION exchange.approve_withdrawal(p_withdrawal_id bigint, p_note text)
RETURNS exchange.withdrawals
LANGUAGE sql
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
    SELECT exchange._review_withdrawal(p_withdrawal_id, p_note, true);
$$;
COMMENT ON FUNCTION exchange.approve_withdrawal(bigint, text) IS
    'Approves a withdrawal held for REVIEW (-> PENDING) and resolves its risk events (withdrawal:approve). Raises EX112, EX320, EX321, EX410, EX411.';
REVOKE ALL ON FUNCTION exchange.approve_withdrawal(bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.approve_withdrawal(bigint, text) TO exchange_app;

CREATE OR REPLACE FUNCTION exchange.reject_withdrawal(p_withdrawal_id bigint, p_note text)
RETURNS exchange.withdrawals
LANGUAGE sql
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
    SELECT exchange._review_withdrawal(p_withdrawal_id, p_note, false);
$$;
COMMENT ON FUNCTION exchange.reject_withdrawal(bigint, text) IS
    'Rejects a withdrawal held for REVIEW (cancelled, funds released) and resolves its risk events (withdrawal:approve). Raises EX112, EX320, EX321, EX410, EX411.';
REVOKE ALL ON FUNCTION exchange.reject_withdrawal(bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.reject_withdrawal(bigint, text) TO exchange_app;
