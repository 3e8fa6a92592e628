-- exchange.complete_withdrawal(p_withdrawal_id bigint, p_external_ref text DEFAULT NULL)
--   RETURNS exchange.withdrawals
-- Phase two of a withdrawal, once the funds have left (p_external_ref: e.g. the chain
-- transaction or bank reference): one journal record WITHDRAWAL (reference WITHDRAWAL id):
-- user FROZEN -(amount+fee), EXTERNAL +amount, the withdrawal FEE account +fee; the
-- withdrawal becomes COMPLETED. Returns the updated withdrawal.
-- Only a PENDING withdrawal completes: one in REVIEW must be approved first; a completed or
-- cancelled one cannot be completed again.
-- Access: withdrawal:approve for an acting user; without one, members of exchange_custody
--         (the withdrawal processor) or exchange_owner (a DBA). Granted to exchange_custody
--         only, not to exchange_app.
-- Raises: EX320/EX321/EX303 (access, see docs/security.md), EX112 (unknown withdrawal),
--         EX114 (in REVIEW), EX113 (already completed or cancelled), EX001 (an external reference over
--         200 characters).
-- Emits: withdrawal_completed (exchange._emit_event; payloads in docs/events.md).
-- Locks: the withdrawal row; then the user's, EXTERNAL and FEE account rows, ascending.
CREATE OR REPLACE FUNCTION exchange.complete_withdrawal(
    p_withdrawal_id bigint,
    p_external_ref text DEFAULT NULL
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
    -- Access: an acting user (exchange.acting_user_id) needs withdrawal:approve; a session without
    -- one must belong to exchange_custody (the withdrawal processor) or exchange_owner (a DBA).
    PERFORM exchange._require_admin('withdrawal', 'approve', 'exchange_custody');
    PERFORM exchange._check_text(p_external_ref, 'external reference', 200, 'EX001', false);
    SELECT w.* INTO v_w FROM exchange.withdrawals w WHERE w.id = p_withdrawal_id FOR UPDATE;
    IF v_w.id IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX112',
            MESSAGE = format('unknown withdrawal %s', COALESCE(p_withdrawal_id::text, 'NULL')),
            DETAIL = 'exchange.withdrawals has no withdrawal with this id.',
            HINT = 'Check the withdrawal id (get_withdrawal).';
    END IF;
    IF v_w.status = 'REVIEW' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX114',
            MESSAGE = format('withdrawal %s is under review', v_w.id),
            DETAIL = 'A risk rule held the withdrawal for review (status REVIEW).',
            HINT = 'Approve it (status PENDING) before completing it, or cancel it.';
    END IF;
    IF v_w.status <> 'PENDING' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX113',
            MESSAGE = format('withdrawal %s is already %s', v_w.id, v_w.status),
            DETAIL = 'Only a PENDING withdrawal can be completed.',
            HINT = 'A completed or cancelled withdrawal is final.';
    END IF;

    PERFORM exchange._post_journal(
        'WITHDRAWAL', 'WITHDRAWAL', v_w.id,
        ARRAY[v_w.account_id,
              exchange._system_account('EXTERNAL', v_w.asset_id),
              exchange._system_account('FEE', v_w.asset_id)],
        ARRAY['FROZEN', 'AVAILABLE', 'AVAILABLE']::exchange.balance_bucket[],
        ARRAY[-(v_w.amount + v_w.fee), v_w.amount, v_w.fee]);

    UPDATE exchange.withdrawals w
       SET status = 'COMPLETED', external_ref = p_external_ref, finished_at = now(),
           version = w.version + 1
     WHERE w.id = v_w.id
    RETURNING w.* INTO v_w;
    PERFORM exchange._emit_event('withdrawal', v_w.id::text, 'withdrawal_completed',
        jsonb_build_object('withdrawal_id', v_w.id, 'user_id', v_w.user_id,
                           'asset', (SELECT a.symbol FROM exchange.assets a WHERE a.id = v_w.asset_id),
                           'amount', trim_scale(v_w.amount)::text, 'fee', trim_scale(v_w.fee)::text,
                           'external_ref', v_w.external_ref));
    RETURN v_w;
END;
$$;
COMMENT ON FUNCTION exchange.complete_withdrawal(bigint, text) IS
    'Pays out a PENDING withdrawal: frozen amount to EXTERNAL, fee to the withdrawal FEE account; status COMPLETED. Raises EX001, EX112, EX113, EX114.';
REVOKE ALL ON FUNCTION exchange.complete_withdrawal(bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.complete_withdrawal(bigint, text) TO exchange_custody;
