-- Revert pyexchange:auth from pg
BEGIN;
DROP TABLE exchange.kyc_verifications, exchange.user_roles, exchange.role_permissions,
    exchange.permissions, exchange.roles, exchange.users;
COMMIT;
