-- exchange.deposit(p_user_id bigint, p_asset text, p_amount numeric, p_idempotency_key text)
--   RETURNS bigint
-- Credits a user's available balance with funds that arrived from outside: one journal
-- record DEPOSIT (user AVAILABLE +amount, the asset's EXTERNAL account -amount). The user's
-- account is created on this first credit. Returns the journal id (the transfer id).
-- Idempotent: the same key with the same request returns the first call's journal id and
-- moves nothing; the same key with another request raises EX108.
-- Access: exchange_custody (the deposit watcher) or a DBA (member of exchange_owner) without an
-- acting user; with one, deposit:create. Not granted to exchange_app: the web application
-- cannot create money.
-- Raises: EX320/EX321/EX303 (access), EX109 (bad key), EX108 (key used by another request), EX102 (unknown user),
--         EX103 (unknown asset), EX104 (inactive asset), EX105 (invalid amount).
-- Emits: deposit_credited (exchange._emit_event; payloads in docs/events.md).
-- Locks: the key; then the user's and the EXTERNAL account rows, in ascending id.
CREATE OR REPLACE FUNCTION exchange.deposit(
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
    v_asset_id integer;
    v_decimals integer;
    v_active   boolean;
    v_user_ok  boolean;
    v_account  bigint;
    v_external bigint;
    v_balance  numeric;
    v_outside  numeric;
BEGIN
    -- Access: crediting is custody's job (the deposit watcher, a member of exchange_custody,
    -- without an acting user) or a DBA's; an acting user needs deposit:create.
    PERFORM exchange._require_admin('deposit', 'create', 'exchange_custody');
    v_result := exchange._claim_idempotency_key(
        p_idempotency_key, 'DEPOSIT',
        format('%s|%s|%s', p_user_id, p_asset, trim_scale(p_amount)));
    IF v_result IS NOT NULL THEN
        RETURN v_result;
    END IF;

    SELECT a.id, a.decimals, a.is_active,
           EXISTS (SELECT 1 FROM exchange.users u WHERE u.id = p_user_id),
           ua.id, ua.total_balance, ea.id, ea.available_balance
      INTO v_asset_id, v_decimals, v_active, v_user_ok, v_account, v_balance, v_external,
           v_outside
      FROM exchange.assets a
      LEFT JOIN exchange.accounts ua
        ON ua.user_id = p_user_id AND ua.asset_id = a.id AND ua.kind = 'USER'
      LEFT JOIN exchange.accounts ea
        ON ea.kind = 'EXTERNAL' AND ea.asset_id = a.id AND ea.trading_pair_id IS NULL
     WHERE a.symbol = p_asset;
    IF NOT COALESCE(v_user_ok AND v_active, false) THEN
        PERFORM exchange._refuse_movement(p_user_id, p_asset, v_asset_id, v_user_ok, v_active);
    END IF;
    IF NOT COALESCE(p_amount > 0 AND p_amount < 1e18
                    AND round(p_amount, v_decimals) = p_amount, false) THEN
        PERFORM exchange._check_amount(p_amount, v_decimals, p_asset);
    END IF;
    IF COALESCE(v_balance, 0) + p_amount >= 1e18 OR COALESCE(v_outside, 0) - p_amount <= -1e18 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX105',
            MESSAGE = format('invalid amount %s for %s: a balance would reach 1e18', p_amount, p_asset),
            DETAIL = 'Balances are NUMERIC(36,18): below 1e18 in absolute value.',
            HINT = 'Deposit less.';
    END IF;

    IF v_account IS NULL THEN
        v_account := exchange._user_account(p_user_id, v_asset_id);
    END IF;
    IF v_external IS NULL THEN
        v_external := exchange._system_account('EXTERNAL', v_asset_id);
    END IF;
    v_result := exchange._post_pair('DEPOSIT', NULL, NULL, v_external, 'AVAILABLE',
                                    v_account, 'AVAILABLE', p_amount);
    PERFORM exchange._emit_event('account', v_account::text, 'deposit_credited',
        jsonb_build_object('user_id', p_user_id, 'asset', p_asset,
                           'amount', trim_scale(p_amount)::text, 'reference', p_idempotency_key,
                           'journal_id', v_result));
    UPDATE exchange.idempotency_keys SET result_id = v_result WHERE key = p_idempotency_key;
    RETURN v_result;
END;
$$;
COMMENT ON FUNCTION exchange.deposit(bigint, text, numeric, text) IS
    'Credits a user''s available balance from outside (EXTERNAL account); idempotent by key; returns the journal id. Raises EX102, EX103, EX104, EX105, EX108, EX109.';
REVOKE ALL ON FUNCTION exchange.deposit(bigint, text, numeric, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.deposit(bigint, text, numeric, text) TO exchange_custody;
