-- Revert pyexchange:auth from pg
BEGIN;
DROP TABLE exchange.auth_settings, exchange.kyc_daily_usage, exchange.kyc_limits,
    exchange.kyc_verifications, exchange.user_roles, exchange.role_permissions,
    exchange.permissions, exchange.roles, exchange.users;
COMMIT;
