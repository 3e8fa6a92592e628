-- Deploy pyexchange:risk_engine to pg
-- requires: risk clearing trading ledger identity events
-- The risk engine and clearing: rule management, the evaluators place_orders and withdraw
-- call, the loopback that keeps the risk events of refused calls, the review of held
-- withdrawals, risk events, end-of-day clearing and its reports (docs/risk.md).
-- Needs a superuser: dblink is not a trusted extension.
BEGIN;

-- dblink lives in a schema of its own that only exchange_owner may use; exchange_owner (not
-- a superuser) may open connections with dblink_connect_u, which the loopback needs when
-- pg_hba trusts local connections (dblink_connect would refuse a connection that asked for
-- no password). The loopback logs in as exchange_risk_writer, a role that may do one thing:
-- execute exchange._write_risk_events, and only with its password.
CREATE SCHEMA exchange_dblink;
COMMENT ON SCHEMA exchange_dblink IS 'dblink, used by the risk engine''s loopback (exchange._record_risk_events_autonomously); not for applications';
CREATE EXTENSION dblink SCHEMA exchange_dblink;
REVOKE ALL ON SCHEMA exchange_dblink FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA exchange_dblink FROM PUBLIC;
GRANT USAGE ON SCHEMA exchange_dblink TO exchange_owner;
GRANT EXECUTE ON FUNCTION exchange_dblink.dblink_connect_u(text, text),
    exchange_dblink.dblink_get_connections(), exchange_dblink.dblink_disconnect(text),
    exchange_dblink.dblink(text, text, boolean), exchange_dblink.dblink_error_message(text)
    TO exchange_owner;

-- The loopback's credential (docs/security.md, "no login without a credential").
-- Roles are cluster-wide and every exchange database of the cluster logs its loopback in as
-- the same exchange_risk_writer, so they must share its password, and no database can read
-- another's tables. The cluster-wide secret is the stored password verifier of the NOLOGIN
-- role exchange_risk_key (made once per cluster from 244 random bits; pg_authid, readable by
-- superusers only); each migration derives the loopback password from it (SHA-256), gives it
-- to exchange_risk_writer and keeps it in exchange.risk_settings.loopback_password (owner
-- only). Migrating a second database thus gives the role the same password, and the first
-- database's loopback keeps working. Created once, kept on revert, like the other roles.
-- Executed dynamically so that no statement log shows the password. Migrations of several
-- databases may run at once (role rows are shared): a concurrent creation of the key is taken
-- as it is, and an ALTER ROLE that meets a concurrent one ('tuple concurrently updated', once
-- the other has committed) is tried again.
DO $$
DECLARE
    v_key    text;
    v_secret text;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'exchange_risk_key') THEN
        BEGIN
            EXECUTE format('CREATE ROLE exchange_risk_key NOLOGIN PASSWORD %L',
                           gen_random_uuid()::text || gen_random_uuid()::text);
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;  -- made by a concurrent migration
        END;
    END IF;
    SELECT a.rolpassword INTO v_key FROM pg_authid a WHERE a.rolname = 'exchange_risk_key';
    IF v_key IS NULL THEN
        EXECUTE format('ALTER ROLE exchange_risk_key NOLOGIN PASSWORD %L',
                       gen_random_uuid()::text || gen_random_uuid()::text);
        SELECT a.rolpassword INTO v_key FROM pg_authid a WHERE a.rolname = 'exchange_risk_key';
    END IF;
    v_secret := encode(sha256(convert_to('pyexchange risk loopback|' || v_key, 'UTF8')), 'hex');
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'exchange_risk_writer') THEN
        BEGIN
            CREATE ROLE exchange_risk_writer LOGIN NOINHERIT;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;
        END;
    END IF;
    FOR v_try IN 1 .. 20 LOOP
        BEGIN
            EXECUTE format('ALTER ROLE exchange_risk_writer LOGIN NOINHERIT PASSWORD %L', v_secret);
            EXIT;
        EXCEPTION WHEN internal_error THEN  -- tuple concurrently updated
            IF v_try = 20 THEN
                RAISE;
            END IF;
            PERFORM pg_sleep(0.02 * v_try);
        END;
    END LOOP;
    UPDATE exchange.risk_settings SET loopback_password = v_secret;
END
$$;
GRANT USAGE ON SCHEMA exchange TO exchange_risk_writer;
-- The loopback's host: this server's first unix socket directory, read here because only
-- superusers may read unix_socket_directories (NULL: the address the caller connected to).
UPDATE exchange.risk_settings
   SET loopback_host = NULLIF(btrim(split_part(current_setting('unix_socket_directories'), ',', 1)), '');

\ir ../../functions/risk/_insert_risk_events.sql
\ir ../../functions/risk/_write_risk_events.sql
\ir ../../functions/risk/_record_risk_events_autonomously.sql
\ir ../../functions/risk/_load_order_risk.sql
\ir ../../functions/risk/tg_risk_rules__refresh_order_limits.sql
CREATE TRIGGER tg_risk_rules__refresh_order_limits
    AFTER INSERT OR UPDATE OR DELETE ON exchange.risk_rules
    FOR EACH STATEMENT EXECUTE FUNCTION exchange.tg_risk_rules__refresh_order_limits();
CREATE TRIGGER tg_trading_pairs__refresh_order_limits AFTER INSERT ON exchange.trading_pairs
    FOR EACH STATEMENT EXECUTE FUNCTION exchange.tg_risk_rules__refresh_order_limits();
\ir ../../functions/risk/_check_order_risk.sql
\ir ../../functions/risk/_check_withdrawal_risk.sql
\ir ../../functions/risk/create_risk_rule.sql
\ir ../../functions/risk/resolve_risk_event.sql
\ir ../../functions/risk/approve_withdrawal.sql
\ir ../../functions/risk/run_clearing.sql
\ir ../../functions/risk/settlement_report.sql

COMMIT;
