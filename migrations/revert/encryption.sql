-- Revert pyexchange:encryption from pg
BEGIN;
DROP FUNCTION exchange.rewrap_data_key(integer, bytea, text, text);
DROP FUNCTION exchange.create_data_key(bytea, text);
DROP FUNCTION exchange.list_data_keys();
DELETE FROM exchange.role_permissions
 WHERE permission_id = (SELECT id FROM exchange.permissions WHERE name = 'encryption_key:manage');
DELETE FROM exchange.permissions WHERE name = 'encryption_key:manage';
DROP TABLE exchange.data_keys;
COMMIT;
