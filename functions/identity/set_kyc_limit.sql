-- exchange.set_kyc_limit(p_level integer, p_action text, p_asset_id integer, p_allowed boolean,
--                        p_daily_limit numeric DEFAULT NULL) RETURNS exchange.kyc_limits
-- Sets what a KYC level may do for an action (DEPOSIT, TRADE, WITHDRAW): for one asset, or
-- for every asset without a row of its own (p_asset_id NULL). p_daily_limit NULL means
-- unlimited. Permission kyc:limits.
-- Raises: EX320/EX321 acting user; EX001 bad level, action, asset or limit.
-- Locks: the limit row.
CREATE OR REPLACE FUNCTION exchange.set_kyc_limit(
    p_level integer, p_action text, p_asset_id integer, p_allowed boolean,
    p_daily_limit numeric DEFAULT NULL)
RETURNS exchange.kyc_limits
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
DECLARE
    v_result exchange.kyc_limits;
BEGIN
    PERFORM exchange._require_admin('kyc', 'limits');
    IF p_level IS NULL OR p_level NOT BETWEEN 0 AND 2 OR p_allowed IS NULL
       OR p_action IS NULL OR p_action NOT IN ('DEPOSIT', 'TRADE', 'WITHDRAW')
       OR (p_daily_limit IS NOT NULL AND NOT (p_daily_limit >= 0 AND p_daily_limit < 1e18
                                               AND round(p_daily_limit, 18) = p_daily_limit))
       OR (p_asset_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM exchange.assets WHERE id = p_asset_id)) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX001',
            MESSAGE = 'invalid KYC limit',
            DETAIL = format('level %s, action %s, asset id %s, allowed %s, daily limit %s',
                            p_level, exchange._quote(p_action), p_asset_id, p_allowed,
                            exchange._quote(p_daily_limit::text)),
            HINT = 'level 0..2, action DEPOSIT|TRADE|WITHDRAW, an existing asset id or NULL, allowed true|false, daily limit in [0, 1e18) with at most 18 decimals, or NULL.';
    END IF;
    INSERT INTO exchange.kyc_limits AS k (level, action, asset_id, allowed, daily_limit)
    VALUES (p_level::smallint, p_action, p_asset_id, p_allowed, p_daily_limit)
    ON CONFLICT (level, action, asset_id) DO UPDATE
        SET allowed = excluded.allowed, daily_limit = excluded.daily_limit, updated_at = now()
    RETURNING * INTO v_result;
    RETURN v_result;
END;
$$;
COMMENT ON FUNCTION exchange.set_kyc_limit(integer, text, integer, boolean, numeric) IS
    'Sets a KYC level''s permission and daily limit for an action, for one asset or all (kyc:limits). Raises EX001, EX320, EX321.';
REVOKE ALL ON FUNCTION exchange.set_kyc_limit(integer, text, integer, boolean, numeric) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.set_kyc_limit(integer, text, integer, boolean, numeric) TO exchange_app;
