-- Revert pyexchange:ledger_core from pg
BEGIN;
DROP FUNCTION exchange._post_journal(text, text, bigint, bigint[], exchange.balance_bucket[], numeric[]);
DROP FUNCTION exchange._post_pair(text, text, bigint, bigint, exchange.balance_bucket, bigint, exchange.balance_bucket, numeric, bigint);
DROP FUNCTION exchange._post_journals(text[], text[], bigint[], integer[], bigint[], exchange.balance_bucket[], numeric[], bigint[]);
DROP FUNCTION exchange._refuse_negative_balance(bigint, exchange.balance_bucket, numeric);
DROP FUNCTION exchange._system_account(exchange.account_kind, integer, integer);
DROP FUNCTION exchange._user_account(bigint, integer);
COMMIT;
