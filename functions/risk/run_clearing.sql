-- exchange.run_clearing(p_business_date date) RETURNS SETOF exchange.settlement_batches
-- End-of-day clearing (docs/risk.md). Trades settle in real time through the ledger; this is
-- the day's control and sweep. For the UTC day p_business_date it makes one settlement batch
-- (exchange._clear_day) that takes the unsettled trades created before the end of the day:
--   * per user and asset: bought, sold, fees paid and net (settlement_details);
--   * per pair: trades, volume, quote volume, fees in base and quote (settlement_pair_totals);
--   * checks: every trade's implied movements (buyer +amount-buyer_fee base, -quote_amount
--     quote; seller -amount base, +quote_amount-seller_fee quote; the pair's FEE accounts
--     +buyer_fee base, +seller_fee quote) equal the journal entries of its TRADE record, per
--     account; no TRADE journal record of the day lacks its trade; exchange.reconcile() is
--     empty;
--   * then COMPLETED: the day's fees are swept from each pair's FEE accounts to the REVENUE
--     account of the asset (one balanced FEE_SWEEP journal record per pair, reference
--     SETTLEMENT_BATCH id) and the trades are marked with the batch; or FAILED: one
--     settlement_discrepancies row per discrepancy, nothing swept, no trade marked.
-- Nothing is cleared twice: a COMPLETED day is returned as it is; a FAILED day is tried
-- again (same batch, attempts + 1, its old rows replaced). Earlier days with unsettled
-- trades and no batch, and earlier FAILED days, are cleared first, in date order; if one of
-- them fails, the later days are not cleared. Returns the batches it made or found, in date
-- order (the last is p_business_date's unless an earlier day failed).
-- Clearing the current day is allowed: the batch takes the trades so far (cutoff_at = now);
-- later trades of that day are taken by the next day's batch.
-- Access: settlement:run for an acting user, or a DBA session without one (the one rule of
-- administrative functions, exchange._require_admin); audited (RUN_CLEARING).
-- Raises: EX320/EX321 acting user; EX421 date NULL, in the future (UTC), or before the
--         exchange's first activity (the UTC day of its first journal record, of its
--         earliest trade or settlement batch; today when there is none yet).
-- Locks: pg_advisory_xact_lock(1602, 0) (one clearing at a time); the batch's trades (row
--        update); FEE and REVENUE accounts, ascending, for the sweep.
CREATE OR REPLACE FUNCTION exchange.run_clearing(p_business_date date)
RETURNS SETOF exchange.settlement_batches
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
DECLARE
    v_actor  bigint;
    v_today  date := (now() AT TIME ZONE 'UTC')::date;
    v_day    date;
    v_batch  exchange.settlement_batches;
    v_first  date;
BEGIN
    v_actor := exchange._require_admin('settlement', 'run');
    -- The first day anything happened: each probe reads one end of an index.
    v_first := least(
        v_today,
        (SELECT (j.created_at AT TIME ZONE 'UTC')::date FROM exchange.journal j ORDER BY j.id LIMIT 1),
        (SELECT (min(t.created_at) AT TIME ZONE 'UTC')::date FROM exchange.trades t),
        (SELECT min(b.business_date) FROM exchange.settlement_batches b));
    IF p_business_date IS NULL OR p_business_date > v_today OR p_business_date < v_first THEN
        RAISE EXCEPTION USING ERRCODE = 'EX421',
            MESSAGE = format('cannot clear business date %s', COALESCE(p_business_date::text, 'NULL')),
            DETAIL = format('today (UTC) is %s; the exchange''s first activity was on %s',
                            v_today, v_first),
            HINT = 'Clear a day that has begun and is not before the exchange''s first activity: today (the trades so far) or an earlier day.';
    END IF;
    PERFORM pg_advisory_xact_lock(1602, 0);

    LOOP
        -- the earliest open day before p_business_date: unsettled trades and no batch, or a
        -- FAILED batch
        SELECT min(d) INTO v_day FROM (
            SELECT (min(t.created_at) AT TIME ZONE 'UTC')::date AS d
              FROM exchange.trades t
             WHERE t.settlement_batch_id IS NULL
               AND t.created_at < (p_business_date::timestamp AT TIME ZONE 'UTC')
               AND NOT EXISTS (SELECT 1 FROM exchange.settlement_batches b
                                WHERE b.business_date = (t.created_at AT TIME ZONE 'UTC')::date)
            UNION ALL
            SELECT min(b.business_date) FROM exchange.settlement_batches b
             WHERE b.status = 'FAILED' AND b.business_date < p_business_date
        ) AS open_days;
        EXIT WHEN v_day IS NULL;
        v_batch := exchange._clear_day(v_day, v_actor);
        RETURN NEXT v_batch;
        IF v_batch.status <> 'COMPLETED' THEN
            RETURN;
        END IF;
    END LOOP;
    RETURN NEXT exchange._clear_day(p_business_date, v_actor);
