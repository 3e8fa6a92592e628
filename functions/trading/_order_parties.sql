-- exchange._order_parties(p_orders exchange.order_request[]) RETURNS exchange._order_party[]
-- Internal: the lookup stage of exchange.place_orders, for every request of a batch in one
-- query: its user's status, the user's accounts in the pair's base and quote assets (NULL
-- when the account does not exist yet) with their available balances, and the user's KYC
-- level's TRADE rule for the asset the order counts in (the base asset, or the quote asset
-- of a buy by quote amount; exchange._kyc_rule, as exchange._check_kyc_limit reads it).
-- Element i belongs to p_orders[i]; an unknown user or pair gives a NULL element
-- (place_orders refuses those). Balances are read once for the batch: place_orders posts
-- nothing before its end, so they are what each order would have read in turn.
-- Who: place_orders only (not granted). Raises: nothing. Locks: none.
CREATE OR REPLACE FUNCTION exchange._order_parties(p_orders exchange.order_request[])
RETURNS exchange._order_party[]
LANGUAGE plpgsql
-- No SET clauses: it runs under place_orders' settings (generic plans, no sequential scans).
AS $$
DECLARE
    v_parties exchange._order_party[];
BEGIN
    -- one keyed lookup per request, in request order (a scan of the array, no join or sort
    -- that could reorder it)
    v_parties := ARRAY(
        SELECT (SELECT ROW(u.status, ab.id, ab.available_balance, aq.id, aq.available_balance,
                           k.allowed, k.daily_limit)::exchange._order_party
                  FROM exchange.users u
                  JOIN exchange.trading_pairs tp ON tp.symbol = r.symbol
                  LEFT JOIN exchange.accounts ab
                         ON ab.user_id = u.id AND ab.asset_id = tp.base_asset_id AND ab.kind = 'USER'
                  LEFT JOIN exchange.accounts aq
                         ON aq.user_id = u.id AND aq.asset_id = tp.quote_asset_id AND aq.kind = 'USER'
                  LEFT JOIN LATERAL exchange._kyc_rule(
                        u.kyc_level, 'TRADE',
                        CASE WHEN r.quote_amount IS NULL THEN tp.base_asset_id
                             ELSE tp.quote_asset_id END) k ON true
                 WHERE u.id = r.user_id)
          FROM unnest(p_orders) AS r);
    RETURN v_parties;
END;
$$;
COMMENT ON FUNCTION exchange._order_parties(exchange.order_request[]) IS
    'Internal: place_orders'' lookup stage: each request''s user status, base and quote accounts with balances, and KYC TRADE rule, for a whole batch in one query.';
REVOKE ALL ON FUNCTION exchange._order_parties(exchange.order_request[]) FROM PUBLIC;
