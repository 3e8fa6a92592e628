-- Revert pyexchange:audit_log from pg
BEGIN;
DROP TRIGGER tg_audit_logs__no_truncate ON exchange.audit_logs;
DROP TRIGGER tg_audit_logs__append_only ON exchange.audit_logs;
DROP TRIGGER tg_risk_rules__audit ON exchange.risk_rules;
DROP TRIGGER tg_trading_pairs__audit ON exchange.trading_pairs;
DROP TRIGGER tg_assets__audit ON exchange.assets;
DROP TRIGGER tg_auth_settings__audit ON exchange.auth_settings;
DROP TRIGGER tg_kyc_limits__audit ON exchange.kyc_limits;
DROP TRIGGER tg_kyc_verifications__audit ON exchange.kyc_verifications;
DROP TRIGGER tg_role_permissions__audit ON exchange.role_permissions;
DROP TRIGGER tg_user_roles__audit ON exchange.user_roles;
DROP TRIGGER tg_permissions__audit ON exchange.permissions;
DROP TRIGGER tg_roles__audit ON exchange.roles;
DROP TRIGGER tg_users__audit ON exchange.users;
DROP FUNCTION exchange.audit_trail(text, text, integer);
DROP FUNCTION exchange.tg_audit_logs__append_only();
DROP FUNCTION exchange.tg_audit__row();
COMMIT;