END;
$$;
COMMENT ON FUNCTION exchange.run_clearing(date) IS
    'Clears a UTC business day (and earlier open days first): per-user nets, per-pair totals, trade/journal and reconcile checks, fee sweep to REVENUE; COMPLETED or FAILED with discrepancies (settlement:run). Raises EX320, EX321, EX421.';
REVOKE ALL ON FUNCTION exchange.run_clearing(date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.run_clearing(date) TO exchange_app;

-- exchange._clear_day(p_business_date date, p_actor bigint) RETURNS exchange.settlement_batches
-- Internal: clears one day (see exchange.run_clearing); the caller holds the clearing lock
-- and has cleared the earlier days. A COMPLETED day is returned unchanged.
-- Raises: EX101/EX010 from the sweep's posting (a bug: the FEE account holds the day's fees).
CREATE OR REPLACE FUNCTION exchange._clear_day(p_business_date date, p_actor bigint)
RETURNS exchange.settlement_batches
LANGUAGE plpgsql
AS $$
DECLARE
    v_batch    exchange.settlement_batches;
    v_cutoff   timestamptz;
    v_from     timestamptz := p_business_date::timestamp AT TIME ZONE 'UTC';
    v_count    bigint;
    v_problems bigint;
    v_pairs    integer[];
    v_jids     bigint[];
    r_type     text[] := '{}'::text[];
    r_rtype    text[] := '{}'::text[];
    r_rid      bigint[] := '{}'::bigint[];
    l_rec      integer[] := '{}'::integer[];
    l_acc      bigint[] := '{}'::bigint[];
    l_bucket   exchange.balance_bucket[] := '{}'::exchange.balance_bucket[];
    l_amt      numeric[] := '{}'::numeric[];
    v_p        record;
    v_r        integer;
