-- exchange.list_assets() RETURNS SETOF exchange.assets
-- Every asset, active or not, by symbol.
-- Raises: nothing. Locks: none.
CREATE OR REPLACE FUNCTION exchange.list_assets()
RETURNS SETOF exchange.assets
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
    SELECT a.* FROM exchange.assets a ORDER BY a.symbol;
$$;
COMMENT ON FUNCTION exchange.list_assets() IS 'Every asset, active or not, by symbol.';
REVOKE ALL ON FUNCTION exchange.list_assets() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.list_assets() TO exchange_app;
