-- exchange.record_notification_failure(p_id bigint, p_error text, p_max_attempts integer DEFAULT 5,
--     p_base_delay interval DEFAULT '5 seconds', p_max_delay interval DEFAULT '1 hour')
-- RETURNS exchange.notification_status
-- For the notification worker, after a failed delivery: counts the attempt, records the
-- error, and either schedules a retry (base * 2^(attempts-1), capped) or, at p_max_attempts,
-- marks the notification FAILED. Returns the new status (NULL if it was not PENDING).
-- Raises: EX001 (p_max_attempts < 1). Locks: the row updated.
-- Access: exchange_worker (the notification worker) and DBA sessions; not exchange_app.
CREATE OR REPLACE FUNCTION exchange.record_notification_failure(
    p_id bigint,
    p_error text,
    p_max_attempts integer DEFAULT 5,
    p_base_delay interval DEFAULT '5 seconds',
    p_max_delay interval DEFAULT '1 hour'
)
RETURNS exchange.notification_status
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
DECLARE
    v_status exchange.notification_status;
BEGIN
    IF p_max_attempts IS NULL OR p_max_attempts < 1 THEN
        RAISE EXCEPTION USING ERRCODE = 'EX001', MESSAGE = 'invalid max attempts',
            DETAIL = format('p_max_attempts = %s', p_max_attempts), HINT = 'Use 1 or more.';
    END IF;
    UPDATE exchange.notifications n
       SET attempts = n.attempts + 1,
           last_error = left(p_error, 2000),
           status = CASE WHEN n.attempts + 1 >= p_max_attempts THEN 'FAILED'
                         ELSE 'PENDING' END::exchange.notification_status,
           next_attempt_at = now() + least(p_max_delay, p_base_delay * power(2, least(n.attempts, 30)))
     WHERE n.id = p_id AND n.status = 'PENDING'
    RETURNING n.status INTO v_status;
    RETURN v_status;
END
$$;
COMMENT ON FUNCTION exchange.record_notification_failure(bigint, text, integer, interval, interval) IS
    'Notification worker: records a failed delivery; retried with backoff, FAILED after p_max_attempts. Raises EX001.';
REVOKE ALL ON FUNCTION exchange.record_notification_failure(bigint, text, integer, interval, interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.record_notification_failure(bigint, text, integer, interval, interval) TO exchange_worker;