BEGIN
    v_cutoff := LEAST(v_from + interval '1 day', now());
    SELECT b.* INTO v_batch FROM exchange.settlement_batches b
     WHERE b.business_date = p_business_date FOR UPDATE;
    IF v_batch.status = 'COMPLETED' THEN
        RETURN v_batch;
    ELSIF v_batch.status = 'FAILED' THEN
        DELETE FROM exchange.settlement_discrepancies WHERE batch_id = v_batch.id;
        DELETE FROM exchange.settlement_details WHERE batch_id = v_batch.id;
        DELETE FROM exchange.settlement_pair_totals WHERE batch_id = v_batch.id;
        UPDATE exchange.settlement_batches b
           SET status = 'RUNNING', finished_at = NULL, attempts = b.attempts + 1,
               cutoff_at = v_cutoff, run_by = p_actor, started_at = now(), trades_count = 0
         WHERE b.id = v_batch.id
        RETURNING b.* INTO v_batch;
    ELSE
        INSERT INTO exchange.settlement_batches AS b (business_date, cutoff_at, run_by)
        VALUES (p_business_date, v_cutoff, p_actor)
        RETURNING b.* INTO v_batch;
    END IF;

    -- 1. Take the trades: every unsettled trade created before the cutoff (normally the
    --    day's; also trades of an earlier day cleared before that day ended).
    UPDATE exchange.trades t SET settlement_batch_id = v_batch.id
     WHERE t.settlement_batch_id IS NULL AND t.created_at < v_cutoff;
    GET DIAGNOSTICS v_count = ROW_COUNT;

    -- 2. Nets per user and asset; totals per pair.
    INSERT INTO exchange.settlement_details (batch_id, user_id, asset_id, bought, sold, fees_paid, net)
    SELECT v_batch.id, m.user_id, m.asset_id, sum(m.bought), sum(m.sold), sum(m.fee),
           sum(m.bought) - sum(m.sold) - sum(m.fee)
      FROM exchange.trades t
      JOIN exchange.trading_pairs tp ON tp.id = t.trading_pair_id
     CROSS JOIN LATERAL (VALUES
           (t.buyer_user_id, tp.base_asset_id, t.amount::numeric, 0::numeric, t.buyer_fee::numeric),
           (t.buyer_user_id, tp.quote_asset_id, 0, t.quote_amount, 0),
           (t.seller_user_id, tp.base_asset_id, 0, t.amount, 0),
           (t.seller_user_id, tp.quote_asset_id, t.quote_amount, 0, t.seller_fee))
           AS m(user_id, asset_id, bought, sold, fee)
     WHERE t.settlement_batch_id = v_batch.id
     GROUP BY m.user_id, m.asset_id;
    INSERT INTO exchange.settlement_pair_totals
        (batch_id, trading_pair_id, trades_count, volume, quote_volume, base_fees, quote_fees)
    SELECT v_batch.id, t.trading_pair_id, count(*), sum(t.amount), sum(t.quote_amount),
           sum(t.buyer_fee), sum(t.seller_fee)
      FROM exchange.trades t
     WHERE t.settlement_batch_id = v_batch.id
     GROUP BY t.trading_pair_id;

    -- 3. The checks: trades against their journal records, then the whole ledger.
    INSERT INTO exchange.settlement_discrepancies (batch_id, kind, detail)
    WITH bt AS (
        SELECT t.id, t.trading_pair_id, t.buyer_user_id, t.seller_user_id, t.amount,
               t.quote_amount, t.buyer_fee, t.seller_fee
          FROM exchange.trades t
         WHERE t.settlement_batch_id = v_batch.id
    ), implied AS (
        SELECT bt.id AS trade_id, x.account_id, sum(x.amount) AS amount
          FROM bt
          JOIN exchange.trading_pairs tp ON tp.id = bt.trading_pair_id
          JOIN exchange.market_state ms ON ms.trading_pair_id = bt.trading_pair_id
          LEFT JOIN exchange.accounts bb
                 ON bb.kind = 'USER' AND bb.user_id = bt.buyer_user_id AND bb.asset_id = tp.base_asset_id
          LEFT JOIN exchange.accounts bq
                 ON bq.kind = 'USER' AND bq.user_id = bt.buyer_user_id AND bq.asset_id = tp.quote_asset_id
          LEFT JOIN exchange.accounts sb
                 ON sb.kind = 'USER' AND sb.user_id = bt.seller_user_id AND sb.asset_id = tp.base_asset_id
          LEFT JOIN exchange.accounts sq
                 ON sq.kind = 'USER' AND sq.user_id = bt.seller_user_id AND sq.asset_id = tp.quote_asset_id
         CROSS JOIN LATERAL (VALUES
               (bb.id, (bt.amount - bt.buyer_fee)::numeric),
               (bq.id, -bt.quote_amount::numeric),
               (sb.id, -bt.amount::numeric),
               (sq.id, (bt.quote_amount - bt.seller_fee)::numeric),
               (ms.fee_base_account_id, bt.buyer_fee::numeric),
               (ms.fee_quote_account_id, bt.seller_fee::numeric)) AS x(account_id, amount)
         GROUP BY bt.id, x.account_id
        HAVING sum(x.amount) <> 0
    ), posted AS (
        SELECT j.reference_id AS trade_id, e.account_id, sum(e.amount) AS amount,
               array_agg(DISTINCT j.id) AS journal_ids,
               array_agg(e.id ORDER BY e.id) AS entry_ids
          FROM exchange.journal j
          JOIN exchange.transactions e ON e.journal_id = j.id
         WHERE j.reference_type = 'TRADE' AND j.reference_id IN (SELECT bt.id FROM bt)
         GROUP BY j.reference_id, e.account_id
    )
    SELECT v_batch.id, 'TRADE_JOURNAL_MISMATCH',
           jsonb_build_object(
               'trade_id', COALESCE(i.trade_id, p.trade_id),
               'account_id', COALESCE(i.account_id, p.account_id),
               'user_id', acc.user_id, 'account_kind', acc.kind, 'asset', a.symbol,
               'expected', trim_scale(COALESCE(i.amount, 0))::text,
               'posted', trim_scale(COALESCE(p.amount, 0))::text,
               'journal_ids', COALESCE(to_jsonb(p.journal_ids), '[]'::jsonb),
               'entry_ids', COALESCE(to_jsonb(p.entry_ids), '[]'::jsonb))
      FROM implied i
      FULL JOIN posted p ON p.trade_id = i.trade_id AND p.account_id = i.account_id
      LEFT JOIN exchange.accounts acc ON acc.id = COALESCE(i.account_id, p.account_id)
      LEFT JOIN exchange.assets a ON a.id = acc.asset_id
     WHERE COALESCE(i.amount, 0) <> COALESCE(p.amount, 0)
     ORDER BY COALESCE(i.trade_id, p.trade_id), COALESCE(i.account_id, p.account_id);

    INSERT INTO exchange.settlement_discrepancies (batch_id, kind, detail)
    SELECT v_batch.id, 'JOURNAL_WITHOUT_TRADE',
           jsonb_build_object('journal_id', j.id, 'type', j.type, 'trade_id', j.reference_id,
                              'created_at', j.created_at)
      FROM exchange.journal j
     WHERE j.reference_type = 'TRADE'
       AND j.created_at >= v_from AND j.created_at < v_cutoff
       AND NOT EXISTS (SELECT 1 FROM exchange.trades t WHERE t.id = j.reference_id)
     ORDER BY j.id;

    INSERT INTO exchange.settlement_discrepancies (batch_id, kind, detail)
    SELECT v_batch.id, 'RECONCILE', to_jsonb(r)
      FROM exchange.reconcile() AS r;

    SELECT count(*) INTO v_problems FROM exchange.settlement_discrepancies d
     WHERE d.batch_id = v_batch.id;
    IF v_problems > 0 THEN
        UPDATE exchange.trades t SET settlement_batch_id = NULL
         WHERE t.settlement_batch_id = v_batch.id;
        UPDATE exchange.settlement_batches b
           SET status = 'FAILED', finished_at = clock_timestamp(), trades_count = v_count
         WHERE b.id = v_batch.id
        RETURNING b.* INTO v_batch;
        PERFORM exchange._audit_action('RUN_CLEARING', 'settlement_batches', v_batch.id::text,
            jsonb_build_object('business_date', p_business_date, 'status', 'FAILED',
                               'discrepancies', v_problems));
        RETURN v_batch;
    END IF;

    -- 4. The sweep: per pair, its fees from its FEE accounts to REVENUE, one record each.
    v_pairs := '{}'::integer[];
    FOR v_p IN
        SELECT pt.trading_pair_id, pt.base_fees, pt.quote_fees, tp.base_asset_id,
               tp.quote_asset_id, ms.fee_base_account_id, ms.fee_quote_account_id
          FROM exchange.settlement_pair_totals pt
          JOIN exchange.trading_pairs tp ON tp.id = pt.trading_pair_id
          JOIN exchange.market_state ms ON ms.trading_pair_id = pt.trading_pair_id
         WHERE pt.batch_id = v_batch.id AND (pt.base_fees > 0 OR pt.quote_fees > 0)
         ORDER BY pt.trading_pair_id
    LOOP
        r_type := array_append(r_type, 'FEE_SWEEP');
        r_rtype := array_append(r_rtype, 'SETTLEMENT_BATCH');
        r_rid := array_append(r_rid, v_batch.id);
        v_r := cardinality(r_type);
        v_pairs := array_append(v_pairs, v_p.trading_pair_id);
        IF v_p.base_fees > 0 THEN
            l_rec := l_rec || ARRAY[v_r, v_r];
            l_acc := l_acc || ARRAY[v_p.fee_base_account_id,
                                    exchange._system_account('REVENUE', v_p.base_asset_id)];
            l_bucket := l_bucket || ARRAY['AVAILABLE', 'AVAILABLE']::exchange.balance_bucket[];
            l_amt := l_amt || ARRAY[-v_p.base_fees, v_p.base_fees]::numeric[];
        END IF;
        IF v_p.quote_fees > 0 THEN
            l_rec := l_rec || ARRAY[v_r, v_r];
            l_acc := l_acc || ARRAY[v_p.fee_quote_account_id,
                                    exchange._system_account('REVENUE', v_p.quote_asset_id)];
            l_bucket := l_bucket || ARRAY['AVAILABLE', 'AVAILABLE']::exchange.balance_bucket[];
            l_amt := l_amt || ARRAY[-v_p.quote_fees, v_p.quote_fees]::numeric[];
        END IF;
    END LOOP;
    IF cardinality(r_type) > 0 THEN
        v_jids := exchange._post_journals(r_type, r_rtype, r_rid, l_rec, l_acc, l_bucket, l_amt);
        UPDATE exchange.settlement_pair_totals pt SET sweep_journal_id = s.jid
          FROM unnest(v_pairs, v_jids) AS s(pair, jid)
         WHERE pt.batch_id = v_batch.id AND pt.trading_pair_id = s.pair;
    END IF;

    UPDATE exchange.settlement_batches b
       SET status = 'COMPLETED', finished_at = clock_timestamp(), trades_count = v_count
     WHERE b.id = v_batch.id
    RETURNING b.* INTO v_batch;
    PERFORM exchange._audit_action('RUN_CLEARING', 'settlement_batches', v_batch.id::text,
        jsonb_build_object('business_date', p_business_date, 'status', 'COMPLETED',
                           'trades', v_count));
    RETURN v_batch;
END;
$$;
COMMENT ON FUNCTION exchange._clear_day(date, bigint) IS
    'Internal: clears one business day (see run_clearing): batch, nets, pair totals, checks, sweep or FAILED with discrepancies.';
REVOKE ALL ON FUNCTION exchange._clear_day(date, bigint) FROM PUBLIC;
