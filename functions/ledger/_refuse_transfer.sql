-- exchange._refuse_transfer(p_t exchange.transfer_request, p_index integer,
--                           p_asset_id integer, p_decimals integer, p_active boolean,
--                           p_from_account bigint, p_to_account bigint) RETURNS void
-- Internal: raises the refusal of one transfer of exchange.transfers(), given what its
-- lookup found (the asset's id, decimals and active flag, NULL when the asset is unknown;
-- the sender's and receiver's accounts for it, NULL when missing). The checks run in the
-- order the errors are documented; returns normally when the transfer may proceed (the
-- receiver may still lack an account: it is created on this first credit). transfers()
-- calls it only when its one-expression test of the common case fails, so every refusal
-- is raised by this one function.
-- Raises: EX103 (unknown asset), EX102 (unknown user), EX106 (transfer to oneself), EX303
--         (the receiver is PENDING, not activated yet, or CLOSED), EX104
--         (inactive asset), EX105 (invalid amount), EX101 (the sender holds none).
CREATE OR REPLACE FUNCTION exchange._refuse_transfer(
    p_t exchange.transfer_request,
    p_index integer,
    p_asset_id integer,
    p_decimals integer,
    p_active boolean,
    p_from_account bigint,
    p_to_account bigint
)
RETURNS void
LANGUAGE plpgsql
STABLE
AS $$
DECLARE
    v_from_ok boolean;
    v_to_ok   boolean;
BEGIN
    IF p_asset_id IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX103',
            MESSAGE = format('unknown asset %s', COALESCE(p_t.asset, 'NULL')),
            DETAIL = format('transfer %s of the batch', p_index),
            HINT = 'list_assets() shows the assets.';
    END IF;
    -- an account implies its user exists; users are looked up only when one is missing
    v_from_ok := p_from_account IS NOT NULL
                 OR EXISTS (SELECT 1 FROM exchange.users u WHERE u.id = p_t.from_user_id);
    v_to_ok := p_to_account IS NOT NULL
               OR EXISTS (SELECT 1 FROM exchange.users u WHERE u.id = p_t.to_user_id);
    IF NOT (v_from_ok AND v_to_ok) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX102',
            MESSAGE = format('unknown user %s',
                             COALESCE(CASE WHEN v_from_ok THEN p_t.to_user_id
                                           ELSE p_t.from_user_id END::text, 'NULL')),
            DETAIL = format('transfer %s of the batch', p_index),
            HINT = 'Register the user first.';
    END IF;
    IF p_t.from_user_id = p_t.to_user_id THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX106',
            MESSAGE = format('user %s cannot transfer to themselves', p_t.from_user_id),
            DETAIL = format('transfer %s of the batch', p_index),
            HINT = 'A transfer needs two different users.';
    END IF;
    IF EXISTS (SELECT 1 FROM exchange.users u
                WHERE u.id = p_t.to_user_id AND u.status IN ('PENDING', 'CLOSED')) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX303',
            MESSAGE = format('user %s cannot receive transfers', p_t.to_user_id),
            DETAIL = format('transfer %s of the batch: the receiver is PENDING (not activated) or CLOSED', p_index),
            HINT = 'Activate the user first; a closed user receives nothing.';
    END IF;
    IF NOT p_active THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX104',
            MESSAGE = format('asset %s is inactive', p_t.asset),
            DETAIL = 'An inactive asset takes no deposits, transfers, holds or orders.',
            HINT = 'activate_asset() re-activates it.';
    END IF;
    IF NOT COALESCE(p_t.amount > 0 AND p_t.amount < 1e18
                    AND round(p_t.amount, p_decimals) = p_t.amount, false) THEN
        PERFORM exchange._check_amount(p_t.amount, p_decimals, p_t.asset);
    END IF;
    IF p_from_account IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX101',
            MESSAGE = format('insufficient funds: user %s holds no %s', p_t.from_user_id,
                             p_t.asset),
            DETAIL = format('transfer %s of the batch needs %s', p_index, p_t.amount),
            HINT = 'Deposit first.';
    END IF;
END;
$$;
COMMENT ON FUNCTION exchange._refuse_transfer(exchange.transfer_request, integer, integer, integer, boolean, bigint, bigint) IS
    'Internal: raises the refusal of one transfer of transfers() from what its lookup found, or returns when it may proceed. Raises EX101, EX102, EX103, EX104, EX105, EX106, EX303.';
REVOKE ALL ON FUNCTION exchange._refuse_transfer(exchange.transfer_request, integer, integer, integer, boolean, bigint, bigint) FROM PUBLIC;
