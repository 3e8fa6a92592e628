-- exchange._apply_ownership_and_grants() RETURNS void
-- Internal, idempotent; the change `access`, which must stay last in the plan, runs it (a
-- change added after a release ends its deploy script with a call to it):
--  * exchange_owner owns the schema exchange and every object in it that is not part of an
--    extension: tables and partitions, views, sequences not tied to a column, types and
--    domains, functions (so SECURITY DEFINER functions run as exchange_owner, which is not a
--    superuser);
--  * exchange_app: USAGE on the schema and nothing on any table, view or sequence; EXECUTE
--    on API functions is granted by each function's own file, and taken away here from every
--    internal helper (exchange._*) and trigger function (exchange.tg_*), and from PUBLIC on
--    every function;
--  * exchange_custody and exchange_worker: the same (USAGE, EXECUTE on their functions only);
--  * exchange_readonly: SELECT on every view except user_profiles; exchange_auditor: SELECT
--    on every view and on audit_logs;
--  * nobody but exchange_owner may create in the schema, create temporary tables in this
--    database, or use pgcrypto (schema exchange_crypto).
-- Runs with the caller's rights: a superuser or a member of exchange_owner with CREATEROLE.
-- Raises: nothing of its own. Locks: ACCESS EXCLUSIVE briefly on objects whose owner changes.
CREATE OR REPLACE FUNCTION exchange._apply_ownership_and_grants()
RETURNS void
LANGUAGE plpgsql
SET search_path = exchange, pg_catalog, pg_temp
AS $$
DECLARE
    v_obj record;
BEGIN
    EXECUTE 'ALTER SCHEMA exchange OWNER TO exchange_owner';

    -- Relations (tables, partitions, views, materialized views, free-standing sequences).
    FOR v_obj IN
        SELECT c.oid::regclass::text AS name, c.relkind
          FROM pg_class c
         WHERE c.relnamespace = 'exchange'::regnamespace
           AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
           AND c.relowner <> 'exchange_owner'::regrole
           -- not extension members, nor sequences owned by a column (they follow their table)
           AND NOT EXISTS (SELECT 1 FROM pg_depend d
                            WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                              AND (d.deptype = 'e'
                                   OR (c.relkind = 'S' AND d.deptype IN ('a', 'i'))))
         ORDER BY c.relkind DESC, c.oid
    LOOP
        EXECUTE format('ALTER %s %s OWNER TO exchange_owner',
                       CASE v_obj.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                                          WHEN 'S' THEN 'SEQUENCE' WHEN 'f' THEN 'FOREIGN TABLE'
                                          ELSE 'TABLE' END,
                       v_obj.name);
    END LOOP;

    -- Free-standing types: enums, domains, composite types (not the row types of tables).
    FOR v_obj IN
        SELECT t.oid::regtype::text AS name, t.typtype
          FROM pg_type t
          LEFT JOIN pg_class c ON c.oid = t.typrelid
         WHERE t.typnamespace = 'exchange'::regnamespace
           AND t.typowner <> 'exchange_owner'::regrole
           AND (t.typtype IN ('e', 'd', 'r', 'm') OR (t.typtype = 'c' AND c.relkind = 'c'))
           AND NOT EXISTS (SELECT 1 FROM pg_depend d
                            WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid
                              AND d.deptype = 'e')
    LOOP
        EXECUTE format('ALTER %s %s OWNER TO exchange_owner',
                       CASE v_obj.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END, v_obj.name);
    END LOOP;

    -- Functions and procedures.
    FOR v_obj IN
        SELECT p.oid::regprocedure::text AS name, p.proname::text AS proname
          FROM pg_proc p
         WHERE p.pronamespace = 'exchange'::regnamespace
           AND NOT EXISTS (SELECT 1 FROM pg_depend d
                            WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                              AND d.deptype = 'e')
    LOOP
        EXECUTE format('ALTER ROUTINE %s OWNER TO exchange_owner', v_obj.name);
        EXECUTE format('REVOKE EXECUTE ON ROUTINE %s FROM PUBLIC', v_obj.name);
        IF v_obj.proname LIKE '\_%' OR v_obj.proname LIKE 'tg\_%' THEN
            EXECUTE format('REVOKE EXECUTE ON ROUTINE %s FROM exchange_app, exchange_readonly, '
                           'exchange_auditor, exchange_custody, exchange_worker', v_obj.name);
        END IF;
    END LOOP;

    -- Schema and database privileges.
    REVOKE ALL ON SCHEMA exchange FROM PUBLIC;
    GRANT USAGE ON SCHEMA exchange TO exchange_app, exchange_readonly, exchange_auditor,
        exchange_custody, exchange_worker;
    REVOKE CREATE ON SCHEMA exchange FROM exchange_app, exchange_readonly, exchange_auditor,
        exchange_custody, exchange_worker;
    REVOKE CREATE ON SCHEMA public FROM PUBLIC;
    EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
    EXECUTE format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO exchange_owner', current_database());
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO exchange_app, exchange_readonly, exchange_auditor, '
                   'exchange_custody, exchange_worker', current_database());
    REVOKE ALL ON SCHEMA exchange_crypto FROM PUBLIC;
    GRANT USAGE ON SCHEMA exchange_crypto TO exchange_owner;

    -- No table, view or sequence privilege for the application or PUBLIC.
    REVOKE ALL ON ALL TABLES IN SCHEMA exchange FROM PUBLIC, exchange_app, exchange_custody,
        exchange_worker;
    REVOKE ALL ON ALL SEQUENCES IN SCHEMA exchange FROM PUBLIC, exchange_app, exchange_custody,
        exchange_worker;
    REVOKE INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER
        ON ALL TABLES IN SCHEMA exchange FROM exchange_readonly, exchange_auditor;

    -- Reporting views.
    FOR v_obj IN
        SELECT c.oid::regclass::text AS name, c.relname::text AS relname
          FROM pg_class c
         WHERE c.relnamespace = 'exchange'::regnamespace AND c.relkind IN ('v', 'm')
    LOOP
        EXECUTE format('GRANT SELECT ON %s TO exchange_auditor', v_obj.name);
        IF v_obj.relname <> 'user_profiles' THEN
            EXECUTE format('GRANT SELECT ON %s TO exchange_readonly', v_obj.name);
        ELSE
            EXECUTE format('REVOKE SELECT ON %s FROM exchange_readonly', v_obj.name);
        END IF;
    END LOOP;
    GRANT SELECT ON exchange.audit_logs TO exchange_auditor;
END;
$$;
COMMENT ON FUNCTION exchange._apply_ownership_and_grants() IS
    'Internal, idempotent: exchange_owner owns everything in schema exchange; app gets schema USAGE only (EXECUTE per function file), readonly/auditor the views (auditor also audit_logs); internal and trigger functions not executable by the roles.';
REVOKE ALL ON FUNCTION exchange._apply_ownership_and_grants() FROM PUBLIC;
