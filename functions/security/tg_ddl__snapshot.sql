-- exchange.tg_ddl__snapshot() RETURNS event_trigger
-- Event trigger exchange_ddl_audit_start (ddl_command_start, tag ALTER TABLE): remembers, for
-- this transaction (setting exchange.ddl_partitions), which partitions each partitioned table
-- of schema exchange has, so that exchange.tg_ddl__audit can tell an ATTACH PARTITION from a
-- DETACH PARTITION (PostgreSQL reports both only as ALTER TABLE of the parent).
-- Access: event trigger function (no grant); runs as the role running the DDL.
-- Raises: nothing. Locks: none (reads the catalog).
CREATE OR REPLACE FUNCTION exchange.tg_ddl__snapshot()
RETURNS event_trigger
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM pg_catalog.set_config('exchange.ddl_partitions', coalesce((
        SELECT pg_catalog.jsonb_agg(format('%I.%I', pn.nspname, p.relname) || ' ' ||
                                    format('%I.%I', cn.nspname, c.relname))::text
          FROM pg_catalog.pg_inherits i
          JOIN pg_catalog.pg_class p ON p.oid = i.inhparent AND p.relkind = 'p'
          JOIN pg_catalog.pg_namespace pn ON pn.oid = p.relnamespace AND pn.nspname = 'exchange'
          JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
          JOIN pg_catalog.pg_namespace cn ON cn.oid = c.relnamespace), '[]'), true);
END;
$$;
COMMENT ON FUNCTION exchange.tg_ddl__snapshot() IS
    'Event trigger (ddl_command_start, ALTER TABLE): remembers the partitions of the exchange tables so the DDL audit can tell ATTACH from DETACH.';
REVOKE ALL ON FUNCTION exchange.tg_ddl__snapshot() FROM PUBLIC;
