-- exchange.tg_counter_rules__barrier() RETURNS trigger
-- Trigger (BEFORE each statement that changes exchange.kyc_limits, exchange.risk_rules, or
-- exchange.users.kyc_level): takes pg_advisory_xact_lock(1604, 0) exclusively, so the change
-- waits for the order batches in flight and the batches after it wait for its commit. A
-- batch of exchange.place_orders holds the same lock shared from its start to its end and
-- locks only the users that, under the rules it sees, may write a per-user counter row (a
-- KYC level with a TRADE daily limit, an active ORDER_RATE rule); the barrier keeps that
-- choice true while the batch runs (docs/trading.md, "Why no deadlock is possible").
-- Who: fires for whoever changes these tables (admins through set_kyc_limit, approve_kyc,
-- create_risk_rule, or a DBA in SQL). Raises: nothing of its own.
-- Locks: pg_advisory_xact_lock(1604, 0), before the statement locks any row; a batch that
-- holds it shared never waits for rows of these tables, so the wait cannot close a cycle.
CREATE OR REPLACE FUNCTION exchange.tg_counter_rules__barrier()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(1604, 0);
    RETURN NULL;
END;
$$;
COMMENT ON FUNCTION exchange.tg_counter_rules__barrier() IS
    'Trigger: the counter rules (KYC TRADE limits, ORDER_RATE rules, users'' KYC levels) change only between order batches (lock 1604 exclusive).';
REVOKE ALL ON FUNCTION exchange.tg_counter_rules__barrier() FROM PUBLIC;
