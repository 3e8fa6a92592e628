-- Verify pyexchange:auth on pg
BEGIN;
SELECT id, uuid, username, email, password_hash, first_name, last_name, phone, status, kyc_level,
       last_login_at, failed_login_attempts, locked_until, version, created_at, updated_at
  FROM exchange.users WHERE false;
SELECT id, name, description FROM exchange.roles WHERE false;
SELECT id, name, resource, action FROM exchange.permissions WHERE false;
SELECT role_id, permission_id FROM exchange.role_permissions WHERE false;
SELECT user_id, role_id FROM exchange.user_roles WHERE false;
SELECT id, user_id, requested_level, status FROM exchange.kyc_verifications WHERE false;
SELECT id, level, action, asset_id, allowed, daily_limit FROM exchange.kyc_limits WHERE false;
SELECT user_id, day, action, asset_id, used FROM exchange.kyc_daily_usage WHERE false;
SELECT 1/count(*) FROM exchange.auth_settings;
ROLLBACK;
