-- exchange._record_risk_events_autonomously(p_events jsonb, p_suspend_user_id bigint)
--   RETURNS text
-- Internal: makes the risk events of a call that is about to be refused outlive its
-- rollback. It writes them through a loopback connection (dblink, role
-- exchange_risk_writer) in a transaction of their own, which commits at once, by calling
-- exchange._write_risk_events there (which also suspends p_suspend_user_id, if given).
-- The connection is opened on the first refusal of a session, named exchange_risk, and
-- kept for the next ones (it closes with the session); a broken one is reopened once.
-- Conninfo: exchange.risk_settings.loopback_conninfo, or by default host
-- risk_settings.loopback_host (the server's unix socket directory, recorded at migration;
-- else the address the caller connected to, else localhost), this server's port, user
-- exchange_risk_writer with risk_settings.loopback_password, with lock_timeout 5s and statement_timeout 15s (the far end must
-- never wait forever for a lock the refused call holds).
-- Only the refusal path comes here: the cost (a connection the first time, then one round
-- trip and one commit) is paid by refused calls only.
-- Returns a short text for the refusal's DETAIL: 'risk events 12, 13 recorded', or why they
-- could not be (then the events are in that text too, and a WARNING is logged): the caller
-- raises its typed error either way.
-- Raises: nothing. Locks: none here (the far end: see _write_risk_events).
CREATE OR REPLACE FUNCTION exchange._record_risk_events_autonomously(
    p_events jsonb,
    p_suspend_user_id bigint
)
RETURNS text
LANGUAGE plpgsql
AS $$
DECLARE
    v_conninfo text;
    v_host     text;
    v_password text;
    v_sql      text;
    v_ids      bigint[];
    v_error    text;
BEGIN
    v_sql := format('SELECT exchange._write_risk_events(%L::jsonb, %s, %s)', p_events::text,
                    COALESCE(p_suspend_user_id::text, 'NULL'),
                    COALESCE(exchange._acting_user_id()::text, 'NULL'));
    FOR v_attempt IN 1 .. 2 LOOP
        v_error := NULL;
        IF v_attempt = 2 OR NOT COALESCE('exchange_risk' = ANY (exchange_dblink.dblink_get_connections()), false) THEN
            IF COALESCE('exchange_risk' = ANY (exchange_dblink.dblink_get_connections()), false) THEN
                PERFORM exchange_dblink.dblink_disconnect('exchange_risk');
            END IF;
            SELECT s.loopback_conninfo, s.loopback_host, s.loopback_password
              INTO v_conninfo, v_host, v_password
              FROM exchange.risk_settings s;
            IF v_conninfo IS NULL THEN
                v_conninfo := format(
                    'host=%s port=%s dbname=%s user=exchange_risk_writer password=%s application_name=exchange_risk_loopback connect_timeout=5 options=%s',
                    exchange._conninfo_quote(COALESCE(v_host, host(inet_server_addr()), 'localhost')),
                    current_setting('port'),
                    exchange._conninfo_quote(current_database()),
                    exchange._conninfo_quote(COALESCE(v_password, '')),
                    exchange._conninfo_quote('-c lock_timeout=5s -c statement_timeout=15s'));
            END IF;
            BEGIN
                PERFORM exchange_dblink.dblink_connect_u('exchange_risk', v_conninfo);
            EXCEPTION WHEN OTHERS THEN
                v_error := format('loopback connection failed: %s', SQLERRM);
            END;
        END IF;
        IF v_error IS NULL THEN
            SELECT r.ids INTO v_ids
              FROM exchange_dblink.dblink('exchange_risk', v_sql, false) AS r(ids bigint[]);
            IF v_ids IS NOT NULL THEN
                RETURN format('risk events %s recorded', array_to_string(v_ids, ', '));
            END IF;
            v_error := format('loopback write failed: %s',
                              COALESCE(exchange_dblink.dblink_error_message('exchange_risk'), 'no result'));
        END IF;
    END LOOP;
    RAISE WARNING 'risk events of a refused call could not be recorded: % -- events: %', v_error, p_events;
    RETURN format('risk events NOT recorded (%s): %s', v_error, p_events::text);
END;
$$;
COMMENT ON FUNCTION exchange._record_risk_events_autonomously(jsonb, bigint) IS
    'Internal: writes the risk events of a call about to be refused through a dblink loopback (own transaction, survives the rollback); returns a text for the refusal''s detail.';
REVOKE ALL ON FUNCTION exchange._record_risk_events_autonomously(jsonb, bigint) FROM PUBLIC;

-- exchange._conninfo_quote(p_value text) RETURNS text
-- Internal: a libpq conninfo value in single quotes (backslash and quote escaped).
CREATE OR REPLACE FUNCTION exchange._conninfo_quote(p_value text)
RETURNS text
LANGUAGE sql
IMMUTABLE
AS $$
    SELECT '''' || replace(replace(p_value, '\', '\\'), '''', '\''') || '''';
$$;
COMMENT ON FUNCTION exchange._conninfo_quote(text) IS
    'Internal: quotes a libpq conninfo value.';
REVOKE ALL ON FUNCTION exchange._conninfo_quote(text) FROM PUBLIC;
