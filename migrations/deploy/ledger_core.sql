-- Deploy pyexchange:ledger_core to pg
-- requires: assets orders
-- The posting primitive every movement goes through, and account lookup/creation.
BEGIN;

\ir ../../functions/_user_account.sql
\ir ../../functions/_system_account.sql
\ir ../../functions/_refuse_negative_balance.sql
\ir ../../functions/_post_journals.sql
\ir ../../functions/_post_pair.sql
\ir ../../functions/_post_journal.sql

COMMIT;
