-- Verify pyexchange:encryption on pg
BEGIN;
SELECT 'exchange.list_data_keys()'::regprocedure;
SELECT 'exchange.create_data_key(bytea, text)'::regprocedure;
SELECT 'exchange.rewrap_data_key(integer, bytea, text, text)'::regprocedure;
SELECT id, wrapped_key, master_key_id FROM exchange.data_keys WHERE false;
SELECT 1/count(*) FROM exchange.permissions WHERE name = 'encryption_key:manage';
ROLLBACK;
