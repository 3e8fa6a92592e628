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
AS $$
DECLARE
    v_result   bigint;
    v_asset_id integer;
    v_decimals integer;
    v_active   boolean;
    v_user_ok  boolean;
    v_account  bigint;
BEGIN
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
    IF v_asset_id IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX103',
            MESSAGE = format('unknown asset %s', COALESCE(p_asset, 'NULL')),
            HINT = 'list_assets() shows the assets.';
    END IF;
    IF NOT v_user_ok THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX102',
            MESSAGE = format('unknown user %s', COALESCE(p_user_id::text, 'NULL')),
            HINT = 'Register the user first.';
    END IF;
    IF NOT v_active THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX104',
            MESSAGE = format('asset %s is inactive', p_asset),
            DETAIL = 'An inactive asset takes no deposits, transfers, holds or orders.',
            HINT = 'activate_asset() re-activates it.';
    END IF;
    PERFORM exchange._check_amount(p_amount, v_decimals, p_asset);
    IF p_reference_type IS NULL OR p_reference_type !~ '^[A-Z][A-Z_]{0,39}$'
       OR p_reference_id IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX117',
            MESSAGE = format('invalid hold reference %s %s', COALESCE(p_reference_type, 'NULL'),
                             COALESCE(p_reference_id::text, 'NULL')),
            HINT = 'A reference is a type (A-Z and _, up to 40 characters) and an id.';
    END IF;
    IF v_account IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX101',
            MESSAGE = format('insufficient funds: user %s holds no %s', p_user_id, p_asset),
            DETAIL = format('needed %s', p_amount),
            HINT = 'Deposit first.';
    END IF;

    -- The account first, then the hold (the order unfreeze keeps too; the hold's foreign key
    -- takes KEY SHARE on the account, which before our FOR UPDATE could deadlock).
    PERFORM exchange._post_journal(
        'FREEZE', p_reference_type, p_reference_id,
        ARRAY[v_account, v_account],
        ARRAY['AVAILABLE', 'FROZEN']::exchange.balance_bucket[],
        ARRAY[-p_amount, p_amount]);
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
