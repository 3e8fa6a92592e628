-- exchange.create_asset(p_symbol text, p_name text, p_type text, p_decimals integer,
--                       p_min_withdraw_amount numeric DEFAULT 0,
--                       p_withdraw_fee numeric DEFAULT 0) RETURNS exchange.assets
-- Creates an active asset and its system accounts: EXTERNAL (the counterpart of deposits and
-- withdrawals), the withdrawal FEE account (trading pair NULL) and REVENUE, so that every
-- later movement of the asset finds them. Returns the new row.
-- p_symbol: 2-20 characters A-Z, 0-9; p_type: CRYPTO or FIAT; p_decimals: 0..18;
-- p_min_withdraw_amount and p_withdraw_fee: >= 0, finite, no finer than p_decimals.
-- Access: asset:create for an acting user; without one, members of exchange_owner only.
-- Raises: EX320/EX321/EX303 (access, see docs/security.md), EX111 (invalid definition),
--         EX110 (the symbol exists).
-- Locks: the new asset row (a concurrent creation of the same symbol waits, then gets EX110).
CREATE OR REPLACE FUNCTION exchange.create_asset(
    p_symbol text,
    p_name text,
    p_type text,
    p_decimals integer,
    p_min_withdraw_amount numeric DEFAULT 0,
    p_withdraw_fee numeric DEFAULT 0
)
RETURNS exchange.assets
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
DECLARE
    v_asset exchange.assets;
    v_problem text;
BEGIN
    -- Access: an acting user (exchange.acting_user_id) needs asset:create; a session without
    -- one must belong to exchange_owner (a DBA or the migrations), never the app role alone.
    PERFORM exchange._require_admin('asset', 'create');

    v_problem := CASE
        WHEN p_symbol IS NULL OR p_symbol !~ '^[A-Z0-9]{2,20}$'
            THEN format('symbol %s must be 2 to 20 characters A-Z, 0-9', exchange._quote(p_symbol))
        WHEN p_name IS NULL OR p_name !~ '[^[:space:]]' OR length(p_name) > 100
            THEN 'name must be 1 to 100 characters, not only whitespace'
        WHEN p_type IS NULL OR p_type NOT IN ('CRYPTO', 'FIAT')
            THEN format('type %s must be CRYPTO or FIAT', exchange._quote(p_type))
        WHEN p_decimals IS NULL OR p_decimals NOT BETWEEN 0 AND 18
            THEN format('decimals %s must be between 0 and 18', p_decimals)
        WHEN NOT COALESCE(p_min_withdraw_amount >= 0 AND p_min_withdraw_amount < 1e18
                          AND round(p_min_withdraw_amount, p_decimals) = p_min_withdraw_amount, false)
            THEN format('minimum withdrawal %s must be >= 0, finite and have at most %s decimals',
                        p_min_withdraw_amount, p_decimals)
        WHEN NOT COALESCE(p_withdraw_fee >= 0 AND p_withdraw_fee < 1e18
                          AND round(p_withdraw_fee, p_decimals) = p_withdraw_fee, false)
            THEN format('withdrawal fee %s must be >= 0, finite and have at most %s decimals',
                        p_withdraw_fee, p_decimals)
    END;
    IF v_problem IS NOT NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX111',
            MESSAGE = 'invalid asset definition',
            DETAIL = v_problem,
            HINT = 'Symbol A-Z0-9 (2-20), type CRYPTO or FIAT, decimals 0-18, non-negative amounts within the decimals.';
    END IF;

    INSERT INTO exchange.assets AS a (symbol, name, type, decimals, min_withdraw_amount, withdraw_fee)
    VALUES (p_symbol, p_name, p_type::exchange.asset_type, p_decimals, p_min_withdraw_amount,
            p_withdraw_fee)
    ON CONFLICT (symbol) DO NOTHING
    RETURNING a.* INTO v_asset;
    IF v_asset.id IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX110',
            MESSAGE = format('asset %s already exists', p_symbol),
            DETAIL = 'exchange.assets holds an asset with this symbol.',
            HINT = 'Symbols are unique; deactivate_asset() retires an asset.';
    END IF;

    PERFORM exchange._system_account('EXTERNAL', v_asset.id);
    PERFORM exchange._system_account('FEE', v_asset.id);
    PERFORM exchange._system_account('REVENUE', v_asset.id);
    RETURN v_asset;
END;
$$;
COMMENT ON FUNCTION exchange.create_asset(text, text, text, integer, numeric, numeric) IS
    'Creates an active asset with its EXTERNAL, withdrawal FEE and REVENUE accounts; returns it. Raises EX111, EX110.';
REVOKE ALL ON FUNCTION exchange.create_asset(text, text, text, integer, numeric, numeric) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.create_asset(text, text, text, integer, numeric, numeric) TO exchange_app;
