-- exchange._user_account(p_user_id bigint, p_asset_id integer) RETURNS bigint
-- Internal: the id of the user's account for the asset, created (empty) on first use.
-- Callers check that the user and asset exist and may hold funds.
-- Raises: nothing of its own (a foreign-key error for an unknown user or asset).
-- Locks: none (a concurrent first use is resolved by the unique index).
CREATE OR REPLACE FUNCTION exchange._user_account(p_user_id bigint, p_asset_id integer)
RETURNS bigint
LANGUAGE plpgsql
AS $$
DECLARE
    v_id bigint;
BEGIN
    SELECT id INTO v_id FROM exchange.accounts
     WHERE user_id = p_user_id AND asset_id = p_asset_id AND kind = 'USER';
    IF v_id IS NULL THEN
        INSERT INTO exchange.accounts (kind, user_id, asset_id)
        VALUES ('USER', p_user_id, p_asset_id)
        ON CONFLICT (user_id, asset_id) WHERE kind = 'USER' DO NOTHING
        RETURNING id INTO v_id;
        IF v_id IS NULL THEN
            SELECT id INTO v_id FROM exchange.accounts
             WHERE user_id = p_user_id AND asset_id = p_asset_id AND kind = 'USER';
        END IF;
    END IF;
    RETURN v_id;
END;
$$;
COMMENT ON FUNCTION exchange._user_account(bigint, integer) IS
    'Internal: the user''s account id for an asset, created on first use.';
REVOKE ALL ON FUNCTION exchange._user_account(bigint, integer) FROM PUBLIC;
