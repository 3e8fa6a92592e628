-- Verify pyexchange:schema on pg
BEGIN;
SELECT 1 / count(*) FROM pg_namespace WHERE nspname = 'exchange';
SELECT 'exchange.amount'::regtype, 'exchange.entry_amount'::regtype,
       'exchange.positive_amount'::regtype, 'exchange.nonnegative_amount'::regtype, 'exchange.order_status'::regtype;
SELECT 'exchange.tg_set_updated_at()'::regprocedure, 'exchange._quote(text, integer)'::regprocedure,
       'exchange._check_text(text, text, integer, text, boolean)'::regprocedure;
ROLLBACK;
