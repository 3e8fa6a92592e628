-- exchange.tg_trading_pairs__create_market() RETURNS trigger
-- Trigger (AFTER INSERT on trading_pairs): creates the pair's market_state row and its two
-- fee accounts (FEE per asset and pair, so that markets never queue on one fee row).
-- Raises: nothing of its own. Locks: none beyond the inserted rows.
CREATE OR REPLACE FUNCTION exchange.tg_trading_pairs__create_market()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    INSERT INTO exchange.market_state (trading_pair_id, fee_base_account_id, fee_quote_account_id)
    VALUES (NEW.id,
            exchange._system_account('FEE', NEW.base_asset_id, NEW.id),
            exchange._system_account('FEE', NEW.quote_asset_id, NEW.id));
    RETURN NULL;
END;
$$;
COMMENT ON FUNCTION exchange.tg_trading_pairs__create_market() IS
    'Trigger: creates a new pair''s market_state row and its per-pair fee accounts.';
REVOKE ALL ON FUNCTION exchange.tg_trading_pairs__create_market() FROM PUBLIC;
