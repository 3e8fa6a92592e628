-- exchange.cancel_withdrawal(p_withdrawal_id bigint, p_reason text DEFAULT NULL)
--   RETURNS exchange.withdrawals
-- Cancels a PENDING or REVIEW withdrawal: one journal record WITHDRAWAL_CANCEL (reference
-- WITHDRAWAL id) releases amount + fee from FROZEN to AVAILABLE; the withdrawal becomes
-- CANCELLED with p_reason as its note. Returns the updated withdrawal.
-- Access: the owner (ACTIVE acting user), or an acting user with withdrawal:approve
--         (exchange._authorize_for_user); without an acting user, members of exchange_custody
--         (the withdrawal processor) or exchange_owner (a DBA).
-- Raises: EX320/EX360/EX303/EX321 (access), EX112 (unknown withdrawal), EX113 (already completed
--         or cancelled), EX001 (a reason over 2000 characters).
-- Emits: withdrawal_cancelled (exchange._emit_event; payloads in docs/events.md).
-- Locks: the withdrawal row; then the user's account row.
CREATE OR REPLACE FUNCTION exchange.cancel_withdrawal(
    p_withdrawal_id bigint,
    p_reason text DEFAULT NULL
)
RETURNS exchange.withdrawals
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
SET enable_seqscan = off
SET enable_bitmapscan = off
AS $$
DECLARE
    v_w exchange.withdrawals;
BEGIN
    PERFORM exchange._check_text(p_reason, 'reason', 2000, 'EX001', false);
    SELECT w.* INTO v_w FROM exchange.withdrawals w WHERE w.id = p_withdrawal_id FOR UPDATE;
    IF v_w.id IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX112',
            MESSAGE = format('unknown withdrawal %s', COALESCE(p_withdrawal_id::text, 'NULL')),
            DETAIL = 'exchange.withdrawals has no withdrawal with this id.',
            HINT = 'Check the withdrawal id (get_withdrawal).';
    END IF;
    -- Access: the withdrawal's owner (ACTIVE) may cancel it, another acting user needs
    -- withdrawal:approve (exchange._authorize_for_user); a session without one must belong to
    -- exchange_custody (the withdrawal processor) or exchange_owner (a DBA).
    PERFORM exchange._authorize_for_user(v_w.user_id, 'withdrawal', 'approve', 'exchange_custody');
    IF v_w.status NOT IN ('PENDING', 'REVIEW') THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX113',
            MESSAGE = format('withdrawal %s is already %s', v_w.id, v_w.status),
            DETAIL = 'Only a PENDING or REVIEW withdrawal can be cancelled.',
            HINT = 'A completed or cancelled withdrawal is final.';
    END IF;

    PERFORM exchange._post_pair('WITHDRAWAL_CANCEL', 'WITHDRAWAL', v_w.id,
                                v_w.account_id, 'FROZEN', v_w.account_id, 'AVAILABLE',
                                v_w.amount + v_w.fee);

    UPDATE exchange.withdrawals w
       SET status = 'CANCELLED', note = p_reason, finished_at = now(), version = w.version + 1
     WHERE w.id = v_w.id
    RETURNING w.* INTO v_w;
    PERFORM exchange._emit_event('withdrawal', v_w.id::text, 'withdrawal_cancelled',
        jsonb_build_object('withdrawal_id', v_w.id, 'user_id', v_w.user_id,
                           'asset', (SELECT a.symbol FROM exchange.assets a WHERE a.id = v_w.asset_id),
                           'amount', trim_scale(v_w.amount)::text, 'fee', trim_scale(v_w.fee)::text,
                           'reason', p_reason));
    RETURN v_w;
END;
$$;
COMMENT ON FUNCTION exchange.cancel_withdrawal(bigint, text) IS
    'Cancels a PENDING or REVIEW withdrawal and releases its frozen amount + fee; status CANCELLED. Raises EX001, EX112, EX113.';
REVOKE ALL ON FUNCTION exchange.cancel_withdrawal(bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.cancel_withdrawal(bigint, text) TO exchange_app, exchange_custody;
