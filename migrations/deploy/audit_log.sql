-- Deploy pyexchange:audit_log to pg
-- requires: identity assets orders risk partitions ledger
-- The audit log at work: row triggers that record every change to users, roles, permissions
-- and their assignments, KYC, assets, trading pairs, risk rules and withdrawals (secrets removed, with the
-- login role and the acting application user); the append-only guard; audit_trail().
BEGIN;

\ir ../../functions/security/tg_audit__row.sql
\ir ../../functions/security/tg_audit_logs__append_only.sql
\ir ../../functions/security/audit_trail.sql

-- The trigger arguments name the key columns of each table.
CREATE TRIGGER tg_users__audit AFTER INSERT OR UPDATE OR DELETE ON exchange.users
    FOR EACH ROW EXECUTE FUNCTION exchange.tg_audit__row('id');
CREATE TRIGGER tg_roles__audit AFTER INSERT OR UPDATE OR DELETE ON exchange.roles
    FOR EACH ROW EXECUTE FUNCTION exchange.tg_audit__row('id');
CREATE TRIGGER tg_permissions__audit AFTER INSERT OR UPDATE OR DELETE ON exchange.permissions
    FOR EACH ROW EXECUTE FUNCTION exchange.tg_audit__row('id');
CREATE TRIGGER tg_user_roles__audit AFTER INSERT OR UPDATE OR DELETE ON exchange.user_roles
    FOR EACH ROW EXECUTE FUNCTION exchange.tg_audit__row('user_id', 'role_id');
CREATE TRIGGER tg_role_permissions__audit AFTER INSERT OR UPDATE OR DELETE ON exchange.role_permissions
    FOR EACH ROW EXECUTE FUNCTION exchange.tg_audit__row('role_id', 'permission_id');
CREATE TRIGGER tg_kyc_verifications__audit AFTER INSERT OR UPDATE OR DELETE ON exchange.kyc_verifications
    FOR EACH ROW EXECUTE FUNCTION exchange.tg_audit__row('id');
CREATE TRIGGER tg_kyc_limits__audit AFTER INSERT OR UPDATE OR DELETE ON exchange.kyc_limits
    FOR EACH ROW EXECUTE FUNCTION exchange.tg_audit__row('id');
CREATE TRIGGER tg_auth_settings__audit AFTER INSERT OR UPDATE OR DELETE ON exchange.auth_settings
    FOR EACH ROW EXECUTE FUNCTION exchange.tg_audit__row('singleton');
CREATE TRIGGER tg_assets__audit AFTER INSERT OR UPDATE OR DELETE ON exchange.assets
    FOR EACH ROW EXECUTE FUNCTION exchange.tg_audit__row('id');
CREATE TRIGGER tg_trading_pairs__audit AFTER INSERT OR UPDATE OR DELETE ON exchange.trading_pairs
    FOR EACH ROW EXECUTE FUNCTION exchange.tg_audit__row('id');
CREATE TRIGGER tg_risk_rules__audit AFTER INSERT OR UPDATE OR DELETE ON exchange.risk_rules
    FOR EACH ROW EXECUTE FUNCTION exchange.tg_audit__row('id');
-- Withdrawals: requests, and the administrative completion or cancellation of each.
CREATE TRIGGER tg_withdrawals__audit AFTER INSERT OR UPDATE OR DELETE ON exchange.withdrawals
    FOR EACH ROW EXECUTE FUNCTION exchange.tg_audit__row('id');

-- Append-only, for every role including the owner (partitions inherit the row triggers).
CREATE TRIGGER tg_audit_logs__append_only BEFORE UPDATE OR DELETE ON exchange.audit_logs
    FOR EACH ROW EXECUTE FUNCTION exchange.tg_audit_logs__append_only();
CREATE TRIGGER tg_audit_logs__no_truncate BEFORE TRUNCATE ON exchange.audit_logs
    FOR EACH STATEMENT EXECUTE FUNCTION exchange.tg_audit_logs__append_only();

COMMIT;
