-- exchange.monitor_reconcile()
-- The ledger's invariants for monitoring: exchange.reconcile()'s discrepancies counted per
-- check (one row per check that found any; no row when the ledger is sound), without the
-- accounts and amounts themselves. Reads every ledger table in full: call it every few
-- minutes, not every second (pyexchange metrics caches it).
-- Raises: nothing. Locks: none (ACCESS SHARE).
-- Access: exchange_readonly and exchange_auditor (and superusers, members of exchange_owner);
--         not exchange_app (which may call reconcile() itself).
CREATE OR REPLACE FUNCTION exchange.monitor_reconcile()
RETURNS TABLE (check_name text, discrepancies bigint)
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
    SELECT r.check_name, count(*) FROM exchange.reconcile() r GROUP BY r.check_name ORDER BY 1;
$$;
COMMENT ON FUNCTION exchange.monitor_reconcile() IS
    'reconcile() discrepancies counted per check (no row when the ledger is sound).';
REVOKE ALL ON FUNCTION exchange.monitor_reconcile() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.monitor_reconcile() TO exchange_readonly, exchange_auditor;
