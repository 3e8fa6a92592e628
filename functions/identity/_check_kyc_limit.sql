-- exchange._check_kyc_limit(p_user_id bigint, p_action text, p_asset_id integer,
--                           p_amount numeric) RETURNS void
-- Internal: the KYC gate of deposits, trades and withdrawals. p_action is 'DEPOSIT',
-- 'TRADE' or 'WITHDRAW'; p_amount is what the call moves, in units of p_asset_id (for an
-- order: the base amount, or the quote amount of a market buy given in quote). Looks up the
-- user's kyc_level and the most specific row of exchange.kyc_limits (exchange._kyc_rule:
-- the asset's row, else the level's default) in one indexed query. When the level has a
-- daily limit, adds p_amount to the user's counter for today (UTC) in
-- exchange.kyc_daily_usage and refuses when the total passes the limit; the caller's
-- refusal or rollback undoes the addition. Amounts count when the order or withdrawal is
-- accepted, whether or not it later fills or completes. TRADE and WITHDRAW also require the
-- user to be ACTIVE.
-- Raises: EX309 unknown user; EX303 user not ACTIVE (TRADE, WITHDRAW); EX335 the level may
--         not do p_action; EX336 the daily limit would be passed; EX001 bad arguments.
-- Locks: the user's counter row for (today, action, asset) when the level has a daily limit
--        (so one user's concurrent calls take turns; other users never wait). Call it before
--        any account lock: place_orders calls it after the market locks and under the user's
--        lock (pg_advisory_xact_lock(1603, ...)), which orders the TRADE counters globally
--        (docs/trading.md, "Why no deadlock is possible"); withdraw before its postings.
CREATE OR REPLACE FUNCTION exchange._check_kyc_limit(
    p_user_id bigint, p_action text, p_asset_id integer, p_amount numeric)
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    v_level   smallint;
    v_status  exchange.user_status;
    v_allowed boolean;
    v_limit   numeric;
    v_used    numeric;
    v_day     date;
BEGIN
    IF p_action IS NULL OR p_action NOT IN ('DEPOSIT', 'TRADE', 'WITHDRAW')
       OR p_asset_id IS NULL OR p_amount IS NULL OR p_amount < 0 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX001',
            MESSAGE = format('invalid KYC check: %s of %s in asset %s', p_action, p_amount, p_asset_id),
            DETAIL = 'The action is not DEPOSIT, TRADE or WITHDRAW, or the amount is NULL or negative.',
            HINT = 'p_action is DEPOSIT, TRADE or WITHDRAW; p_amount is not negative.';
    END IF;

    SELECT u.kyc_level, u.status, l.allowed, l.daily_limit
      INTO v_level, v_status, v_allowed, v_limit
      FROM exchange.users u
      LEFT JOIN LATERAL exchange._kyc_rule(u.kyc_level, p_action, p_asset_id) l ON true
     WHERE u.id = p_user_id;

    IF NOT FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX309',
            MESSAGE = format('user %s does not exist', p_user_id),
            DETAIL = 'exchange.users has no user with this id.',
            HINT = 'Check the user id.';
    END IF;
    IF p_action <> 'DEPOSIT' AND v_status <> 'ACTIVE' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX303',
            MESSAGE = format('user %s is not active', p_user_id),
            DETAIL = format('status %s', v_status),
            HINT = 'Only ACTIVE users may trade or withdraw.';
    END IF;
    IF v_allowed IS NOT TRUE THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX335',
            MESSAGE = format('KYC level %s may not %s', v_level, lower(p_action)),
            DETAIL = format('user %s, asset %s', p_user_id, p_asset_id),
            HINT = 'Submit a KYC verification for a higher level (exchange.submit_kyc).';
    END IF;
    IF v_limit IS NULL OR p_amount = 0 THEN
        RETURN;
    END IF;

    v_day := (now() AT TIME ZONE 'UTC')::date;
    INSERT INTO exchange.kyc_daily_usage AS d (user_id, day, action, asset_id, used)
    VALUES (p_user_id, v_day, p_action, p_asset_id, p_amount)
    ON CONFLICT (user_id, day, action, asset_id) DO UPDATE SET used = d.used + excluded.used
    RETURNING d.used INTO v_used;

    IF v_used > v_limit THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX336',
            MESSAGE = format('KYC level %s daily %s limit exceeded', v_level, lower(p_action)),
            DETAIL = format('user %s, asset %s: limit %s per day, already %s, this call %s',
                            p_user_id, p_asset_id, v_limit, v_used - p_amount, p_amount),
            HINT = 'Wait for the next UTC day or raise the KYC level.';
    END IF;
END;
$$;
COMMENT ON FUNCTION exchange._check_kyc_limit(bigint, text, integer, numeric) IS
    'Internal KYC gate: may the user do p_action (DEPOSIT, TRADE, WITHDRAW) for p_amount of the asset today? Counts the amount in kyc_daily_usage. Raises EX001, EX303, EX309, EX335, EX336.';
REVOKE ALL ON FUNCTION exchange._check_kyc_limit(bigint, text, integer, numeric) FROM PUBLIC;
