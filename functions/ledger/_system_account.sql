-- exchange._system_account(p_kind exchange.account_kind, p_asset_id integer,
--                          p_trading_pair_id integer DEFAULT NULL) RETURNS bigint
-- Internal: the id of a system account (EXTERNAL, FEE per asset and pair, REVENUE) for the
-- asset, created on first use. FEE with p_trading_pair_id NULL is the withdrawal-fee account.
-- Raises: EX010 for kind USER or a pair given for a kind other than FEE.
-- Locks: none (a concurrent first use is resolved by the unique index).
CREATE OR REPLACE FUNCTION exchange._system_account(
    p_kind exchange.account_kind,
    p_asset_id integer,
    p_trading_pair_id integer DEFAULT NULL
)
RETURNS bigint
LANGUAGE plpgsql
AS $$
DECLARE
    v_id bigint;
BEGIN
    IF p_kind = 'USER' OR (p_trading_pair_id IS NOT NULL AND p_kind <> 'FEE') THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX010',
            MESSAGE = format('no system account of kind %s for pair %s', p_kind, p_trading_pair_id),
            DETAIL = 'The pair''s fee accounts are created with the pair; this one is missing.',
            HINT = 'This is a bug in the calling function.';
    END IF;
    SELECT id INTO v_id FROM exchange.accounts
     WHERE kind = p_kind AND asset_id = p_asset_id
       AND trading_pair_id IS NOT DISTINCT FROM p_trading_pair_id;
    IF v_id IS NULL THEN
        INSERT INTO exchange.accounts (kind, asset_id, trading_pair_id)
        VALUES (p_kind, p_asset_id, p_trading_pair_id)
        ON CONFLICT (kind, asset_id, trading_pair_id) WHERE kind <> 'USER' DO NOTHING
        RETURNING id INTO v_id;
        IF v_id IS NULL THEN
            SELECT id INTO v_id FROM exchange.accounts
             WHERE kind = p_kind AND asset_id = p_asset_id
               AND trading_pair_id IS NOT DISTINCT FROM p_trading_pair_id;
        END IF;
    END IF;
    RETURN v_id;
END;
$$;
COMMENT ON FUNCTION exchange._system_account(exchange.account_kind, integer, integer) IS
    'Internal: a system account id (EXTERNAL, FEE per asset and pair, REVENUE), created on first use. Raises EX010.';
REVOKE ALL ON FUNCTION exchange._system_account(exchange.account_kind, integer, integer) FROM PUBLIC;
