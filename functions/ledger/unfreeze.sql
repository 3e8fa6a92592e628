-- exchange.unfreeze(p_user_id bigint, p_asset text, p_amount numeric, p_reference_type text,
--                   p_reference_id bigint, p_idempotency_key text) RETURNS bigint
-- Releases a hold placed by freeze(): moves p_amount (NULL: all that the hold still holds)
-- from FROZEN back to AVAILABLE (one journal record UNFREEZE carrying the reference) and
-- subtracts it from the hold. Returns the hold id. Allowed on an inactive asset.
-- Idempotent: the same key with the same request returns the hold id and moves nothing;
-- the same key with another request raises EX108.
-- Access: the user, or an acting user with account:hold (exchange._authorize_for_user).
-- Raises: EX109, EX108, EX103 (unknown asset), EX102 (unknown user), EX105 (invalid
--         amount), EX117 (invalid reference), EX115 (no hold with this reference), EX116
--         (amount above what the hold holds, or the hold is empty).
-- Locks: the key; the user's account row; then the hold row.
CREATE OR REPLACE FUNCTION exchange.unfreeze(
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
    v_user_ok  boolean;
    v_account  bigint;
    v_hold_id  bigint;
    v_held     numeric;
    v_amount   numeric;
BEGIN
    PERFORM exchange._authorize_for_user(p_user_id, 'account', 'hold');
    v_result := exchange._claim_idempotency_key(
        p_idempotency_key, 'UNFREEZE',
        format('%s|%s|%s|%s|%s', p_user_id, p_asset, COALESCE(trim_scale(p_amount)::text, 'ALL'),
               p_reference_type, p_reference_id));
    IF v_result IS NOT NULL THEN
        RETURN v_result;
    END IF;

    SELECT a.id, a.decimals,
           EXISTS (SELECT 1 FROM exchange.users u WHERE u.id = p_user_id),
           (SELECT acc.id FROM exchange.accounts acc
             WHERE acc.user_id = p_user_id AND acc.asset_id = a.id AND acc.kind = 'USER')
      INTO v_asset_id, v_decimals, v_user_ok, v_account
      FROM exchange.assets a
     WHERE a.symbol = p_asset;
    IF NOT COALESCE(v_user_ok, false) THEN
        PERFORM exchange._refuse_movement(p_user_id, p_asset, v_asset_id, v_user_ok, NULL);
    END IF;
    IF p_amount IS NOT NULL THEN
        PERFORM exchange._check_amount(p_amount, v_decimals, p_asset);
    END IF;
    PERFORM exchange._check_hold_reference(p_reference_type, p_reference_id);

    SELECT h.id, h.amount INTO v_hold_id, v_held
      FROM exchange.holds h
     WHERE h.account_id = v_account AND h.reference_type = p_reference_type
       AND h.reference_id = p_reference_id;
    IF v_hold_id IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX115',
            MESSAGE = format('user %s has no %s hold for %s %s', p_user_id, p_asset,
                             p_reference_type, p_reference_id),
            DETAIL = 'exchange.holds has no hold for this account and reference.',
            HINT = 'freeze() places holds; unfreeze() names the same user, asset and reference.';
    END IF;
    v_amount := COALESCE(p_amount, v_held);
    IF v_held = 0 OR v_amount > v_held THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX116',
            MESSAGE = format('cannot release %s %s from a hold of %s', v_amount, p_asset, v_held),
            DETAIL = format('hold %s for %s %s', v_hold_id, p_reference_type, p_reference_id),
            HINT = 'Release at most what the hold still holds.';
    END IF;

    -- The account first, then the hold (as freeze does). The hold is re-checked under its
    -- row lock: a concurrent unfreeze that took part of it makes this one refuse (EX116).
    PERFORM exchange._post_pair('UNFREEZE', p_reference_type, p_reference_id,
                                v_account, 'FROZEN', v_account, 'AVAILABLE', v_amount);
    UPDATE exchange.holds h SET amount = h.amount - v_amount, version = h.version + 1
     WHERE h.id = v_hold_id AND h.amount >= v_amount
    RETURNING h.amount INTO v_held;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX116',
            MESSAGE = format('cannot release %s %s: the hold changed meanwhile', v_amount, p_asset),
            DETAIL = format('hold %s for %s %s', v_hold_id, p_reference_type, p_reference_id),
            HINT = 'Release at most what the hold still holds.';
    END IF;
    UPDATE exchange.idempotency_keys SET result_id = v_hold_id WHERE key = p_idempotency_key;
    RETURN v_hold_id;
END;
$$;
COMMENT ON FUNCTION exchange.unfreeze(bigint, text, numeric, text, bigint, text) IS
    'Releases (part of) a hold placed by freeze(): FROZEN to AVAILABLE; idempotent by key; returns the hold id. Raises EX102, EX103, EX105, EX108, EX109, EX115, EX116, EX117.';
REVOKE ALL ON FUNCTION exchange.unfreeze(bigint, text, numeric, text, bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.unfreeze(bigint, text, numeric, text, bigint, text) TO exchange_app;
