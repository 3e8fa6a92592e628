-- exchange.mark_notifications_sent(p_ids bigint[]) RETURNS integer
-- For the notification worker, after delivery: marks the notifications SENT (attempts counts
-- this attempt). Returns the number marked. Raises: nothing. Locks: the rows updated.
-- Access: exchange_worker (the notification worker) and DBA sessions; not exchange_app.
CREATE OR REPLACE FUNCTION exchange.mark_notifications_sent(p_ids bigint[])
RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
DECLARE
    v_count integer;
BEGIN
    UPDATE exchange.notifications
       SET status = 'SENT', sent_at = now(), attempts = attempts + 1, last_error = NULL
     WHERE id = ANY (p_ids) AND status = 'PENDING';
    GET DIAGNOSTICS v_count = ROW_COUNT;
    RETURN v_count;
END
$$;
COMMENT ON FUNCTION exchange.mark_notifications_sent(bigint[]) IS
    'Notification worker: marks delivered notifications SENT.';
REVOKE ALL ON FUNCTION exchange.mark_notifications_sent(bigint[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.mark_notifications_sent(bigint[]) TO exchange_worker;
