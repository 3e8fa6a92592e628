-- exchange.set_trading_pair_status(p_symbol text, p_status text) RETURNS exchange.trading_pairs
-- Halts (HALTED: only cancels are accepted) or resumes (TRADING) a market.
-- Raises: EX201 unknown pair, EX220 unknown status.
-- Locks: the market's lock (the same one place_order and cancel take first), so the change
--        falls between two placements.
-- Access: trading_pair:halt for the acting user (docs/security.md), or a session of
-- exchange_owner without an acting user. Raises EX320/EX321/EX303 from _require_permission.
CREATE OR REPLACE FUNCTION exchange.set_trading_pair_status(p_symbol text, p_status text)
RETURNS exchange.trading_pairs
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
DECLARE
    v_pair exchange.trading_pairs;
BEGIN
    -- Access: an acting user (exchange.acting_user_id) needs trading_pair:halt; a session
    -- without one must belong to exchange_owner (a DBA, the migrations), never the app role alone.
    PERFORM exchange._require_admin('trading_pair', 'halt');
    IF p_status IS NULL OR p_status NOT IN ('TRADING', 'HALTED') THEN
        RAISE EXCEPTION USING ERRCODE = 'EX220',
            MESSAGE = format('unknown trading pair status %s', exchange._quote(p_status)),
            DETAIL = 'A pair is TRADING or HALTED.',
            HINT = 'Use TRADING or HALTED.';
    END IF;
    SELECT * INTO v_pair FROM exchange.trading_pairs WHERE symbol = p_symbol;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'EX201',
            MESSAGE = format('unknown trading pair %s', exchange._quote(p_symbol)),
            DETAIL = 'exchange.trading_pairs has no pair with this symbol.',
            HINT = 'List the pairs with exchange.get_trading_pairs().';
    END IF;
    PERFORM pg_advisory_xact_lock(1601, v_pair.id);
    UPDATE exchange.trading_pairs SET status = p_status::exchange.pair_status
     WHERE id = v_pair.id
    RETURNING * INTO v_pair;
    RETURN v_pair;
END;
$$;
COMMENT ON FUNCTION exchange.set_trading_pair_status(text, text) IS
    'Halts (cancels only) or resumes a market; takes the market lock. Raises EX201, EX220.';
REVOKE ALL ON FUNCTION exchange.set_trading_pair_status(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.set_trading_pair_status(text, text) TO exchange_app;
