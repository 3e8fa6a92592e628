-- exchange._refuse_movement(p_user_id bigint, p_asset text, p_asset_id integer,
--                           p_user_ok boolean, p_active boolean) RETURNS void
-- Internal: the refusals a one-user movement (deposit, withdraw, freeze, unfreeze) shares,
-- from what its lookup found, in the documented order: EX103 when the asset is unknown
-- (p_asset_id NULL), EX102 when the user is (p_user_ok not true), EX104 when the asset is
-- inactive (p_active false; NULL: the movement allows inactive assets). Returns normally
-- when none applies. Callers test the common case in one expression and call it only when
-- that fails.
-- Raises: EX103, EX102, EX104.
CREATE OR REPLACE FUNCTION exchange._refuse_movement(
    p_user_id bigint,
    p_asset text,
    p_asset_id integer,
    p_user_ok boolean,
    p_active boolean
)
RETURNS void
LANGUAGE plpgsql
STABLE
AS $$
BEGIN
    IF p_asset_id IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX103',
            MESSAGE = format('unknown asset %s', exchange._quote(p_asset)),
            DETAIL = 'exchange.assets has no asset with this symbol.',
            HINT = 'list_assets() shows the assets.';
    END IF;
    IF p_user_ok IS NOT TRUE THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX102',
            MESSAGE = format('unknown user %s', COALESCE(p_user_id::text, 'NULL')),
            DETAIL = 'exchange.users has no user with this id.',
            HINT = 'Register the user first.';
    END IF;
    IF NOT p_active THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX104',
            MESSAGE = format('asset %s is inactive', p_asset),
            DETAIL = 'An inactive asset takes no deposits, transfers, holds or orders.',
            HINT = 'activate_asset() re-activates it.';
    END IF;
END;
$$;
COMMENT ON FUNCTION exchange._refuse_movement(bigint, text, integer, boolean, boolean) IS
    'Internal: raises the asset/user refusals shared by deposit, withdraw, freeze and unfreeze (EX103, EX102, EX104), or returns.';
REVOKE ALL ON FUNCTION exchange._refuse_movement(bigint, text, integer, boolean, boolean) FROM PUBLIC;
