-- exchange._kyc_rule(p_level smallint, p_action text, p_asset_id integer)
--     RETURNS TABLE (allowed boolean, daily_limit numeric)
-- Internal: the row of exchange.kyc_limits that governs p_action of p_asset_id at KYC level
-- p_level: the asset's own row, else the level's default (asset_id NULL); no row when the
-- level has neither. One indexed read. A plain SQL function (no SET clause, not SECURITY
-- DEFINER), so the planner inlines it into the query that calls it: the one rule shared by
-- exchange._check_kyc_limit (a single check) and exchange._order_parties (every order of a
-- batch in one query), at no cost to either.
-- Who: those two (not granted). Raises: nothing. Locks: none.
CREATE OR REPLACE FUNCTION exchange._kyc_rule(p_level smallint, p_action text, p_asset_id integer)
RETURNS TABLE (allowed boolean, daily_limit numeric)
LANGUAGE sql
STABLE
AS $$
    SELECT k.allowed, k.daily_limit
      FROM exchange.kyc_limits k
     WHERE k.level = p_level AND k.action = p_action
       AND (k.asset_id = p_asset_id OR k.asset_id IS NULL)
     ORDER BY k.asset_id NULLS LAST
     LIMIT 1
$$;
COMMENT ON FUNCTION exchange._kyc_rule(smallint, text, integer) IS
    'Internal: the kyc_limits row governing an action on an asset at a KYC level (the asset''s own, else the level''s default); inlined into its callers.';
REVOKE ALL ON FUNCTION exchange._kyc_rule(smallint, text, integer) FROM PUBLIC;
