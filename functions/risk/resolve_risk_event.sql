-- exchange.resolve_risk_event(p_event_id bigint, p_note text, p_dismiss boolean DEFAULT false)
--   RETURNS exchange.risk_events
-- Closes an ACTIVE risk event with a resolution note: RESOLVED (dealt with), or DISMISSED
-- (a false positive) when p_dismiss. The event of a withdrawal still held for REVIEW is
-- closed by approving or rejecting the withdrawal instead (approve_withdrawal /
-- reject_withdrawal). Permission risk_event:resolve; audited.
-- Raises: EX320/EX321 acting user; EX411 empty note; EX407 unknown event; EX408 already
--         closed; EX409 the event holds a withdrawal in REVIEW.
-- Locks: the event row.
CREATE OR REPLACE FUNCTION exchange.resolve_risk_event(
    p_event_id bigint,
    p_note text,
    p_dismiss boolean DEFAULT false
)
RETURNS exchange.risk_events
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
DECLARE
    v_actor  bigint;
    v_event  exchange.risk_events;
BEGIN
    v_actor := exchange._require_admin('risk_event', 'resolve');
    IF p_note IS NULL OR btrim(p_note) = '' THEN
        RAISE EXCEPTION USING ERRCODE = 'EX411',
            MESSAGE = 'a resolution note is required',
            DETAIL = 'The note is NULL, empty or only whitespace.',
            HINT = 'Say what was done, or why the event is a false positive.';
    END IF;
    PERFORM exchange._check_text(p_note, 'resolution note', 1000, 'EX411');
    SELECT e.* INTO v_event FROM exchange.risk_events e WHERE e.id = p_event_id FOR UPDATE;
    IF v_event.id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'EX407',
            MESSAGE = format('unknown risk event %s', COALESCE(p_event_id::text, 'NULL')),
            DETAIL = 'exchange.risk_events has no event with this id.',
            HINT = 'list_risk_events() shows the events.';
    END IF;
    IF v_event.status <> 'ACTIVE' THEN
        RAISE EXCEPTION USING ERRCODE = 'EX408',
            MESSAGE = format('risk event %s is already %s', v_event.id, v_event.status),
            DETAIL = format('resolved at %s by user %s: %s', v_event.resolved_at,
                            v_event.resolved_by, v_event.resolution_note),
            HINT = 'A closed event stays closed.';
    END IF;
    IF v_event.reference_type = 'WITHDRAWAL' AND EXISTS (
           SELECT 1 FROM exchange.withdrawals w
            WHERE w.id = v_event.reference_id AND w.status = 'REVIEW') THEN
        RAISE EXCEPTION USING ERRCODE = 'EX409',
            MESSAGE = format('risk event %s holds withdrawal %s under review', v_event.id,
                             v_event.reference_id),
            DETAIL = 'The event closes with the withdrawal''s review.',
            HINT = 'Approve or reject the withdrawal (approve_withdrawal / reject_withdrawal); that closes the event.';
    END IF;
    UPDATE exchange.risk_events e
       SET status = CASE WHEN COALESCE(p_dismiss, false) THEN 'DISMISSED' ELSE 'RESOLVED' END::exchange.risk_event_status,
           resolution_note = btrim(p_note), resolved_by = v_actor, resolved_at = now()
     WHERE e.id = v_event.id
    RETURNING e.* INTO v_event;
    PERFORM exchange._audit_action(
        CASE WHEN COALESCE(p_dismiss, false) THEN 'DISMISS_RISK_EVENT' ELSE 'RESOLVE_RISK_EVENT' END,
        'risk_events', v_event.id::text, jsonb_build_object('note', v_event.resolution_note));
    RETURN v_event;
END;
$$;
COMMENT ON FUNCTION exchange.resolve_risk_event(bigint, text, boolean) IS
    'Closes an ACTIVE risk event with a note: RESOLVED, or DISMISSED (risk_event:resolve). Raises EX320, EX321, EX407, EX408, EX409, EX411.';
REVOKE ALL ON FUNCTION exchange.resolve_risk_event(bigint, text, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.resolve_risk_event(bigint, text, boolean) TO exchange_app;

-- exchange.list_risk_events(p_user_id bigint DEFAULT NULL, p_level text DEFAULT NULL,
--     p_status text DEFAULT NULL, p_limit integer DEFAULT 100, p_before_id bigint DEFAULT NULL)
--   RETURNS SETOF exchange.risk_events
-- Risk events, newest first, filtered by user, level (LOW..CRITICAL) and status (ACTIVE,
-- RESOLVED, DISMISSED); NULL filters match all; p_before_id pages (ids below it).
-- Permission report:read.
-- Raises: EX320/EX321 acting user; EX411 unknown level or status, limit not 1..10000.
-- Locks: none.
CREATE OR REPLACE FUNCTION exchange.list_risk_events(
    p_user_id bigint DEFAULT NULL,
    p_level text DEFAULT NULL,
    p_status text DEFAULT NULL,
    p_limit integer DEFAULT 100,
    p_before_id bigint DEFAULT NULL
)
RETURNS SETOF exchange.risk_events
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM exchange._require_admin('report', 'read');
    IF (p_level IS NOT NULL AND p_level NOT IN ('LOW', 'MEDIUM', 'HIGH', 'CRITICAL'))
       OR (p_status IS NOT NULL AND p_status NOT IN ('ACTIVE', 'RESOLVED', 'DISMISSED'))
       OR p_limit IS NULL OR p_limit NOT BETWEEN 1 AND 10000 THEN
        RAISE EXCEPTION USING ERRCODE = 'EX411',
            MESSAGE = format('invalid risk event filter (level %s, status %s, limit %s)',
                             exchange._quote(p_level), exchange._quote(p_status), p_limit),
            DETAIL = 'An unknown level or status, or a limit outside 1..10000.',
            HINT = 'level LOW|MEDIUM|HIGH|CRITICAL, status ACTIVE|RESOLVED|DISMISSED, limit 1..10000.';
    END IF;
    RETURN QUERY
    SELECT e.* FROM exchange.risk_events e
     WHERE (p_user_id IS NULL OR e.user_id = p_user_id)
       AND (p_level IS NULL OR e.level = p_level::exchange.risk_level)
       AND (p_status IS NULL OR e.status = p_status::exchange.risk_event_status)
       AND (p_before_id IS NULL OR e.id < p_before_id)
     ORDER BY e.id DESC
     LIMIT p_limit;
END;
$$;
COMMENT ON FUNCTION exchange.list_risk_events(bigint, text, text, integer, bigint) IS
    'Risk events newest first, filtered by user, level and status (report:read). Raises EX320, EX321, EX411.';
REVOKE ALL ON FUNCTION exchange.list_risk_events(bigint, text, text, integer, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.list_risk_events(bigint, text, text, integer, bigint) TO exchange_app;
