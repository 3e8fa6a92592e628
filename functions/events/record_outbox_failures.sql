-- exchange.record_outbox_failures(p_ids bigint[], p_error text, p_max_attempts integer DEFAULT 10,
--     p_base_delay interval DEFAULT '1 second', p_max_delay interval DEFAULT '5 minutes')
-- RETURNS TABLE (id bigint, aggregate_type, aggregate_id, event_type, attempts, status, next_attempt_at)
-- For the relay, after a failed publish: counts the attempt and records the error. An event
-- that reached p_max_attempts becomes FAILED (dead: the relay reports it; later events of its
-- aggregate go on); the others stay PENDING and are retried after an exponential backoff,
-- base * 2^(attempts-1) capped at p_max_delay. Returns the updated rows.
-- Raises: EX001 (p_max_attempts < 1, a delay NULL, negative or over 30 days). The error is
-- stored cut to 2000 characters. Locks: the rows updated.
-- Access: exchange_worker (the outbox relay) and DBA sessions; not exchange_app.
CREATE OR REPLACE FUNCTION exchange.record_outbox_failures(
    p_ids bigint[],
    p_error text,
    p_max_attempts integer DEFAULT 10,
    p_base_delay interval DEFAULT '1 second',
    p_max_delay interval DEFAULT '5 minutes'
)
RETURNS TABLE (id bigint, aggregate_type text, aggregate_id text, event_type text,
               attempts integer, status exchange.outbox_status, next_attempt_at timestamptz,
               last_error text)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
BEGIN
    IF p_max_attempts IS NULL OR p_max_attempts < 1 THEN
        RAISE EXCEPTION USING ERRCODE = 'EX001', MESSAGE = 'invalid max attempts',
            DETAIL = format('p_max_attempts = %s', p_max_attempts), HINT = 'Use 1 or more.';
    END IF;
    IF NOT (p_base_delay >= interval '0' AND p_base_delay <= interval '30 days'
            AND p_max_delay >= interval '0' AND p_max_delay <= interval '30 days') THEN
        RAISE EXCEPTION USING ERRCODE = 'EX001', MESSAGE = 'invalid retry delay',
            DETAIL = format('p_base_delay = %s, p_max_delay = %s', p_base_delay, p_max_delay),
            HINT = 'Give delays from 0 to 30 days.';
    END IF;
    RETURN QUERY
    UPDATE exchange.outbox_events e
       SET attempts = e.attempts + 1,
           last_error = left(p_error, 2000),
           status = CASE WHEN e.attempts + 1 >= p_max_attempts THEN 'FAILED'
                         ELSE 'PENDING' END::exchange.outbox_status,
           -- In seconds: base * 2^attempts as an interval could overflow its fields.
           next_attempt_at = now() + least(extract(epoch FROM p_max_delay),
                                           extract(epoch FROM p_base_delay)
                                           * (2::numeric ^ least(e.attempts, 30)))::float8
                                     * interval '1 second'
     WHERE e.id = ANY (p_ids) AND e.status <> 'PUBLISHED' AND e.status <> 'FAILED'  -- PENDING, by primary key
    RETURNING e.id, e.aggregate_type::text, e.aggregate_id::text, e.event_type::text,
              e.attempts, e.status, e.next_attempt_at, e.last_error;
END
$$;
COMMENT ON FUNCTION exchange.record_outbox_failures(bigint[], text, integer, interval, interval) IS
    'Relay: records a failed publish; retried with exponential backoff, FAILED after p_max_attempts. Raises EX001.';
REVOKE ALL ON FUNCTION exchange.record_outbox_failures(bigint[], text, integer, interval, interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.record_outbox_failures(bigint[], text, integer, interval, interval) TO exchange_worker;
