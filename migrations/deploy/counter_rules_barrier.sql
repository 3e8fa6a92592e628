-- Deploy pyexchange:counter_rules_barrier to pg
-- requires: trading risk_engine identity submit_order
-- A batch of place_orders locks (1603) only the users that may write a per-user counter row;
-- the rules deciding that (KYC TRADE daily limits, ORDER_RATE rules, users' KYC levels) change
-- only between batches: their writers take lock 1604 exclusively, batches hold it shared.
BEGIN;

\ir ../../functions/trading/tg_counter_rules__barrier.sql

CREATE TRIGGER tg_kyc_limits__barrier
    BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON exchange.kyc_limits
    FOR EACH STATEMENT EXECUTE FUNCTION exchange.tg_counter_rules__barrier();
CREATE TRIGGER tg_risk_rules__barrier
    BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON exchange.risk_rules
    FOR EACH STATEMENT EXECUTE FUNCTION exchange.tg_counter_rules__barrier();
CREATE TRIGGER tg_users__kyc_level_barrier
    BEFORE UPDATE OF kyc_level ON exchange.users
    FOR EACH STATEMENT EXECUTE FUNCTION exchange.tg_counter_rules__barrier();

COMMIT;
