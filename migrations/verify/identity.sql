-- Verify pyexchange:identity on pg
BEGIN;
SELECT 'exchange_crypto.crypt(text, text)'::regprocedure;
SELECT 'exchange._require_permission(text, text)'::regprocedure;
SELECT 'exchange._require_admin(text, text)'::regprocedure;
SELECT 'exchange._require_permission(bigint, text, text)'::regprocedure;
SELECT 'exchange._check_kyc_limit(bigint, text, integer, numeric)'::regprocedure;
SELECT 'exchange.register_user(text, text, text, text, text, text)'::regprocedure;
SELECT 'exchange.activate_user(bigint)'::regprocedure;
SELECT 'exchange.authenticate(text, text)'::regprocedure;
SELECT 'exchange.grant_role(bigint, text)'::regprocedure;
SELECT 'exchange.has_permission(bigint, text, text)'::regprocedure;
SELECT 'exchange.submit_kyc(bigint, integer, jsonb)'::regprocedure;
SELECT 'exchange.approve_kyc(bigint, bigint, text)'::regprocedure;
SELECT 'exchange.reject_kyc(bigint, bigint, text)'::regprocedure;
SELECT 'exchange.bootstrap_admin(text, text, text)'::regprocedure;
SELECT 1/count(*) FROM exchange.roles WHERE name = 'admin';
SELECT id, username, roles FROM exchange.user_profiles WHERE false;
ROLLBACK;
