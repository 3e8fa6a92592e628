-- exchange._emit_event(p_aggregate_type text, p_aggregate_id text, p_event_type text,
--                      p_payload jsonb, p_correlation_id uuid DEFAULT NULL) RETURNS bigint
-- Internal: records one domain event in exchange.outbox_events inside the caller's
-- transaction (so the event exists if and only if the change that made it commits). The
-- table's statement trigger (exchange.tg_outbox_events__after_insert) then creates the
-- notifications it causes and wakes the relay with NOTIFY exchange_outbox (a constant
-- payload, so PostgreSQL collapses it to one notification per transaction). A function that
-- writes many events may insert them set-based into exchange.outbox_events instead: the
-- trigger does the same for every inserting statement.
-- Parameters: aggregate type and id (the thing that changed: 'order', '42'), the event type
-- (globally unique, lower snake_case: 'order_placed'; see docs/events.md), the payload, and
-- the correlation id; when NULL it is taken from the setting exchange.correlation_id (set by
-- the client per transaction), else NULL.
-- The caller must hold a lock on the aggregate (its row) while emitting: then the events of
-- one aggregate get ids in commit order, which is the order the relay publishes them in.
-- Returns the event id.
-- Raises: EX501 (aggregate or event type not a lower snake_case token: they become NATS
-- subject tokens), EX502 (exchange.correlation_id is set but not a UUID).
-- Locks: none beyond the inserted row.
CREATE OR REPLACE FUNCTION exchange._emit_event(
    p_aggregate_type text,
    p_aggregate_id text,
    p_event_type text,
    p_payload jsonb,
    p_correlation_id uuid DEFAULT NULL
)
RETURNS bigint
LANGUAGE plpgsql
AS $$
DECLARE
    v_id bigint;
    v_correlation uuid := p_correlation_id;
    v_setting text;
BEGIN
    IF p_aggregate_type !~ '^[a-z][a-z0-9_]{0,99}$' OR p_event_type !~ '^[a-z][a-z0-9_]{0,99}$'
       OR p_aggregate_id IS NULL OR p_aggregate_id = '' OR p_payload IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'EX501',
            MESSAGE = 'invalid event',
            DETAIL = format('aggregate_type=%s aggregate_id=%s event_type=%s payload null=%s',
                            exchange._quote(p_aggregate_type), exchange._quote(p_aggregate_id),
                            exchange._quote(p_event_type), p_payload IS NULL),
            HINT = 'Aggregate and event types are lower snake_case (they become NATS subject '
                   'tokens); the aggregate id and the payload are required.';
    END IF;
    IF v_correlation IS NULL THEN
        v_setting := nullif(current_setting('exchange.correlation_id', true), '');
        IF v_setting IS NOT NULL THEN
            IF v_setting !~* '^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$' THEN
                RAISE EXCEPTION USING ERRCODE = 'EX502',
                    MESSAGE = 'exchange.correlation_id is not a UUID',
                    DETAIL = format('exchange.correlation_id = %s', exchange._quote(v_setting)),
                    HINT = 'Set it with set_config(''exchange.correlation_id'', <uuid>, true).';
            END IF;
            v_correlation := v_setting::uuid;
        END IF;
    END IF;

    INSERT INTO exchange.outbox_events (aggregate_type, aggregate_id, event_type, event_data,
                                        correlation_id)
    VALUES (p_aggregate_type, p_aggregate_id, p_event_type, p_payload, v_correlation)
    RETURNING id INTO v_id;
    -- The statement trigger tg_outbox_events__after_insert wakes the relay, creates the
    -- notifications and announces market changes.
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION exchange._emit_event(text, text, text, jsonb, uuid) IS
    'Internal: records a domain event in the outbox in the caller''s transaction (its statement trigger creates notifications and wakes the relay). Raises EX501, EX502.';
REVOKE ALL ON FUNCTION exchange._emit_event(text, text, text, jsonb, uuid) FROM PUBLIC;
