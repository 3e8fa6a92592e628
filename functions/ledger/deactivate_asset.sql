-- exchange._set_asset_active(p_symbol text, p_active boolean) RETURNS exchange.assets
-- exchange.deactivate_asset(p_symbol text) RETURNS exchange.assets
-- exchange.activate_asset(p_symbol text) RETURNS exchange.assets
-- Retires an asset (is_active false): no new deposits, transfers, holds or orders; pending
-- withdrawals complete or cancel, new withdrawals and unfreezes are still allowed, so users
-- can take their funds out. activate_asset() reverses it. Both are idempotent and return
-- the asset's row; both are the internal _set_asset_active() with its guard.
-- Access: asset:update for an acting user; without one, members of exchange_owner only.
-- Raises: EX320/EX321/EX303 (access, see docs/security.md), EX103 (unknown asset).
-- Locks: the asset row.
CREATE OR REPLACE FUNCTION exchange._set_asset_active(p_symbol text, p_active boolean)
RETURNS exchange.assets
LANGUAGE plpgsql
AS $$
DECLARE
    v_asset exchange.assets;
BEGIN
    -- Access: an acting user (exchange.acting_user_id) needs asset:update; a session without
    -- one must belong to exchange_owner (a DBA or the migrations), never the app role alone.
    PERFORM exchange._require_admin('asset', 'update');
    UPDATE exchange.assets a SET is_active = p_active
     WHERE a.symbol = p_symbol
    RETURNING a.* INTO v_asset;
    IF v_asset.id IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX103',
            MESSAGE = format('unknown asset %s', exchange._quote(p_symbol)),
            DETAIL = 'exchange.assets has no asset with this symbol.',
            HINT = 'list_assets() shows the assets.';
    END IF;
    RETURN v_asset;
END;
$$;
COMMENT ON FUNCTION exchange._set_asset_active(text, boolean) IS
    'Internal: sets an asset''s is_active after the asset:update guard. Raises EX103 and the guard''s errors.';
REVOKE ALL ON FUNCTION exchange._set_asset_active(text, boolean) FROM PUBLIC;

CREATE OR REPLACE FUNCTION exchange.deactivate_asset(p_symbol text)
RETURNS exchange.assets
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
BEGIN
    RETURN exchange._set_asset_active(p_symbol, false);
END;
$$;
COMMENT ON FUNCTION exchange.deactivate_asset(text) IS
    'Retires an asset: no new deposits, transfers, holds or orders; withdrawals still allowed. Idempotent. Raises EX103.';
REVOKE ALL ON FUNCTION exchange.deactivate_asset(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.deactivate_asset(text) TO exchange_app;

CREATE OR REPLACE FUNCTION exchange.activate_asset(p_symbol text)
RETURNS exchange.assets
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
BEGIN
    RETURN exchange._set_asset_active(p_symbol, true);
END;
$$;
COMMENT ON FUNCTION exchange.activate_asset(text) IS
    'Re-activates a retired asset. Idempotent. Raises EX103.';
REVOKE ALL ON FUNCTION exchange.activate_asset(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.activate_asset(text) TO exchange_app;
