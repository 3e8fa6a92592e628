-- exchange._write_risk_events(p_events jsonb, p_suspend_user_id bigint,
--                             p_acting_user_id bigint) RETURNS bigint[]
-- Internal, the far end of the loopback: runs in a transaction of its own, opened by
-- exchange._record_risk_events_autonomously over dblink for a call that is about to be
-- refused (REJECT, SUSPEND_USER), so that its risk events survive the refused call's
-- rollback. Records the events (exchange._insert_risk_events) and, when p_suspend_user_id is
-- given, suspends that user (ACTIVE -> SUSPENDED, audited with p_acting_user_id as the
-- acting user; a refusal of the suspension, e.g. the last admin, is written into the
-- events' details instead of failing the write). Returns the event ids.
-- SECURITY DEFINER, executable by exchange_risk_writer (the loopback's login role) only.
-- Raises: nothing of its own. Locks: the user's row when suspending.
CREATE OR REPLACE FUNCTION exchange._write_risk_events(
    p_events jsonb,
    p_suspend_user_id bigint,
    p_acting_user_id bigint
)
RETURNS bigint[]
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
DECLARE
    v_ids      bigint[];
    v_username text;
    v_problem  text;
BEGIN
    PERFORM set_config('exchange.acting_user_id', COALESCE(p_acting_user_id::text, ''), true);
    IF p_suspend_user_id IS NOT NULL THEN
        BEGIN
            UPDATE exchange.users SET status = 'SUSPENDED'
             WHERE id = p_suspend_user_id AND status = 'ACTIVE'
            RETURNING username INTO v_username;
            IF v_username IS NOT NULL THEN
                PERFORM exchange._emit_event('user', p_suspend_user_id::text, 'user_locked',
                    jsonb_build_object('user_id', p_suspend_user_id, 'username', v_username,
                                       'status', 'SUSPENDED', 'locked_until', NULL,
                                       'reason', 'risk rule'));
            END IF;
        EXCEPTION WHEN OTHERS THEN
            -- the rejection path only (never the hot path): keep the events, say why the
            -- suspension did not happen
            v_problem := format('%s (%s)', SQLERRM, SQLSTATE);
        END;
    END IF;
    IF v_problem IS NOT NULL THEN
        SELECT jsonb_agg(jsonb_set(e.value, '{details,suspend_failed}', to_jsonb(v_problem))
                         ORDER BY e.ord)
          INTO p_events
          FROM jsonb_array_elements(p_events) WITH ORDINALITY AS e(value, ord);
    END IF;
    v_ids := exchange._insert_risk_events(p_events);
    RETURN v_ids;
END;
$$;
COMMENT ON FUNCTION exchange._write_risk_events(jsonb, bigint, bigint) IS
    'Internal, the loopback''s far end (exchange_risk_writer only): records the risk events of a refused call in their own transaction and suspends the user for SUSPEND_USER.';
REVOKE ALL ON FUNCTION exchange._write_risk_events(jsonb, bigint, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange._write_risk_events(jsonb, bigint, bigint) TO exchange_risk_writer;
