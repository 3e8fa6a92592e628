-- Application-level encryption (pyexchange.crypto): the wrapped data keys.

-- name: list_data_keys
SELECT id, wrapped_key, master_key_id FROM exchange.list_data_keys();

-- name: create_data_key
SELECT exchange.create_data_key(%(wrapped_key)s, %(master_key_id)s);

-- name: rewrap_data_key
SELECT exchange.rewrap_data_key(%(id)s, %(wrapped_key)s, %(master_key_id)s,
                                %(expected_master_key_id)s);
