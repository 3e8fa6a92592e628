-- Deploy pyexchange:access to pg
-- requires: identity audit_log
-- Least-privilege database roles: exchange_owner owns everything in schema exchange, the
-- application role reaches API functions only, readonly and auditor the views (and the
-- auditor the audit log). See docs/security.md.
-- KEEP THIS CHANGE LAST IN THE PLAN: _apply_ownership_and_grants() is idempotent and must run
-- after every change that creates objects. Insert new changes before this one (unreleased
-- plan), or, once released, end a later change's deploy script with
--     SELECT exchange._apply_ownership_and_grants();
BEGIN;

\ir ../../functions/security/create_login.sql
\ir ../../functions/security/_apply_ownership_and_grants.sql

SELECT exchange._apply_ownership_and_grants();

COMMIT;
