-- exchange.create_login(p_name text, p_kind text, p_password text) RETURNS text
-- Creates a database login role that is a member of one group role by duty and returns the
-- group's name: p_kind app (exchange_app, the user-facing application), custody
-- (exchange_custody, the deposit watcher and withdrawal processor), worker (exchange_worker,
-- the outbox relay and notification worker), readonly, auditor, or owner (exchange_owner:
-- a DBA login; the DBA path of docs/security.md).
-- p_password should be a SCRAM-SHA-256 verifier ('SCRAM-SHA-256$...', as libpq's
-- PQencryptPasswordConn makes it: pyexchange db create-login sends one), so no clear password
-- reaches the server or its logs; a clear password is accepted and encrypted by the server.
-- Runs with the caller's rights (SECURITY INVOKER): the caller needs CREATEROLE and the right
-- to grant the group (a superuser, or an admin of the group roles). Not granted to any
-- application role.
-- Raises: EX350 bad kind or role name; PostgreSQL's 42710 if the role exists.
-- Locks: none of its own.
CREATE OR REPLACE FUNCTION exchange.create_login(p_name text, p_kind text, p_password text)
RETURNS text
LANGUAGE plpgsql
SET search_path = exchange, pg_catalog, pg_temp
AS $$
DECLARE
    v_group text;
BEGIN
    v_group := CASE p_kind WHEN 'app' THEN 'exchange_app'
                           WHEN 'custody' THEN 'exchange_custody'
                           WHEN 'worker' THEN 'exchange_worker'
                           WHEN 'readonly' THEN 'exchange_readonly'
                           WHEN 'auditor' THEN 'exchange_auditor'
                           WHEN 'owner' THEN 'exchange_owner' END;
    IF v_group IS NULL OR p_name IS NULL OR p_name !~ '^[a-z_][a-z0-9_]{0,62}$'
       OR p_name LIKE 'pg\_%' OR p_name LIKE 'exchange\_%' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX350',
            MESSAGE = 'invalid login role',
            DETAIL = 'the kind is app, custody, worker, readonly, auditor or owner; the name is lower-case letters, digits and _, not pg_* or exchange_*',
            HINT = 'e.g. pyexchange db create-login api_1 --role app';
    END IF;
    IF p_password IS NULL OR p_password = '' THEN
        EXECUTE format('CREATE ROLE %I LOGIN IN ROLE %I', p_name, v_group);
    ELSE
        EXECUTE format('CREATE ROLE %I LOGIN PASSWORD %L IN ROLE %I', p_name, p_password, v_group);
    END IF;
    RETURN v_group;
END;
$$;
COMMENT ON FUNCTION exchange.create_login(text, text, text) IS
    'Creates a login role in exchange_app, exchange_custody, exchange_worker, exchange_readonly, exchange_auditor or exchange_owner (caller''s rights; pass a SCRAM verifier). Raises EX350.';
REVOKE ALL ON FUNCTION exchange.create_login(text, text, text) FROM PUBLIC;
