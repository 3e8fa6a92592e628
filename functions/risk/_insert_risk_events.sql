-- exchange._insert_risk_events(p_events jsonb) RETURNS bigint[]
-- Internal: records risk events in the caller's transaction and emits one outbox event
-- risk_event_raised per event. p_events is a JSON array of objects with the keys user_id,
-- rule_id, type, level, action, details, reference_type, reference_id, description (built
-- by the rule evaluators). Returns the new event ids in array order.
-- Used for FLAG and REVIEW hits (they commit with the call) and, through the loopback, by
-- exchange._write_risk_events for REJECT and SUSPEND_USER hits.
-- Raises: nothing of its own (EX501 from _emit_event would be a bug). Locks: none.
CREATE OR REPLACE FUNCTION exchange._insert_risk_events(p_events jsonb)
RETURNS bigint[]
LANGUAGE plpgsql
AS $$
DECLARE
    v_ids bigint[];
    v_e   record;
BEGIN
    WITH ins AS (
        INSERT INTO exchange.risk_events
            (user_id, rule_id, type, level, action, details, reference_type, reference_id)
        SELECT (e.value ->> 'user_id')::bigint, (e.value ->> 'rule_id')::integer,
               e.value ->> 'type', (e.value ->> 'level')::exchange.risk_level,
               e.value ->> 'action', e.value -> 'details',
               e.value ->> 'reference_type', (e.value ->> 'reference_id')::bigint
          FROM jsonb_array_elements(p_events) WITH ORDINALITY AS e(value, ord)
         ORDER BY e.ord
        RETURNING id
    )
    SELECT array_agg(ins.id ORDER BY ins.id) INTO v_ids FROM ins;

    FOR v_e IN
        SELECT r.id, r.user_id, r.rule_id, r.level, e.value ->> 'description' AS description
          FROM unnest(v_ids) WITH ORDINALITY AS i(id, ord)
          JOIN exchange.risk_events r ON r.id = i.id
          JOIN jsonb_array_elements(p_events) WITH ORDINALITY AS e(value, ord) ON e.ord = i.ord
         ORDER BY i.ord
    LOOP
        PERFORM exchange._emit_event('risk_event', v_e.id::text, 'risk_event_raised',
            jsonb_build_object('risk_event_id', v_e.id, 'user_id', v_e.user_id,
                               'rule_id', v_e.rule_id, 'risk_level', v_e.level,
                               'description', v_e.description));
    END LOOP;
    RETURN COALESCE(v_ids, '{}'::bigint[]);
END;
$$;
COMMENT ON FUNCTION exchange._insert_risk_events(jsonb) IS
    'Internal: records risk events (JSON array) in the caller''s transaction and emits risk_event_raised for each; returns their ids.';
REVOKE ALL ON FUNCTION exchange._insert_risk_events(jsonb) FROM PUBLIC;
