-- Deploy pyexchange:identity to pg
-- requires: auth audit
-- Identity and access: password hashing (pgcrypto in its own schema), the user profile view,
-- the seeded roles, permissions and KYC limits, and the identity API (users, login, RBAC,
-- KYC). See docs/security.md.
BEGIN;

-- pgcrypto lives in a schema of its own that only exchange_owner may use: the application
-- role cannot call crypt()/gen_salt() (or any pgcrypto function) directly.
CREATE SCHEMA exchange_crypto;
COMMENT ON SCHEMA exchange_crypto IS 'pgcrypto, used by exchange functions to hash passwords; not for applications';
CREATE EXTENSION pgcrypto SCHEMA exchange_crypto;
REVOKE ALL ON SCHEMA exchange_crypto FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA exchange_crypto FROM PUBLIC;
GRANT USAGE ON SCHEMA exchange_crypto TO exchange_owner;
GRANT EXECUTE ON FUNCTION exchange_crypto.crypt(text, text), exchange_crypto.gen_salt(text, integer)
    TO exchange_owner;

-- A user as the API returns it: everything but the password hash, with the role names.
CREATE VIEW exchange.user_profiles AS
SELECT u.id, u.uuid, u.username, u.email, u.first_name, u.last_name, u.phone, u.status,
       u.kyc_level, u.last_login_at, u.failed_login_attempts, u.locked_until, u.version,
       u.created_at, u.updated_at,
       ARRAY(SELECT r.name::text FROM exchange.user_roles ur
               JOIN exchange.roles r ON r.id = ur.role_id
              WHERE ur.user_id = u.id ORDER BY r.name) AS roles
  FROM exchange.users u;
COMMENT ON VIEW exchange.user_profiles IS 'Users without their password hash, with their role names.';

-- What exchange.authenticate returns (refusals are returned, not raised: see the function).
CREATE TYPE exchange.login_result AS (
    authenticated boolean,
    error_code    text,
    message       text,
    user_id       bigint,
    user_uuid     uuid,
    username      text,
    kyc_level     smallint,
    last_login_at timestamptz
);

-- Seed: the permissions (resource:action) that administrative functions check, the five
-- roles, and what each role may do. docs/security.md lists them with the functions that
-- check them.
INSERT INTO exchange.permissions (name, resource, action)
SELECT r || ':' || a, r, a
  FROM (VALUES
        ('user', 'read'), ('user', 'update'), ('user', 'activate'), ('user', 'suspend'),
        ('role', 'read'), ('role', 'grant'),
        ('kyc', 'read'), ('kyc', 'review'), ('kyc', 'limits'),
        ('asset', 'create'), ('asset', 'update'),
        ('trading_pair', 'create'), ('trading_pair', 'halt'),
        ('deposit', 'create'),
        ('withdrawal', 'read'), ('withdrawal', 'approve'),
        ('account', 'read'), ('account', 'hold'),
        ('order', 'read'), ('order', 'cancel_any'),
        ('risk_rule', 'manage'), ('risk_event', 'resolve'),
        ('settlement', 'run'), ('notification', 'manage'),
        ('audit', 'read'), ('report', 'read')) AS p(r, a);

INSERT INTO exchange.roles (name, description) VALUES
    ('admin', 'Everything, including granting roles and managing assets and pairs'),
    ('trader', 'A customer: acts on their own account only, which needs no permission (given at registration)'),
    ('risk_officer', 'Risk rules and events, halting pairs, suspending users, approving withdrawals'),
    ('auditor', 'Reads the audit log, users, KYC and reports; changes nothing'),
    ('support', 'Reads users and KYC, activates users, reviews KYC submissions');

INSERT INTO exchange.role_permissions (role_id, permission_id)
SELECT r.id, p.id
  FROM exchange.roles r
  JOIN exchange.permissions p ON
       r.name = 'admin'
    OR (r.name = 'risk_officer' AND p.name IN ('risk_rule:manage', 'risk_event:resolve',
                                               'trading_pair:halt', 'user:read', 'user:suspend',
                                               'withdrawal:read', 'withdrawal:approve',
                                               'account:read', 'order:read',
                                               'order:cancel_any', 'audit:read', 'report:read'))
    OR (r.name = 'auditor' AND p.name IN ('audit:read', 'user:read', 'kyc:read', 'role:read',
                                          'withdrawal:read', 'account:read', 'order:read',
                                          'report:read'))
    OR (r.name = 'support' AND p.name IN ('user:read', 'user:activate', 'kyc:read', 'kyc:review',
                                          'withdrawal:read', 'account:read', 'order:read'));

-- KYC limits: level 0 deposits only; level 1 trades and withdraws up to a daily amount per
-- asset; level 2 trades without limit and withdraws up to a higher daily amount. Amounts are
-- in units of each asset; set per-asset rows with exchange.set_kyc_limit.
INSERT INTO exchange.kyc_limits (level, action, asset_id, allowed, daily_limit) VALUES
    (0, 'DEPOSIT', NULL, true, NULL),
    (0, 'TRADE', NULL, false, NULL),
    (0, 'WITHDRAW', NULL, false, NULL),
    (1, 'DEPOSIT', NULL, true, NULL),
    (1, 'TRADE', NULL, true, 100000),
    (1, 'WITHDRAW', NULL, true, 10000),
    (2, 'DEPOSIT', NULL, true, NULL),
    (2, 'TRADE', NULL, true, NULL),
    (2, 'WITHDRAW', NULL, true, 1000000);

\ir ../../functions/identity/_acting_user_id.sql
\ir ../../functions/identity/_require_permission.sql
\ir ../../functions/identity/_require_admin.sql
\ir ../../functions/identity/_authorize_for_user.sql
\ir ../../functions/identity/_kyc_rule.sql
\ir ../../functions/identity/_check_kyc_limit.sql
\ir ../../functions/identity/_audit_action.sql
\ir ../../functions/identity/_check_password_length.sql
\ir ../../functions/identity/_hash_password.sql
\ir ../../functions/security/_check_ciphertext.sql
\ir ../../functions/identity/_validate_profile.sql
\ir ../../functions/identity/_guard_last_admin.sql
\ir ../../functions/identity/tg_users__check_status.sql
CREATE TRIGGER tg_users__check_status BEFORE UPDATE OF status ON exchange.users
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION exchange.tg_users__check_status();
\ir ../../functions/identity/register_user.sql
\ir ../../functions/identity/activate_user.sql
\ir ../../functions/identity/set_user_status.sql
\ir ../../functions/identity/authenticate.sql
\ir ../../functions/identity/update_user_profile.sql
\ir ../../functions/identity/change_password.sql
\ir ../../functions/identity/get_user.sql
\ir ../../functions/identity/grant_role.sql
\ir ../../functions/identity/has_permission.sql
\ir ../../functions/identity/bootstrap_admin.sql
\ir ../../functions/identity/submit_kyc.sql
\ir ../../functions/identity/approve_kyc.sql
\ir ../../functions/identity/list_kyc_verifications.sql
\ir ../../functions/identity/set_kyc_limit.sql

COMMIT;
