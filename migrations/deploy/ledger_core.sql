-- Deploy pyexchange:ledger_core to pg
-- requires: assets orders
-- The posting primitive every movement goes through, and account lookup/creation.
BEGIN;

\ir ../../functions/ledger/_user_account.sql
\ir ../../functions/ledger/_system_account.sql
\ir ../../functions/ledger/_refuse_negative_balance.sql
\ir ../../functions/ledger/_post_journals.sql
\ir ../../functions/ledger/_post_pair.sql
\ir ../../functions/ledger/_post_journal.sql

COMMIT;
