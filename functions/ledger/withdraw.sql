-- exchange.withdraw(p_user_id bigint, p_asset text, p_amount numeric, p_idempotency_key text)
--   RETURNS bigint
-- Phase one of a withdrawal: records a PENDING withdrawal of p_amount (what leaves the
-- exchange) with the asset's current withdraw_fee, and freezes amount + fee in one journal
-- record WITHDRAWAL_REQUEST (reference WITHDRAWAL id: user AVAILABLE -(amount+fee), FROZEN
-- +(amount+fee)). complete_withdrawal() pays it out, cancel_withdrawal() releases it.
-- Allowed on an inactive asset (users must be able to take their funds out).
-- Returns the withdrawal id. Idempotent: the same key with the same request returns the
-- first call's withdrawal id and moves nothing; another request with the key raises EX108.
-- Access: the user themselves only (exchange._authorize_for_user), or a DBA session.
-- Raises: EX109, EX108, EX102 (unknown user), EX103 (unknown asset), EX105 (invalid amount),
--         EX303 (user not ACTIVE), EX335/EX336 (KYC level or its daily limit),
--         EX107 (below the asset's min_withdraw_amount), EX101 (available < amount + fee),
--         EX405/EX406 (refused by a risk rule; see exchange._check_withdrawal_risk).
-- Emits: withdrawal_requested (exchange._emit_event; payloads in docs/events.md).
-- Locks: the key; the user's KYC counter row for the day (levels with a daily limit); then
--        the user's account row (before the new withdrawal row).
CREATE OR REPLACE FUNCTION exchange.withdraw(
    p_user_id bigint,
    p_asset text,
    p_amount numeric,
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
    v_asset    exchange.assets;
    v_user_ok  boolean;
    v_account  bigint;
    v_available numeric;
    v_total    numeric;
BEGIN
    PERFORM exchange._authorize_for_user(p_user_id);
    v_result := exchange._claim_idempotency_key(
        p_idempotency_key, 'WITHDRAW',
        format('%s|%s|%s', p_user_id, p_asset, trim_scale(p_amount)));
    IF v_result IS NOT NULL THEN
        RETURN v_result;
    END IF;

    SELECT a.* INTO v_asset FROM exchange.assets a WHERE a.symbol = p_asset;
    IF v_asset.id IS NULL THEN
        PERFORM exchange._refuse_movement(p_user_id, p_asset, NULL, NULL, NULL);
    END IF;
    SELECT EXISTS (SELECT 1 FROM exchange.users u WHERE u.id = p_user_id),
           acc.id, acc.available_balance
      INTO v_user_ok, v_account, v_available
      FROM (SELECT 1) AS one
      LEFT JOIN exchange.accounts acc
        ON acc.user_id = p_user_id AND acc.asset_id = v_asset.id AND acc.kind = 'USER';
    IF NOT v_user_ok THEN
        PERFORM exchange._refuse_movement(p_user_id, p_asset, v_asset.id, false, NULL);
    END IF;
    PERFORM exchange._check_amount(p_amount, v_asset.decimals, p_asset);
    IF p_amount < v_asset.min_withdraw_amount THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX107',
            MESSAGE = format('withdrawal of %s %s is below the minimum', p_amount, p_asset),
            DETAIL = format('the minimum withdrawal of %s is %s', p_asset, v_asset.min_withdraw_amount),
            HINT = 'Withdraw at least the minimum.';
    END IF;
    v_total := p_amount + v_asset.withdraw_fee;
    -- An early refusal (the posting stays the authority under concurrency); it also
    -- keeps frozen + total below NUMERIC(36,18)'s bound.
    IF v_account IS NULL OR v_total > v_available THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX101',
            MESSAGE = format('insufficient funds: user %s cannot withdraw %s %s', p_user_id,
                             p_amount, p_asset),
            DETAIL = format('needed %s (amount %s + fee %s), available %s', v_total, p_amount,
                            v_asset.withdraw_fee, COALESCE(v_available, 0)),
            HINT = 'Deposit first.';
    END IF;

    -- KYC (docs/security.md): the user must be ACTIVE and their level allow withdrawing this
    -- much of the asset today (one indexed lookup; a daily counter row for limited levels).
    PERFORM exchange._check_kyc_limit(p_user_id, 'WITHDRAW', v_asset.id, p_amount);

    -- Post first, then insert the withdrawal: its foreign key takes KEY SHARE on the account,
    -- which before our FOR UPDATE would let two requests of one account deadlock.
    v_result := nextval('exchange.withdrawals_id_seq'::regclass);
    PERFORM exchange._post_pair('WITHDRAWAL_REQUEST', 'WITHDRAWAL', v_result,
                                v_account, 'AVAILABLE', v_account, 'FROZEN', v_total);
    INSERT INTO exchange.withdrawals (id, user_id, asset_id, account_id, amount, fee)
    OVERRIDING SYSTEM VALUE
    VALUES (v_result, p_user_id, v_asset.id, v_account, p_amount, v_asset.withdraw_fee);
    -- Risk rules (docs/risk.md): FLAG records an event, REVIEW holds the withdrawal in status
    -- REVIEW, REJECT raises EX405 (nothing but the risk event stays).
    PERFORM exchange._check_withdrawal_risk(v_result);
    PERFORM exchange._emit_event('withdrawal', v_result::text, 'withdrawal_requested',
        (SELECT jsonb_build_object('withdrawal_id', w.id, 'user_id', w.user_id, 'asset', p_asset,
                                   'amount', trim_scale(w.amount)::text,
                                   'fee', trim_scale(w.fee)::text, 'status', w.status)
           FROM exchange.withdrawals w WHERE w.id = v_result));
    UPDATE exchange.idempotency_keys SET result_id = v_result WHERE key = p_idempotency_key;
    RETURN v_result;
END;
$$;
COMMENT ON FUNCTION exchange.withdraw(bigint, text, numeric, text) IS
    'Requests a withdrawal: freezes amount + fee and records it PENDING; idempotent by key; returns the withdrawal id. Raises EX101, EX102, EX103, EX105, EX107, EX108, EX109, EX303, EX335, EX336.';
REVOKE ALL ON FUNCTION exchange.withdraw(bigint, text, numeric, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.withdraw(bigint, text, numeric, text) TO exchange_app;
