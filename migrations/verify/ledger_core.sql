-- Verify pyexchange:ledger_core on pg
BEGIN;
SELECT 'exchange._post_journal(text, text, bigint, bigint[], exchange.balance_bucket[], numeric[])'::regprocedure;
SELECT 'exchange._post_pair(text, text, bigint, bigint, exchange.balance_bucket, bigint, exchange.balance_bucket, numeric, bigint)'::regprocedure;
SELECT 'exchange._post_journals(text[], text[], bigint[], integer[], bigint[], exchange.balance_bucket[], numeric[], bigint[])'::regprocedure;
SELECT 'exchange._refuse_negative_balance(bigint, exchange.balance_bucket, numeric)'::regprocedure;
SELECT 'exchange._system_account(exchange.account_kind, integer, integer)'::regprocedure;
SELECT 'exchange._user_account(bigint, integer)'::regprocedure;
ROLLBACK;
