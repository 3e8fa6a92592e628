-- exchange.register_listener(p_channel text) RETURNS void
-- exchange.unregister_listener(p_channel text) RETURNS void
-- A session says it is waiting for NOTIFYs on p_channel (and LISTENs on it itself), or no
-- longer. The outbox trigger notifies only channels with a registered session, so that
-- transactions nobody waits for do not pay for NOTIFY (which serializes the commits of all
-- notifying transactions). Channels: exchange_outbox (relays), exchange_notifications
-- (notification workers), exchange_market_<SYMBOL> (market watchers). Registering also
-- sweeps the rows of sessions that have ended.
-- Raises: EX001 (not one of those channels). Locks: the registration row.
CREATE OR REPLACE FUNCTION exchange.register_listener(p_channel text)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
BEGIN
    IF p_channel IS NULL OR p_channel !~ '^exchange_(outbox|notifications|market_[A-Z0-9]{2,9}-[A-Z0-9]{2,9})$' THEN
        RAISE EXCEPTION USING ERRCODE = 'EX001', MESSAGE = 'not a listener channel',
            DETAIL = format('channel %s', exchange._quote(p_channel)),
            HINT = 'exchange_outbox, exchange_notifications or exchange_market_<SYMBOL>.';
    END IF;
    DELETE FROM exchange.event_listeners l
     WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_stat_activity a WHERE a.pid = l.pid);
    INSERT INTO exchange.event_listeners (channel, pid) VALUES (p_channel, pg_backend_pid())
    ON CONFLICT ON CONSTRAINT event_listeners_pkey DO NOTHING;
END
$$;
COMMENT ON FUNCTION exchange.register_listener(text) IS
    'This session waits for NOTIFY on the channel (the outbox trigger notifies only registered channels). Raises EX001.';
REVOKE ALL ON FUNCTION exchange.register_listener(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.register_listener(text) TO exchange_app, exchange_worker;

CREATE OR REPLACE FUNCTION exchange.unregister_listener(p_channel text)
RETURNS void
LANGUAGE sql
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
    DELETE FROM exchange.event_listeners WHERE channel = p_channel AND pid = pg_backend_pid();
$$;
COMMENT ON FUNCTION exchange.unregister_listener(text) IS
    'This session no longer waits for NOTIFY on the channel.';
REVOKE ALL ON FUNCTION exchange.unregister_listener(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.unregister_listener(text) TO exchange_app, exchange_worker;
