-- exchange.place_orders(p_orders exchange.order_request[]) RETURNS SETOF exchange.order_result
-- Places a batch of orders, in array order, and returns each as it stands at the end of the
-- call (for a client_order_id already used by the user: the original order, nothing done).
-- Each order is validated, its funds held, matched against the book in price-time priority
-- (trades at the resting order's price), settled through the ledger, and rests (GTC limit)
-- or ends. Stop orders wait in exchange.stop_orders (status PENDING, funds held) and trigger,
-- in order of stop price then time, when a trade moves the last price through their stop;
-- they match in the same call. The batch is atomic: a refusal refuses the whole batch.
-- A combined batch of exchange.submit_order (setting exchange.combined_batch = on, set by
-- exchange._process_order_requests only) checks each order's funds as if the batch's earlier
-- orders were already posted, returns each order as it stood right after its own placement
-- (and the stops it triggered), and a risk REJECT in it raises EX230 (the batch is a trial).
--
-- Stages (docs/trading.md, "The engine"), in this file in this order (steps in brackets):
--   lock      the batch's markets, then the users that may write counter rows (1, 1b);
--   look up   every request's user, accounts and KYC rule in one query
--             (exchange._order_parties);
--   validate  each request against the enums and its pair's rules
--             (exchange._check_order_request, which reads nothing), its client order id,
--             its user, KYC level and risk rules (2a-2d, 3); a stop order waits (4);
--   walk      the book in price-time priority, collecting fills and self-trade expiries, and
--             decide the outcome (5, 6: inline, because the walk's state is the order's);
--   record    the order, its trades, its makers' fills, journal legs and events in arrays;
--             the book rows change at once, because the next order of the batch walks them
--             (7);
--   write     once per batch, one statement per table: the new orders, the trades and the
--             makers' summed fills (exchange._write_order_batch), then the results, read
--             back in one statement (a combined batch: both after each request), then all
--             postings (exchange._post_journals), the markets' state, outbox events and
--             K-lines (exchange._write_market_batch) (8).
-- Per order (see docs/trading.md for every rule):
--   LIMIT            price, amount; GTC rests, IOC expires the rest, FOK fills all or refuses.
--   MARKET           amount (base), or quote_amount for a buy (spend that much quote).
--   LIMIT_MAKER      post-only limit: refused if it would take liquidity.
--   STOP_LOSS        stop_price, amount (or quote_amount for a buy): a market order once the
--                    last price reaches stop_price.
--   STOP_LOSS_LIMIT  stop_price, price, amount: a limit order once triggered.
--   stp_mode         EXPIRE_MAKER | EXPIRE_TAKER | EXPIRE_BOTH, default the pair's.
-- Holds: a sell holds its base amount; a limit buy price x amount of quote (fees are charged
-- in the asset each side receives, so a buy owes no fee in quote); a market buy by quote its
-- quote amount; a market buy by base exactly the cost of its fills; a stop-loss buy its quote
-- amount, or amount x stop price (the budget it may spend once triggered).
-- Fees: rate x what each side receives, rounded DOWN to that asset's decimals, per trade,
-- credited to the pair's FEE account of that asset.
--
-- Access: each order's user must be the acting user (exchange._authorize_for_user; a DBA
-- session without an acting user may place for anyone). Raises EX320, EX360, EX303, EX321, EX322.
-- Raises: EX201 unknown pair, EX202 pair halted, EX203 unknown side, EX204 unknown type,
--         EX205 unknown or unusable time in force, EX206 unknown STP mode, EX207 price or
--         stop price missing, EX208 price, stop price or quote amount superfluous,
--         EX209 amount not positive or not given, EX210 price finer than the tick,
--         EX211 amount finer than the step, EX212 below the minimum amount, EX213 below the
--         minimum notional, EX214 LIMIT_MAKER would take liquidity, EX215 FOK cannot fill,
--         EX218 client order id claimed by a concurrent call, EX219 user may not trade,
--         EX404 refused by a risk rule, EX406 refused and user suspended by a risk rule,
--         EX335 KYC level may not trade, EX336 KYC daily trade limit (exchange._check_kyc_limit,
--         per order), EX101 insufficient funds, EX010 (a bug).
-- Locks: the markets of the batch (pg_advisory_xact_lock(1601, pair id)) in ascending pair
--        id, first; a batch then takes pg_advisory_xact_lock_shared(1604, 0) (the counter
--        rules cannot change under it); then the batch's users that may write a counter row
--        (pg_advisory_xact_lock(1603, user id)) in ascending id (a single order: its user);
--        under them the users' KYC counter rows of the day (levels with a daily
--        limit) and ORDER_RATE counter rows (rate rules); then,
--        at the end, every account touched, in ascending id, in one
--        exchange._post_journals call (netted across the batch).
CREATE OR REPLACE FUNCTION exchange.place_orders(p_orders exchange.order_request[])
RETURNS SETOF exchange.order_result
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
-- Every statement here is keyed (pair, order id, account id): generic plans are right for all
-- of them, and re-planning custom plans over the partitioned tables on each call would cost
-- more than the statements themselves.
SET plan_cache_mode = force_generic_plan
-- A generic plan is built once per session from the statistics of that moment: on a young
-- database the book and the orders are tiny, and a plan that scans them sequentially was kept
-- while they grew (each order then read every order and book row of the run, until
-- autovacuum's ANALYZE replaced the plan). Keyed lookups only, so no sequential scans.
SET enable_seqscan = off
SET enable_bitmapscan = off
-- Disabled scans add 1e10 to a plan's cost estimate, which passes jit_above_cost: a replayed
-- client_order_id spent ~180 ms JIT-compiling its fills query under the market lock.
SET jit = off
AS $$
DECLARE
    v_n             integer := COALESCE(cardinality(p_orders), 0);
    v_i             integer := 0;
    v_req           exchange.order_request;
    -- the current market (cached while consecutive orders share it)
    v_symbol        text;
    v_pair_id       integer;
    v_pair_status   exchange.pair_status;
    v_base_asset    integer;
    v_quote_asset   integer;
    v_price_prec    integer;
    v_amount_prec   integer;
    v_min_amount    numeric;
    v_min_notional  numeric;
    v_taker_rate    numeric;
    v_maker_rate    numeric;
    v_pair_stp      exchange.stp_mode;
    v_base_dec      integer;
    v_quote_dec     integer;
    v_fee_base      bigint;
    v_fee_quote     bigint;
    v_last          numeric;
    v_risk          exchange.order_risk_limits;   -- the market's order risk rules, folded
    v_k             integer;
    v_acc           bigint;
    -- per-market state of the batch
    ms_pair         integer[] := '{}'::integer[];
    ms_last         numeric[] := '{}'::numeric[];
    ms_inc          bigint[] := '{}'::bigint[];
    -- the order being processed
    v_triggered     boolean;
    v_checked       record;
    v_parties       exchange._order_party[];    -- exchange._order_parties: element i for order i
    v_party         exchange._order_party;
    v_user          bigint;
    v_user_status   exchange.user_status;
    v_kyc_allowed   boolean;
    v_kyc_limit     numeric;
    v_side          exchange.order_side;
    v_type          exchange.order_type;
    v_tif           exchange.time_in_force;
    v_stp           exchange.stp_mode;
    v_amount        numeric;
    v_price         numeric;
    v_stop          numeric;
    v_quote_amt     numeric;
    v_coid          text;
    v_oid           bigint;
    v_ocreated      timestamptz;
    v_base_acc      bigint;
    v_quote_acc     bigint;
    v_base_avail    numeric;
    v_quote_avail   numeric;
    v_hold          numeric;
    v_hold_acc      bigint;         -- the taker's account it holds (and pays) from
    v_get_acc       bigint;         -- the taker's account it receives into
    v_fee_give      bigint;         -- the FEE account of what the taker gives
    v_fee_get       bigint;         -- the FEE account of what the taker receives
    v_mk_give_acc   bigint;         -- the maker's account it pays from (its hold)
    v_mk_get_acc    bigint;         -- the maker's account it receives into
    v_give          numeric;        -- what one fill moves from taker to maker
    v_get           numeric;        -- what one fill moves from maker to taker
    v_paid          numeric;        -- what one fill takes from the taker's hold
    v_limit         numeric;
    v_rem           numeric;
    v_budget        numeric;
    v_filled        numeric;
    v_filled_quote  numeric;
    v_fee_paid      numeric;
    v_consumed      numeric;
    v_rest_hold     numeric;
    v_status        exchange.order_status;
    v_rests         boolean;
    v_exhausted     boolean;
    v_taker_expire  boolean;
    v_cur           refcursor;
    v_m             record;
    v_o             record;
    v_qty           numeric;
    v_q             numeric;
    v_afford        numeric;
    v_tfee          numeric;
    v_mfee          numeric;
    v_r             integer;
    v_check_pair    integer;
    v_stop_id       bigint;
    v_stop_created  timestamptz;
    v_fills         jsonb;
    v_partial_id    bigint;
    v_partial_rem   numeric;
    v_book_changed  boolean;
    -- fills of the current order
    f_n             integer;
    f_tid           bigint[];
    f_mid           bigint[];
    f_mcreated      timestamptz[];
    f_muser         bigint[];
    f_price         numeric[];
    f_qty           numeric[];
    f_quote         numeric[];
    f_tfee          numeric[];
    f_mfee          numeric[];
    f_mbase         bigint[];
    f_mquote        bigint[];
    -- makers touched by the current order (fills and self-trade expiries)
    m_id            bigint[];
    m_created       timestamptz[];
    m_user          bigint[];
    m_qty           numeric[];
    m_quote         numeric[];
    m_fee           numeric[];
    m_rem           numeric[];
    m_hold          numeric[];
    m_status        exchange.order_status[];
    m_price         numeric[];
    m_acc           bigint[];
    m_release       numeric[];
    m_done          bigint[];
    -- journal records and legs of the whole batch
    r_type          text[] := '{}'::text[];
    r_rtype         text[] := '{}'::text[];
    r_rid           bigint[] := '{}'::bigint[];
    l_rec           integer[] := '{}'::integer[];
    l_acc           bigint[] := '{}'::bigint[];
    l_bucket        exchange.balance_bucket[] := '{}'::exchange.balance_bucket[];
    l_amt           numeric[] := '{}'::numeric[];
    -- trades of the whole batch (for the K-lines)
    t_pair          integer[] := '{}'::integer[];
    t_price         numeric[] := '{}'::numeric[];
    t_qty           numeric[] := '{}'::numeric[];
    t_quote         numeric[] := '{}'::numeric[];
    -- outbox events of the whole batch
    e_agg           text[] := '{}'::text[];
    e_aid           text[] := '{}'::text[];
    e_type          text[] := '{}'::text[];
    e_data          jsonb[] := '{}'::jsonb[];
    -- what the batch writes at its end, one statement per table (exchange._write_order_batch)
    w_orders        exchange._order_row[] := '{}'::exchange._order_row[];
    w_trades        exchange._trade_row[] := '{}'::exchange._trade_row[];
    w_fills         exchange._maker_fill[] := '{}'::exchange._maker_fill[];
    -- results
    res_id          bigint[] := '{}'::bigint[];
    res_created     timestamptz[] := '{}'::timestamptz[];
    res_fills       jsonb[] := '{}'::jsonb[];
    -- a combined batch of exchange.submit_order (exchange._process_order_requests): each
    -- order's funds are checked as if the batch's earlier orders were already posted
    v_combined      boolean := current_setting('exchange.combined_batch', true) = 'on';
    v_emitted       integer := 0;    -- results already returned
    v_next          integer;         -- the first result still to return
    -- what the stage functions return (assigned, not PERFORMed: a PERFORM runs a SELECT
    -- through the executor, an assignment calls the function directly)
    v_acting        bigint;
    v_written       integer;
    v_journals      bigint[];
BEGIN
    -- Access (docs/security.md): every order's user is the acting user, checked once per user.
    IF v_n = 1 THEN
        v_acting := exchange._authorize_for_user(p_orders[1].user_id);
    ELSIF v_n > 1 THEN
        PERFORM exchange._authorize_for_user(s.user_id)
           FROM (SELECT DISTINCT o.user_id FROM unnest(p_orders) o) s;
    END IF;
    IF v_n = 0 THEN
        RETURN;
    END IF;

    -- 1. The markets of the batch, locked in ascending id before anything else (one order:
    --    its pair by the symbol's key, no join).
    IF v_n = 1 THEN
        -- the market's lock, then (1b) its user's, in one statement (evaluated in this order)
        PERFORM pg_advisory_xact_lock(1601, tp.id),
                pg_advisory_xact_lock(1603, COALESCE((p_orders[1]).user_id % 2147483647, 0)::integer)
           FROM exchange.trading_pairs tp WHERE tp.symbol = (p_orders[1]).symbol;
    ELSE
        PERFORM pg_advisory_xact_lock(1601, p.id)
           FROM (SELECT DISTINCT tp.id FROM unnest(p_orders) AS r
                   JOIN exchange.trading_pairs tp ON tp.symbol = r.symbol
                  ORDER BY tp.id) AS p;
        -- the rules that decide which users write counter rows (step 1b) cannot change
        -- while a batch runs: their writers take this lock exclusively
        -- (exchange.tg_counter_rules__barrier)
        PERFORM pg_advisory_xact_lock_shared(1604, 0);
    END IF;
    -- 1b. The batch's users that may write a per-user counter row (the KYC daily usage of
    --     exchange._check_kyc_limit: a level with a TRADE daily limit; the ORDER_RATE rows of
    --     _check_order_risk: any active ORDER_RATE rule), in ascending key, before any such
    --     row: those rows are written only under their user's lock, so two calls never take
    --     them in opposite orders (docs/trading.md, "Why no deadlock is possible"). Users
    --     that write no counter take no lock, so batches sharing users run side by side; the
    --     lock 1604 above keeps this choice true until the end of the call. (The key is the
    --     user id modulo 2^31 - 1, sorted by key: two users sharing a key only take turns.)
    IF v_n > 1 THEN
        PERFORM pg_advisory_xact_lock(1603, u.k)
           FROM (SELECT DISTINCT (r.user_id % 2147483647)::integer AS k
                   FROM unnest(p_orders) AS r
                   JOIN exchange.users usr ON usr.id = r.user_id
                  WHERE EXISTS (SELECT 1 FROM exchange.kyc_limits kl
                                 WHERE kl.level = usr.kyc_level AND kl.action = 'TRADE'
                                   AND kl.daily_limit IS NOT NULL)
                     OR EXISTS (SELECT 1 FROM exchange.risk_rules rr
                                 WHERE rr.type = 'ORDER_RATE' AND rr.is_active)
                  ORDER BY 1) AS u;
    END IF;

    -- Every request's user status, accounts, balances and KYC rule, in one query.
    v_parties := exchange._order_parties(p_orders);

    -- 2. Orders in array order; a trade first lets the stops it triggers run.
    LOOP
        v_triggered := false;
        IF v_check_pair IS NOT NULL THEN
            v_stop_id := NULL;
            IF v_last IS NOT NULL THEN
                -- one statement, each side walking its own index (only one side can be
                -- through the last price after one taker's trades)
                SELECT x.order_id, x.order_created_at INTO v_stop_id, v_stop_created
                  FROM ((SELECT s.order_id, s.order_created_at FROM exchange.stop_orders s
                          WHERE s.trading_pair_id = v_check_pair AND s.side = 'BUY'
                            AND s.stop_price <= v_last
                          ORDER BY s.stop_price, s.seq
                          LIMIT 1)
                        UNION ALL
                        (SELECT s.order_id, s.order_created_at FROM exchange.stop_orders s
                          WHERE s.trading_pair_id = v_check_pair AND s.side = 'SELL'
                            AND s.stop_price >= v_last
                          ORDER BY s.stop_price DESC, s.seq
                          LIMIT 1)) AS x
                 LIMIT 1;
            END IF;
            IF v_stop_id IS NULL THEN
                v_check_pair := NULL;
            ELSE
                v_triggered := true;
            END IF;
        END IF;

        IF v_triggered THEN
            -- A triggered stop: load it as the taker (its market is the current one).
            DELETE FROM exchange.stop_orders WHERE order_id = v_stop_id;
            SELECT o.* INTO v_o FROM exchange.orders o
             WHERE o.id = v_stop_id AND o.created_at = v_stop_created;
            v_oid := v_o.id;
            v_ocreated := v_o.created_at;
            v_user := v_o.user_id;
            v_side := v_o.side;
            v_type := v_o.type;
            v_tif := v_o.time_in_force;
            v_stp := v_o.stp_mode;
            v_amount := v_o.amount;
            v_price := v_o.price;
            v_stop := v_o.stop_price;
            v_quote_amt := v_o.quote_amount;
            v_coid := v_o.client_order_id;
            v_hold := v_o.hold_amount;
        ELSE
            -- The results not yet returned, once the last request is placed; a combined
            -- batch answers each request as soon as it is placed, with its order as it
            -- stood then (and the stops it triggered), as if placed alone. The orders are
            -- written first, since the results read them back (the postings, markets and
            -- events, written after the loop, are not read). One result is read by its
            -- key, several in one statement, in request order (exchange._order_result,
            -- inlined).
            IF v_i >= v_n OR v_combined THEN
                IF cardinality(w_orders) > 0 OR cardinality(w_trades) > 0
                   OR cardinality(w_fills) > 0 THEN
                    v_written := exchange._write_order_batch(w_orders, w_trades, w_fills);
                    IF v_i < v_n THEN   -- a combined batch goes on
                        w_orders := '{}'; w_trades := '{}'; w_fills := '{}';
                    END IF;
                END IF;
                v_next := v_emitted + 1;
                IF cardinality(res_id) = v_next THEN
                    RETURN QUERY SELECT * FROM exchange._order_result(res_id[v_next],
                        res_created[v_next],
                        COALESCE(res_fills[v_next], exchange._order_fills(res_id[v_next])));
                ELSIF cardinality(res_id) > v_next THEN
                    RETURN QUERY SELECT r.*
                      FROM unnest(res_id[v_next:], res_created[v_next:], res_fills[v_next:])
                           WITH ORDINALITY AS u(id, created_at, fills, ord)
                     CROSS JOIN LATERAL exchange._order_result(
                                u.id, u.created_at, COALESCE(u.fills, exchange._order_fills(u.id))) AS r
                     ORDER BY u.ord;
                END IF;
                v_emitted := cardinality(res_id);
            END IF;
            v_i := v_i + 1;
            EXIT WHEN v_i > v_n;
            v_req := p_orders[v_i];

            -- 2a. The market (cached across consecutive orders of one market).
            IF v_symbol IS NULL OR v_req.symbol IS DISTINCT FROM v_symbol THEN
                IF v_pair_id IS NOT NULL THEN
                    ms_last[v_k] := v_last;
                END IF;
                SELECT tp.id, tp.status, tp.base_asset_id, tp.quote_asset_id, tp.price_precision,
                       tp.amount_precision, tp.min_order_amount, tp.min_notional,
                       tp.taker_fee_rate, tp.maker_fee_rate, tp.stp_mode, ba.decimals,
                       qa.decimals, ms.fee_base_account_id, ms.fee_quote_account_id,
                       ms.last_price
                  INTO v_pair_id, v_pair_status, v_base_asset, v_quote_asset, v_price_prec,
                       v_amount_prec, v_min_amount, v_min_notional, v_taker_rate,
                       v_maker_rate, v_pair_stp, v_base_dec, v_quote_dec, v_fee_base,
                       v_fee_quote, v_last
                  FROM exchange.trading_pairs tp
                  JOIN exchange.assets ba ON ba.id = tp.base_asset_id
                  JOIN exchange.assets qa ON qa.id = tp.quote_asset_id
                  JOIN exchange.market_state ms ON ms.trading_pair_id = tp.id
                 WHERE tp.symbol = v_req.symbol;
                IF NOT FOUND THEN
                    RAISE EXCEPTION USING ERRCODE = 'EX201',
                        MESSAGE = format('unknown trading pair %s', COALESCE(v_req.symbol, 'NULL')),
                        DETAIL = format('order %s of the batch', v_i),
                        HINT = 'List the pairs with exchange.get_trading_pairs().';
                END IF;
                v_symbol := v_req.symbol;
                SELECT (l.limits).* INTO v_risk FROM exchange.risk_order_limits l
                 WHERE l.trading_pair_id = v_pair_id;
                v_k := array_position(ms_pair, v_pair_id);
                IF v_k IS NULL THEN
                    ms_pair := array_append(ms_pair, v_pair_id);
                    ms_last := array_append(ms_last, v_last);
                    ms_inc := array_append(ms_inc, 0::bigint);
                    v_k := cardinality(ms_pair);
                ELSE
                    v_last := ms_last[v_k];
                END IF;
            END IF;
            IF v_pair_status <> 'TRADING' THEN
                RAISE EXCEPTION USING ERRCODE = 'EX202',
                    MESSAGE = format('trading pair %s is halted', v_symbol),
                    DETAIL = format('order %s of the batch; pair %s is HALTED', v_i, v_symbol),
                    HINT = 'A halted pair accepts cancels only.';
            END IF;

            -- 2b. The request, checked against the enums and the pair's rules (the validate
            --     stage: exchange._check_order_request, which reads nothing).
            v_user := v_req.user_id;
            v_amount := v_req.amount;
            v_price := v_req.price;
            v_stop := v_req.stop_price;
            v_quote_amt := v_req.quote_amount;
            v_coid := v_req.client_order_id;
            v_checked := exchange._check_order_request(
                v_req, v_i, v_symbol, v_pair_stp, v_price_prec, v_amount_prec, v_min_amount,
                v_min_notional, v_quote_dec);
            v_side := v_checked.side;
            v_type := v_checked.type;
            v_tif := v_checked.time_in_force;
            v_stp := v_checked.stp_mode;

            -- 2c. client_order_id: the same id again returns the original order, nothing else.
            IF v_coid IS NOT NULL THEN
                SELECT c.order_id, c.order_created_at INTO v_oid, v_ocreated
                  FROM exchange.client_order_ids c
                 WHERE c.user_id = v_user AND c.client_order_id = v_coid;
                IF FOUND THEN
                    res_id := array_append(res_id, v_oid);
                    res_created := array_append(res_created, v_ocreated);
                    res_fills := array_append(res_fills, NULL::jsonb);
                    CONTINUE;
                END IF;
            END IF;

            -- 2d. KYC limits (identity) and risk rules: evaluated in step 3, once the user is
            -- known to be ACTIVE, before any write, once per order.

            v_oid := nextval('exchange.orders_id_seq');
            v_ocreated := now();
            v_hold := NULL;
        END IF;

        -- 3. The taker's accounts (and that it may trade), and its KYC level's TRADE rule for
        --    the asset the order counts in: read for the whole batch at its start
        --    (exchange._order_parties). A triggered stop's user, KYC and funds were checked
        --    when it was placed: it needs only its accounts.
        IF v_triggered THEN
            v_base_acc := exchange._user_account(v_user, v_base_asset);
            v_quote_acc := exchange._user_account(v_user, v_quote_asset);
        ELSE
            v_party := v_parties[v_i];
            v_user_status := v_party.status;
            v_base_acc := v_party.base_account;
            v_base_avail := v_party.base_available;
            v_quote_acc := v_party.quote_account;
            v_quote_avail := v_party.quote_available;
            v_kyc_allowed := v_party.kyc_allowed;
            v_kyc_limit := v_party.kyc_daily_limit;
            IF v_user_status IS DISTINCT FROM 'ACTIVE' THEN
                RAISE EXCEPTION USING ERRCODE = 'EX219',
                    MESSAGE = format('user %s may not trade', COALESCE(v_user::text, 'NULL')),
                    DETAIL = format('status %s', COALESCE(v_user_status::text, 'unknown user')),
                    HINT = 'Only ACTIVE users place orders.';
            END IF;
        END IF;
        -- KYC (docs/security.md): the user's level must allow trading this much today: the
        -- base amount, or the quote amount of a buy by quote amount (one indexed lookup; a
        -- daily counter row only for levels with a limit). A triggered stop was counted when
        -- it was placed. The rule was read above: a level that may trade without a daily limit
        -- needs nothing more; otherwise the check refuses or counts (and locks the counter).
        IF NOT v_triggered AND (v_kyc_allowed IS NOT TRUE OR v_kyc_limit IS NOT NULL) THEN
            PERFORM exchange._check_kyc_limit(
                v_user, 'TRADE',
                CASE WHEN v_quote_amt IS NULL THEN v_base_asset ELSE v_quote_asset END,
                COALESCE(v_amount, v_quote_amt));
        END IF;
        -- Risk rules (docs/risk.md): a new order, before anything of it is written; a cheap
        -- threshold check unless a rule is hit (FLAG records an event, REJECT raises EX404).
        IF NOT v_triggered AND v_risk.any_rule THEN
            PERFORM exchange._check_order_risk(v_risk, v_user, v_symbol, v_side, v_type,
                                               v_amount, v_price, v_stop, v_quote_amt, v_last);
        END IF;
        IF v_base_acc IS NULL THEN
            v_base_acc := exchange._user_account(v_user, v_base_asset);
            v_base_avail := 0;
        END IF;
        IF v_quote_acc IS NULL THEN
            v_quote_acc := exchange._user_account(v_user, v_quote_asset);
            v_quote_avail := 0;
        END IF;
        v_hold_acc := CASE v_side WHEN 'BUY' THEN v_quote_acc ELSE v_base_acc END;
        IF v_combined AND NOT v_triggered AND cardinality(l_acc) > 0 THEN
            -- what the batch's earlier orders move on these accounts (not yet posted), so
            -- that each order is checked exactly as if it had been placed alone, in turn
            SELECT v_base_avail + COALESCE(sum(x.amt) FILTER (WHERE x.acc = v_base_acc), 0),
                   v_quote_avail + COALESCE(sum(x.amt) FILTER (WHERE x.acc = v_quote_acc), 0)
              INTO v_base_avail, v_quote_avail
              FROM unnest(l_acc, l_bucket, l_amt) AS x(acc, bucket, amt)
             WHERE x.bucket = 'AVAILABLE';
        END IF;

        -- 4. A new stop order waits, with its funds held.
        IF NOT v_triggered AND v_type IN ('STOP_LOSS', 'STOP_LOSS_LIMIT') THEN
            v_hold := CASE
                WHEN v_side = 'SELL' THEN v_amount
                WHEN v_type = 'STOP_LOSS_LIMIT' THEN v_price * v_amount
                ELSE COALESCE(v_quote_amt, v_stop * v_amount) END;
            IF v_hold > (CASE v_side WHEN 'BUY' THEN v_quote_avail ELSE v_base_avail END) THEN
                RAISE EXCEPTION USING ERRCODE = 'EX101',
                    MESSAGE = 'insufficient funds for the order''s hold',
                    DETAIL = format('hold %s, available %s', trim_scale(v_hold),
                        trim_scale(CASE v_side WHEN 'BUY' THEN v_quote_avail ELSE v_base_avail END)),
                    HINT = 'Deposit more, or place a smaller order.';
            END IF;
            INSERT INTO exchange.orders
                (id, user_id, trading_pair_id, client_order_id, type, side, time_in_force,
                 stp_mode, amount, quote_amount, price, stop_price, remaining_amount,
                 hold_amount, status, created_at)
            OVERRIDING SYSTEM VALUE
            VALUES (v_oid, v_user, v_pair_id, v_coid, v_type, v_side, v_tif, v_stp, v_amount,
                    v_quote_amt, v_price, v_stop, COALESCE(v_amount, 0), v_hold, 'PENDING',
                    v_ocreated);
            INSERT INTO exchange.stop_orders
                (order_id, order_created_at, trading_pair_id, side, stop_price, seq, user_id)
            VALUES (v_oid, v_ocreated, v_pair_id, v_side, v_stop,
                    nextval('exchange.order_book_seq'), v_user);
            IF v_coid IS NOT NULL THEN
                INSERT INTO exchange.client_order_ids
                VALUES (v_user, v_coid, v_oid, v_ocreated)
                ON CONFLICT DO NOTHING;
                IF NOT FOUND THEN
                    RAISE EXCEPTION USING ERRCODE = 'EX218',
                        MESSAGE = format('client order id %s was claimed by a concurrent call', v_coid),
                        DETAIL = format('order %s of the batch', v_i),
                        HINT = 'Retry: the call will return the order that claimed it.';
                END IF;
            END IF;
            r_type := array_append(r_type, 'ORDER_HOLD');
            r_rtype := array_append(r_rtype, 'ORDER');
            r_rid := array_append(r_rid, v_oid);
            v_r := cardinality(r_type);
            l_rec := array_append(l_rec, v_r); l_acc := array_append(l_acc, v_hold_acc);
            l_bucket := array_append(l_bucket, 'AVAILABLE'); l_amt := array_append(l_amt, -v_hold);
            l_rec := array_append(l_rec, v_r); l_acc := array_append(l_acc, v_hold_acc);
            l_bucket := array_append(l_bucket, 'FROZEN'); l_amt := array_append(l_amt, v_hold);
            e_agg := array_append(e_agg, 'order'); e_aid := array_append(e_aid, v_oid::text);
            e_type := array_append(e_type, 'order_placed');
            e_data := array_append(e_data, jsonb_build_object(
                'order_id', v_oid, 'user_id', v_user, 'pair_id', v_pair_id, 'symbol', v_symbol,
                'side', v_side, 'order_type', v_type, 'time_in_force', v_tif,
                'price', v_price::text, 'stop_price', v_stop::text, 'quantity', v_amount::text,
                'quote_quantity', v_quote_amt::text, 'status', 'PENDING'));
            res_id := array_append(res_id, v_oid);
            res_created := array_append(res_created, v_ocreated);
            res_fills := array_append(res_fills, '[]'::jsonb);
            v_check_pair := v_pair_id;   -- it triggers at once if the last price is already through
            CONTINUE;
        END IF;

        -- 5. Walk the book (the market is locked, so it cannot change): collect the fills and
        --    the self-trade expiries. Nothing is written yet.
        v_limit := CASE WHEN v_type IN ('LIMIT', 'LIMIT_MAKER', 'STOP_LOSS_LIMIT') THEN v_price END;
        v_rem := v_amount;
        v_budget := CASE
            WHEN v_side = 'BUY' AND v_type = 'MARKET' THEN v_quote_amt
            WHEN v_side = 'BUY' AND v_type = 'STOP_LOSS' THEN v_hold END;
        f_n := 0;
        v_fills := '[]'::jsonb;
        f_tid := '{}'::bigint[]; f_mid := '{}'::bigint[]; f_mcreated := '{}'::timestamptz[]; f_muser := '{}'::bigint[]; f_price := '{}'::numeric[];
        f_qty := '{}'::numeric[]; f_quote := '{}'::numeric[]; f_tfee := '{}'::numeric[]; f_mfee := '{}'::numeric[]; f_mbase := '{}'::bigint[]; f_mquote := '{}'::bigint[];
        m_id := '{}'::bigint[]; m_created := '{}'::timestamptz[]; m_user := '{}'::bigint[]; m_qty := '{}'::numeric[]; m_quote := '{}'::numeric[];
        m_fee := '{}'::numeric[]; m_rem := '{}'::numeric[]; m_hold := '{}'::numeric[]; m_status := '{}'::exchange.order_status[]; m_done := '{}'::bigint[];
        m_price := '{}'::numeric[]; m_acc := '{}'::bigint[]; m_release := '{}'::numeric[];
        v_exhausted := false;
        v_taker_expire := false;
        v_filled := 0;
        v_filled_quote := 0;
        v_fee_paid := 0;
        v_consumed := 0;
        v_partial_id := NULL;

        IF v_side = 'BUY' THEN
            IF v_limit IS NULL THEN
                OPEN v_cur FOR
                    SELECT b.order_id, b.order_created_at, b.user_id, b.price, b.remaining,
                           b.base_account_id, b.quote_account_id
                      FROM exchange.order_book b
                     WHERE b.trading_pair_id = v_pair_id AND b.side = 'SELL'
                     ORDER BY b.price, b.seq;
            ELSE
                OPEN v_cur FOR
                    SELECT b.order_id, b.order_created_at, b.user_id, b.price, b.remaining,
                           b.base_account_id, b.quote_account_id
                      FROM exchange.order_book b
                     WHERE b.trading_pair_id = v_pair_id AND b.side = 'SELL'
                       AND b.price <= v_limit
                     ORDER BY b.price, b.seq;
            END IF;
        ELSE
            IF v_limit IS NULL THEN
                OPEN v_cur FOR
                    SELECT b.order_id, b.order_created_at, b.user_id, b.price, b.remaining,
                           b.base_account_id, b.quote_account_id
                      FROM exchange.order_book b
                     WHERE b.trading_pair_id = v_pair_id AND b.side = 'BUY'
                     ORDER BY b.price DESC, b.seq;
            ELSE
                OPEN v_cur FOR
                    SELECT b.order_id, b.order_created_at, b.user_id, b.price, b.remaining,
                           b.base_account_id, b.quote_account_id
                      FROM exchange.order_book b
                     WHERE b.trading_pair_id = v_pair_id AND b.side = 'BUY'
                       AND b.price >= v_limit
                     ORDER BY b.price DESC, b.seq;
            END IF;
        END IF;
        LOOP
            FETCH v_cur INTO v_m;
            IF NOT FOUND THEN
                v_exhausted := true;
                EXIT;
            END IF;
            IF v_type = 'LIMIT_MAKER' THEN
                RAISE EXCEPTION USING ERRCODE = 'EX214',
                    MESSAGE = format('LIMIT_MAKER order at %s would take liquidity', trim_scale(v_price)),
                    DETAIL = format('best opposite price %s', trim_scale(v_m.price)),
                    HINT = 'A post-only order must not cross the book; change its price.';
            END IF;
            IF v_m.user_id = v_user THEN
                -- self-trade prevention
                IF v_stp IN ('EXPIRE_MAKER', 'EXPIRE_BOTH') THEN
                    m_id := array_append(m_id, v_m.order_id);
                    m_created := array_append(m_created, v_m.order_created_at);
                    m_user := array_append(m_user, v_m.user_id);
                    m_qty := array_append(m_qty, 0::numeric);
                    m_quote := array_append(m_quote, 0::numeric);
                    m_fee := array_append(m_fee, 0::numeric);
                    m_rem := array_append(m_rem, v_m.remaining);
                    m_hold := array_append(m_hold, 0::numeric);
                    m_status := array_append(m_status, 'EXPIRED'::exchange.order_status);
                    m_done := array_append(m_done, v_m.order_id);
                    m_price := array_append(m_price, v_m.price);
                    -- the maker's whole hold goes back (a sell maker holds base, a buy maker quote)
                    m_acc := array_append(m_acc, CASE v_side WHEN 'BUY' THEN v_m.base_account_id
                                                             ELSE v_m.quote_account_id END);
                    m_release := array_append(m_release, CASE v_side WHEN 'BUY' THEN v_m.remaining
                                                                     ELSE v_m.price * v_m.remaining END);
                END IF;
                IF v_stp IN ('EXPIRE_TAKER', 'EXPIRE_BOTH') THEN
                    v_taker_expire := true;
                    EXIT;
                END IF;
                CONTINUE;
            END IF;
            v_qty := v_m.remaining;
            IF v_rem IS NOT NULL AND v_rem < v_qty THEN
                v_qty := v_rem;
            END IF;
            IF v_budget IS NOT NULL THEN
                v_afford := trunc((v_budget - v_consumed) / v_m.price, v_amount_prec);
                IF v_afford * v_m.price > v_budget - v_consumed THEN
                    v_afford := v_afford - power(10::numeric, -v_amount_prec);
                END IF;
                IF v_afford < v_qty THEN
                    v_qty := v_afford;
                END IF;
                EXIT WHEN v_qty <= 0;
            END IF;
            v_q := v_qty * v_m.price;
            IF v_side = 'BUY' THEN
                v_tfee := trunc(v_qty * v_taker_rate, v_base_dec);
                v_mfee := trunc(v_q * v_maker_rate, v_quote_dec);
            ELSE
                v_tfee := trunc(v_q * v_taker_rate, v_quote_dec);
                v_mfee := trunc(v_qty * v_maker_rate, v_base_dec);
            END IF;
            f_n := f_n + 1;
            f_tid := array_append(f_tid, nextval('exchange.trades_id_seq'));
            f_mid := array_append(f_mid, v_m.order_id);
            f_mcreated := array_append(f_mcreated, v_m.order_created_at);
            f_muser := array_append(f_muser, v_m.user_id);
            f_price := array_append(f_price, v_m.price);
            f_qty := array_append(f_qty, v_qty);
            f_quote := array_append(f_quote, v_q);
            f_tfee := array_append(f_tfee, v_tfee);
            f_mfee := array_append(f_mfee, v_mfee);
            f_mbase := array_append(f_mbase, v_m.base_account_id);
            f_mquote := array_append(f_mquote, v_m.quote_account_id);
            v_fills := v_fills || jsonb_build_object(
                'trade_id', f_tid[f_n], 'maker_order_id', v_m.order_id,
                'price', trim_scale(v_m.price)::text, 'amount', trim_scale(v_qty)::text,
                'quote_amount', trim_scale(v_q)::text, 'fee', trim_scale(v_tfee)::text);
            m_price := array_append(m_price, v_m.price);
            m_acc := array_append(m_acc, NULL::bigint);
            m_release := array_append(m_release, 0::numeric);
            m_id := array_append(m_id, v_m.order_id);
            m_created := array_append(m_created, v_m.order_created_at);
            m_user := array_append(m_user, v_m.user_id);
            m_qty := array_append(m_qty, v_qty);
            m_quote := array_append(m_quote, v_q);
            m_fee := array_append(m_fee, v_mfee);
            m_rem := array_append(m_rem, v_m.remaining - v_qty);
            m_hold := array_append(m_hold, CASE v_side WHEN 'BUY' THEN v_m.remaining - v_qty
                                                       ELSE (v_m.remaining - v_qty) * v_m.price END);
            IF v_qty = v_m.remaining THEN
                m_status := array_append(m_status, 'FILLED'::exchange.order_status);
                m_done := array_append(m_done, v_m.order_id);
            ELSE
                m_status := array_append(m_status, 'PARTIALLY_FILLED'::exchange.order_status);
                v_partial_id := v_m.order_id;
                v_partial_rem := v_m.remaining - v_qty;
            END IF;
            v_filled := v_filled + v_qty;
            v_filled_quote := v_filled_quote + v_q;
            v_fee_paid := v_fee_paid + v_tfee;
            -- what this fill takes from the taker's hold
            v_consumed := v_consumed + CASE
                WHEN v_side = 'SELL' THEN v_qty
                WHEN v_limit IS NOT NULL THEN v_limit * v_qty
                ELSE v_q END;
            IF v_rem IS NOT NULL THEN
                v_rem := v_rem - v_qty;
                EXIT WHEN v_rem = 0;
            END IF;
            -- a budget that is spent, or cannot buy this level's rest, ends the walk (FILLED)
            EXIT WHEN v_budget IS NOT NULL
                  AND (v_consumed = v_budget OR v_qty < v_m.remaining);
        END LOOP;
        CLOSE v_cur;

        -- 6. The outcome.
        IF v_tif = 'FOK' AND v_filled < v_amount THEN
            IF NOT v_triggered THEN
                RAISE EXCEPTION USING ERRCODE = 'EX215',
                    MESSAGE = format('FOK order for %s cannot fill completely', trim_scale(v_amount)),
                    DETAIL = format('fillable now: %s', trim_scale(v_filled)),
                    HINT = 'Nothing was done; use IOC to take what the book offers.';
            END IF;
            -- a triggered FOK stop-limit that cannot fill expires untouched
            f_n := 0;
            v_fills := '[]'::jsonb;
            m_id := '{}'::bigint[]; m_done := '{}'::bigint[];
            v_partial_id := NULL;
            v_filled := 0; v_filled_quote := 0; v_fee_paid := 0; v_consumed := 0;
            v_taker_expire := true;
        END IF;
        v_rests := NOT v_taker_expire AND v_limit IS NOT NULL AND v_tif = 'GTC'
                   AND v_rem > 0;
        IF v_taker_expire THEN
            v_status := 'EXPIRED';
        ELSIF v_rem = 0 THEN
            v_status := 'FILLED';
        ELSIF v_rests THEN
            v_status := CASE WHEN v_filled > 0 THEN 'PARTIALLY_FILLED'::exchange.order_status
                             ELSE 'NEW'::exchange.order_status END;
        ELSIF v_rem IS NULL AND NOT v_exhausted THEN
            v_status := 'FILLED';          -- a buy by quote amount that spent what it could
        ELSE
            v_status := 'EXPIRED';
        END IF;

        IF NOT v_triggered THEN
            -- the hold, checked against the available balance read above (the posting's
            -- balance check is the final guard)
            v_hold := CASE
                WHEN v_side = 'SELL' THEN v_amount
                WHEN v_limit IS NOT NULL THEN v_limit * v_amount
                WHEN v_quote_amt IS NOT NULL THEN v_quote_amt
                ELSE v_filled_quote END;
            IF v_hold > (CASE v_side WHEN 'BUY' THEN v_quote_avail ELSE v_base_avail END) THEN
                RAISE EXCEPTION USING ERRCODE = 'EX101',
                    MESSAGE = 'insufficient funds for the order''s hold',
                    DETAIL = format('hold %s, available %s', trim_scale(v_hold),
                        trim_scale(CASE v_side WHEN 'BUY' THEN v_quote_avail ELSE v_base_avail END)),
                    HINT = 'Deposit more, or place a smaller order.';
            END IF;
        END IF;
        v_rest_hold := CASE WHEN v_rests THEN v_hold - v_consumed ELSE 0 END;

        -- 7. Record: the order, its trades, the makers (written in step 8), the book (now).
        IF v_triggered THEN
            UPDATE exchange.orders
               SET status = v_status, filled_amount = v_filled,
                   remaining_amount = CASE WHEN amount IS NULL THEN 0 ELSE amount - v_filled END,
                   filled_quote = v_filled_quote, fee_paid = v_fee_paid,
                   hold_amount = v_rest_hold, version = version + 1
             WHERE id = v_oid AND created_at = v_ocreated;
            -- the stop entered the market (PENDING -> matching)
            e_agg := array_append(e_agg, 'order'); e_aid := array_append(e_aid, v_oid::text);
            e_type := array_append(e_type, 'order_placed');
            e_data := array_append(e_data, jsonb_build_object(
                'order_id', v_oid, 'user_id', v_user, 'pair_id', v_pair_id, 'symbol', v_symbol,
                'side', v_side, 'order_type', v_type, 'time_in_force', v_tif,
                'price', v_price::text, 'stop_price', v_stop::text, 'quantity', v_amount::text,
                'quote_quantity', v_quote_amt::text, 'status', 'NEW', 'triggered', true,
                'last_price', trim_scale(v_last)::text));
        ELSE
            -- the order row, with its final state as taker, is written at the end of the
            -- batch (its fills as a maker later in the batch are added there)
            w_orders := array_append(w_orders, ROW(
                v_oid, v_user, v_pair_id, v_coid, v_type, v_side, v_tif, v_stp, v_amount,
                v_quote_amt, v_price, v_stop, v_filled,
                CASE WHEN v_amount IS NULL THEN 0 ELSE v_amount - v_filled END,
                v_filled_quote, v_fee_paid, v_rest_hold, v_status, v_ocreated)::exchange._order_row);
            IF v_coid IS NOT NULL THEN
                INSERT INTO exchange.client_order_ids
                VALUES (v_user, v_coid, v_oid, v_ocreated)
                ON CONFLICT DO NOTHING;
                IF NOT FOUND THEN
                    RAISE EXCEPTION USING ERRCODE = 'EX218',
                        MESSAGE = format('client order id %s was claimed by a concurrent call', v_coid),
                        DETAIL = format('order %s of the batch', v_i),
                        HINT = 'Retry: the call will return the order that claimed it.';
                END IF;
            END IF;
            e_agg := array_append(e_agg, 'order'); e_aid := array_append(e_aid, v_oid::text);
            e_type := array_append(e_type, 'order_placed');
            e_data := array_append(e_data, jsonb_build_object(
                'order_id', v_oid, 'user_id', v_user, 'pair_id', v_pair_id, 'symbol', v_symbol,
                'side', v_side, 'order_type', v_type, 'time_in_force', v_tif,
                'price', v_price::text, 'quantity', v_amount::text,
                'quote_quantity', v_quote_amt::text, 'status', 'NEW'));
            -- the hold: record 1 of this order
            r_type := array_append(r_type, 'ORDER_HOLD');
            r_rtype := array_append(r_rtype, 'ORDER');
            r_rid := array_append(r_rid, v_oid);
            v_r := cardinality(r_type);
            l_rec := array_append(l_rec, v_r); l_acc := array_append(l_acc, v_hold_acc);
            l_bucket := array_append(l_bucket, 'AVAILABLE'); l_amt := array_append(l_amt, -v_hold);
            l_rec := array_append(l_rec, v_r); l_acc := array_append(l_acc, v_hold_acc);
            l_bucket := array_append(l_bucket, 'FROZEN'); l_amt := array_append(l_amt, v_hold);
        END IF;
        v_book_changed := v_rests OR cardinality(m_id) > 0;

        IF f_n > 0 THEN
            -- the trades (written at the end of the batch) and the settlement: one balanced
            -- journal record per fill. The taker's side, once per order: the account it
            -- receives into, and the FEE accounts of what it gives and what it receives.
            v_get_acc := CASE v_side WHEN 'BUY' THEN v_base_acc ELSE v_quote_acc END;
            v_fee_give := CASE v_side WHEN 'BUY' THEN v_fee_quote ELSE v_fee_base END;
            v_fee_get := CASE v_side WHEN 'BUY' THEN v_fee_base ELSE v_fee_quote END;
            FOR v_j IN 1 .. f_n LOOP
                IF v_side = 'BUY' THEN
                    w_trades := array_append(w_trades, ROW(
                        f_tid[v_j], v_pair_id, v_oid, v_ocreated, f_mid[v_j], f_mcreated[v_j],
                        v_user, f_muser[v_j], f_price[v_j], f_qty[v_j], f_quote[v_j],
                        f_tfee[v_j], f_mfee[v_j], false)::exchange._trade_row);
                ELSE
                    w_trades := array_append(w_trades, ROW(
                        f_tid[v_j], v_pair_id, f_mid[v_j], f_mcreated[v_j], v_oid, v_ocreated,
                        f_muser[v_j], v_user, f_price[v_j], f_qty[v_j], f_quote[v_j],
                        f_mfee[v_j], f_tfee[v_j], true)::exchange._trade_row);
                END IF;
                r_type := array_append(r_type, 'TRADE');
                r_rtype := array_append(r_rtype, 'TRADE');
                r_rid := array_append(r_rid, f_tid[v_j]);
                v_r := cardinality(r_type);
                -- the taker gives (a buy: quote, paid from its hold at its limit price, the
                -- rest back to available; a sell: base) and receives; the maker the
                -- opposite; each pays its fee in what it receives, to the pair's FEE account
                IF v_side = 'BUY' THEN
                    v_give := f_quote[v_j];
                    v_get := f_qty[v_j];
                    v_paid := COALESCE(v_limit * f_qty[v_j], f_quote[v_j]);
                    v_mk_get_acc := f_mquote[v_j];
                    v_mk_give_acc := f_mbase[v_j];
                ELSE
                    v_give := f_qty[v_j];
                    v_get := f_quote[v_j];
                    v_paid := f_qty[v_j];
                    v_mk_get_acc := f_mbase[v_j];
                    v_mk_give_acc := f_mquote[v_j];
                END IF;
                l_rec := array_append(l_rec, v_r); l_acc := array_append(l_acc, v_hold_acc);
                l_bucket := array_append(l_bucket, 'FROZEN'); l_amt := array_append(l_amt, -v_paid);
                IF v_paid <> v_give THEN
                    l_rec := array_append(l_rec, v_r); l_acc := array_append(l_acc, v_hold_acc);
                    l_bucket := array_append(l_bucket, 'AVAILABLE');
                    l_amt := array_append(l_amt, v_paid - v_give);
                END IF;
                l_rec := array_append(l_rec, v_r); l_acc := array_append(l_acc, v_mk_get_acc);
                l_bucket := array_append(l_bucket, 'AVAILABLE');
                l_amt := array_append(l_amt, v_give - f_mfee[v_j]);
                l_rec := array_append(l_rec, v_r); l_acc := array_append(l_acc, v_fee_give);
                l_bucket := array_append(l_bucket, 'AVAILABLE'); l_amt := array_append(l_amt, f_mfee[v_j]);
                l_rec := array_append(l_rec, v_r); l_acc := array_append(l_acc, v_mk_give_acc);
                l_bucket := array_append(l_bucket, 'FROZEN'); l_amt := array_append(l_amt, -v_get);
                l_rec := array_append(l_rec, v_r); l_acc := array_append(l_acc, v_get_acc);
                l_bucket := array_append(l_bucket, 'AVAILABLE');
                l_amt := array_append(l_amt, v_get - f_tfee[v_j]);
                l_rec := array_append(l_rec, v_r); l_acc := array_append(l_acc, v_fee_get);
                l_bucket := array_append(l_bucket, 'AVAILABLE'); l_amt := array_append(l_amt, f_tfee[v_j]);
                t_pair := array_append(t_pair, v_pair_id);
                t_price := array_append(t_price, f_price[v_j]);
                t_qty := array_append(t_qty, f_qty[v_j]);
                t_quote := array_append(t_quote, f_quote[v_j]);
                e_agg := array_append(e_agg, 'trade'); e_aid := array_append(e_aid, f_tid[v_j]::text);
                e_type := array_append(e_type, 'trade_executed');
                e_data := array_append(e_data, jsonb_build_object(
                    'trade_id', f_tid[v_j], 'pair_id', v_pair_id, 'symbol', v_symbol,
                    'price', trim_scale(f_price[v_j])::text, 'quantity', trim_scale(f_qty[v_j])::text,
                    'quote_quantity', trim_scale(f_quote[v_j])::text, 'taker_side', v_side,
                    'buyer_user_id', CASE v_side WHEN 'BUY' THEN v_user ELSE f_muser[v_j] END,
                    'seller_user_id', CASE v_side WHEN 'SELL' THEN v_user ELSE f_muser[v_j] END,
                    'buyer_order_id', CASE v_side WHEN 'BUY' THEN v_oid ELSE f_mid[v_j] END,
                    'seller_order_id', CASE v_side WHEN 'SELL' THEN v_oid ELSE f_mid[v_j] END,
                    'buyer_fee', trim_scale(CASE v_side WHEN 'BUY' THEN f_tfee[v_j] ELSE f_mfee[v_j] END)::text,
                    'seller_fee', trim_scale(CASE v_side WHEN 'SELL' THEN f_tfee[v_j] ELSE f_mfee[v_j] END)::text));
            END LOOP;
            v_last := f_price[f_n];
            ms_last[v_k] := v_last;
            v_check_pair := v_pair_id;
            e_agg := array_append(e_agg, 'order'); e_aid := array_append(e_aid, v_oid::text);
            e_type := array_append(e_type, 'order_filled');
            e_data := array_append(e_data, jsonb_build_object(
                'order_id', v_oid, 'user_id', v_user, 'pair_id', v_pair_id, 'symbol', v_symbol,
                'side', v_side, 'price', trim_scale(f_price[f_n])::text,
                'filled_quantity', trim_scale(v_filled)::text,
                'remaining_quantity', trim_scale(COALESCE(v_amount - v_filled, 0))::text,
                'status', v_status));
        END IF;

        IF cardinality(m_id) > 0 THEN
            -- the makers: filled amounts, fees, holds and statuses (self-trade expiries too),
            -- written at the end of the batch, summed per maker
            FOR v_j IN 1 .. cardinality(m_id) LOOP
                w_fills := array_append(w_fills, ROW(
                    m_id[v_j], m_created[v_j], m_qty[v_j], m_quote[v_j], m_fee[v_j], m_rem[v_j],
                    m_hold[v_j], m_status[v_j])::exchange._maker_fill);
            END LOOP;
            -- self-trade expiries release the maker's whole hold
            FOR v_j IN 1 .. cardinality(m_id) LOOP
                CONTINUE WHEN m_status[v_j] <> 'EXPIRED';
                r_type := array_append(r_type, 'ORDER_RELEASE');
                r_rtype := array_append(r_rtype, 'ORDER');
                r_rid := array_append(r_rid, m_id[v_j]);
                v_r := cardinality(r_type);
                v_q := m_release[v_j];
                v_acc := m_acc[v_j];
                l_rec := array_append(l_rec, v_r); l_acc := array_append(l_acc, v_acc);
                l_bucket := array_append(l_bucket, 'FROZEN'); l_amt := array_append(l_amt, -v_q);
                l_rec := array_append(l_rec, v_r); l_acc := array_append(l_acc, v_acc);
                l_bucket := array_append(l_bucket, 'AVAILABLE'); l_amt := array_append(l_amt, v_q);
                e_agg := array_append(e_agg, 'order'); e_aid := array_append(e_aid, m_id[v_j]::text);
                e_type := array_append(e_type, 'order_expired');
                e_data := array_append(e_data, jsonb_build_object(
                    'order_id', m_id[v_j], 'user_id', m_user[v_j], 'pair_id', v_pair_id,
                    'symbol', v_symbol, 'side', CASE v_side WHEN 'BUY' THEN 'SELL' ELSE 'BUY' END,
                    'remaining_quantity', trim_scale(m_rem[v_j])::text, 'status', 'EXPIRED',
                    'reason', 'self_trade_prevention'));
            END LOOP;
            FOR v_j IN 1 .. cardinality(m_id) LOOP
                CONTINUE WHEN m_status[v_j] = 'EXPIRED';
                e_agg := array_append(e_agg, 'order'); e_aid := array_append(e_aid, m_id[v_j]::text);
                e_type := array_append(e_type, 'order_filled');
                e_data := array_append(e_data, jsonb_build_object(
                    'order_id', m_id[v_j], 'user_id', m_user[v_j], 'pair_id', v_pair_id,
                    'symbol', v_symbol, 'side', CASE v_side WHEN 'BUY' THEN 'SELL' ELSE 'BUY' END,
                    'price', trim_scale(m_price[v_j])::text,
                    'filled_quantity', trim_scale(m_qty[v_j])::text,
                    'remaining_quantity', trim_scale(m_rem[v_j])::text, 'status', m_status[v_j]));
            END LOOP;
            IF cardinality(m_done) > 0 THEN
                DELETE FROM exchange.order_book WHERE order_id = ANY (m_done);
            END IF;
            IF v_partial_id IS NOT NULL THEN
                UPDATE exchange.order_book SET remaining = v_partial_rem WHERE order_id = v_partial_id;
            END IF;
        END IF;

        IF v_rests THEN
            INSERT INTO exchange.order_book
                (order_id, order_created_at, trading_pair_id, side, price, seq, user_id,
                 remaining, base_account_id, quote_account_id)
            VALUES (v_oid, v_ocreated, v_pair_id, v_side, v_price,
                    nextval('exchange.order_book_seq'), v_user, v_rem, v_base_acc, v_quote_acc);
        ELSIF v_hold - v_consumed > 0 THEN
            -- the order ended: release what is left of its hold
            r_type := array_append(r_type, 'ORDER_RELEASE');
            r_rtype := array_append(r_rtype, 'ORDER');
            r_rid := array_append(r_rid, v_oid);
            v_r := cardinality(r_type);
            l_rec := array_append(l_rec, v_r); l_acc := array_append(l_acc, v_hold_acc);
            l_bucket := array_append(l_bucket, 'FROZEN'); l_amt := array_append(l_amt, v_consumed - v_hold);
            l_rec := array_append(l_rec, v_r); l_acc := array_append(l_acc, v_hold_acc);
            l_bucket := array_append(l_bucket, 'AVAILABLE'); l_amt := array_append(l_amt, v_hold - v_consumed);
        END IF;
        IF v_status = 'EXPIRED' THEN
            e_agg := array_append(e_agg, 'order'); e_aid := array_append(e_aid, v_oid::text);
            e_type := array_append(e_type, 'order_expired');
            e_data := array_append(e_data, jsonb_build_object(
                'order_id', v_oid, 'user_id', v_user, 'pair_id', v_pair_id, 'symbol', v_symbol,
                'side', v_side, 'remaining_quantity', trim_scale(COALESCE(v_amount - v_filled, 0))::text,
                'status', 'EXPIRED',
                'reason', CASE WHEN v_taker_expire AND v_tif <> 'FOK' THEN 'self_trade_prevention'
                               WHEN v_tif = 'FOK' THEN 'fill_or_kill'
                               WHEN v_type IN ('MARKET', 'STOP_LOSS') THEN 'market_order_rest'
                               ELSE 'immediate_or_cancel' END));
        END IF;
        IF v_book_changed THEN
            ms_inc[v_k] := ms_inc[v_k] + 1;
        END IF;

        IF NOT v_triggered THEN
            res_id := array_append(res_id, v_oid);
            res_created := array_append(res_created, v_ocreated);
            res_fills := array_append(res_fills, v_fills);
        END IF;
    END LOOP;
    IF v_pair_id IS NOT NULL THEN
        ms_last[v_k] := v_last;
    END IF;

    -- 8. Once per call, after the orders, trades and makers' fills (written in the loop,
    --    before the results were read): the postings (netted, accounts locked ascending),
    --    the markets' last price and book sequence, the K-lines, the outbox events.
    IF cardinality(r_type) > 0 THEN
        v_journals := exchange._post_journals(r_type, r_rtype, r_rid, l_rec, l_acc, l_bucket, l_amt);
    END IF;
    IF cardinality(e_agg) > 0 OR cardinality(t_pair) > 0 OR cardinality(ms_pair) > 0 THEN
        v_written := exchange._write_market_batch(ms_pair, ms_last, ms_inc, t_pair, t_price,
                                                  t_qty, t_quote, e_agg, e_aid, e_type, e_data);
    END IF;
END;
$$;
COMMENT ON FUNCTION exchange.place_orders(exchange.order_request[]) IS
    'Places a batch of orders (validate, hold, match, settle, rest or end; stops wait and trigger); markets locked ascending first, postings netted across the batch. Raises EX101, EX201-EX215, EX218, EX219, EX335, EX336.';
REVOKE ALL ON FUNCTION exchange.place_orders(exchange.order_request[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.place_orders(exchange.order_request[]) TO exchange_app;
