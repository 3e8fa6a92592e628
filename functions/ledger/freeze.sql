-- exchange.freeze(p_user_id bigint, p_asset text, p_amount numeric, p_reference_type text,
--                 p_reference_id bigint, p_idempotency_key text) RETURNS bigint
-- Places a hold: moves p_amount from the user's AVAILABLE to FROZEN bucket (one journal
-- record FREEZE carrying the reference) and adds it to the hold of (account, reference) in
-- exchange.holds, created on first use. Returns the hold id. reconcile() checks that frozen
-- balances equal the open holds. (Orders keep their holds in orders.hold_amount instead.)
-- p_reference_type: 1-40 characters A-Z and _ starting with a letter (e.g. 'MARGIN');
-- p_reference_id: the referenced object's id.
-- Idempotent: the same key with the same request returns the hold id and moves nothing;
-- the same key with another request raises EX108.
-- Access: the user, or an acting user with account:hold (exchange._authorize_for_user).
-- Raises: EX109, EX108, EX103 (unknown asset), EX102 (unknown user), EX104 (inactive
--         asset), EX105 (invalid amount), EX117 (invalid reference), EX101 (available <
--         amount).
-- Locks: the key; the user's account row; then the hold row.
CREATE OR REPLACE FUNCTION exchange.freeze(
    p_user_id bigint,
    p_asset text,
    p_amount numeric,
    p_reference_type text,
    p_reference_id bigint,
    p_idempotency_key text
)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
SET enable_seqscan = off
SET enable_bitmapscan = off
AS $$
DECLARE
    v_result   bigint;
    v_asset_id integer;
    v_decimals integer;
    v_active   boolean;
    v_user_ok  boolean;
    v_account  bigint;
BEGIN
    PERFORM exchange._authorize_for_user(p_user_id, 'account', 'hold');
    v_result := exchange._claim_idempotency_key(
        p_idempotency_key, 'FREEZE',
        format('%s|%s|%s|%s|%s', p_user_id, p_asset, trim_scale(p_amount), p_reference_type,
               p_reference_id));
    IF v_result IS NOT NULL THEN
        RETURN v_result;
    END IF;

    SELECT a.id, a.decimals, a.is_active,
           EXISTS (SELECT 1 FROM exchange.users u WHERE u.id = p_user_id),
           (SELECT acc.id FROM exchange.accounts acc
             WHERE acc.user_id = p_user_id AND acc.asset_id = a.id AND acc.kind = 'USER')
      INTO v_asset_id, v_decimals, v_active, v_user_ok, v_account
      FROM exchange.assets a
     WHERE a.symbol = p_asset;
    IF NOT COALESCE(v_user_ok AND v_active, false) THEN
        PERFORM exchange._refuse_movement(p_user_id, p_asset, v_asset_id, v_user_ok, v_active);
    END IF;
    PERFORM exchange._check_amount(p_amount, v_decimals, p_asset);
    PERFORM exchange._check_hold_reference(p_reference_type, p_reference_id);
    IF v_account IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX101',
            MESSAGE = format('insufficient funds: user %s holds no %s', p_user_id, p_asset),
            DETAIL = format('needed %s', p_amount),
            HINT = 'Deposit first.';
    END IF;

    -- The account first, then the hold (the order unfreeze keeps too; the hold's foreign key
    -- takes KEY SHARE on the account, which before our FOR UPDATE could deadlock).
    PERFORM exchange._post_pair('FREEZE', p_reference_type, p_reference_id,
                                v_account, 'AVAILABLE', v_account, 'FROZEN', p_amount);
    INSERT INTO exchange.holds AS h (account_id, user_id, asset_id, reference_type,
                                     reference_id, amount)
    VALUES (v_account, p_user_id, v_asset_id, p_reference_type, p_reference_id, p_amount)
    ON CONFLICT (account_id, reference_type, reference_id)
    DO UPDATE SET amount = h.amount + EXCLUDED.amount, version = h.version + 1
    RETURNING h.id INTO v_result;
    UPDATE exchange.idempotency_keys SET result_id = v_result WHERE key = p_idempotency_key;
    RETURN v_result;
END;
$$;
COMMENT ON FUNCTION exchange.freeze(bigint, text, numeric, text, bigint, text) IS
    'Holds funds: AVAILABLE to FROZEN under a reference, recorded in holds; idempotent by key; returns the hold id. Raises EX101, EX102, EX103, EX104, EX105, EX108, EX109, EX117.';
REVOKE ALL ON FUNCTION exchange.freeze(bigint, text, numeric, text, bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.freeze(bigint, text, numeric, text, bigint, text) TO exchange_app;
