-- Revert pyexchange:counter_rules_barrier from pg
BEGIN;
DROP TRIGGER tg_users__kyc_level_barrier ON exchange.users;
DROP TRIGGER tg_risk_rules__barrier ON exchange.risk_rules;
DROP TRIGGER tg_kyc_limits__barrier ON exchange.kyc_limits;
DROP FUNCTION exchange.tg_counter_rules__barrier();
COMMIT;
