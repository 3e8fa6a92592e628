-- exchange._check_order_risk(p_limits exchange.order_risk_limits, p_user_id bigint,
--     p_symbol text, p_side exchange.order_side, p_type exchange.order_type,
--     p_amount numeric, p_price numeric, p_stop_price numeric, p_quote_amount numeric,
--     p_last_price numeric) RETURNS void
-- Internal, the trading hot path: evaluates the order rules for one new order of an ACTIVE
-- user, before anything of the order is written (place_orders calls it when
-- p_limits.any_rule). What each type measures:
--   MAX_ORDER_NOTIONAL  the order's value in the quote asset: quote_amount, else amount x
--                       (price, else stop price, else the last trade price); not evaluated
--                       for a market order by amount in a market that never traded;
--   PRICE_BAND          |price - last| / last x 100 for an order with a limit price, in a
--                       market that has traded;
--   MAX_OPEN_ORDERS     the user's open orders in the market (resting, and stops waiting),
--                       counting this one;
--   ORDER_RATE          the user's orders (all markets) in the last window_seconds,
--                       counting this one: the counter row of exchange.risk_order_rate
--                       (fixed window + the previous window's count weighted by its share
--                       still inside the sliding window).
-- Fast path: the measures are compared with the folded thresholds of p_limits; when none is
-- passed, nothing else happens. Otherwise the active rules are walked in priority order
-- (lower first, then id) and each hit becomes a risk event (level: the rule's):
--   FLAG          the event is recorded in the caller's transaction, the order goes on;
--   REJECT        the events so far are recorded through the loopback (they survive the
--                 rollback) and EX404 is raised; nothing else changes;
--   SUSPEND_USER  the same, and the user is suspended (in the loopback's transaction);
--                 EX406 is raised.
-- In a combined batch of exchange.submit_order (setting exchange.combined_batch = on) a
-- REJECT or SUSPEND_USER records nothing and raises EX230: the batch is a trial, refused as a
-- whole, and the request is then placed alone, where the rule acts as above.
-- Raises: EX404, EX406, EX230. Locks: the user's ORDER_RATE counter rows (when ORDER_RATE rules
-- exist): one user's concurrent orders take turns on them.
CREATE OR REPLACE FUNCTION exchange._check_order_risk(
    p_limits exchange.order_risk_limits,
    p_user_id bigint,
    p_symbol text,
    p_side exchange.order_side,
    p_type exchange.order_type,
    p_amount numeric,
    p_price numeric,
    p_stop_price numeric,
    p_quote_amount numeric,
    p_last_price numeric
)
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    v_notional  numeric;
    v_dev       numeric;
    v_open      integer;
    v_rate_w    integer[];
    v_rate_est  numeric[];
    v_w         integer;
    v_start     timestamptz;
    v_est       numeric;
    v_hit       boolean := false;
    v_rule      record;
    v_observed  numeric;
    v_rule_hit  boolean;
    v_events    jsonb := '[]'::jsonb;
    v_stop      text;
    v_outcome   text;
BEGIN
    v_notional := COALESCE(p_quote_amount, p_amount * COALESCE(p_price, p_stop_price, p_last_price));
    IF v_notional > p_limits.max_notional THEN
        v_hit := true;
    END IF;
    IF p_price IS NOT NULL AND p_last_price IS NOT NULL THEN
        v_dev := abs(p_price - p_last_price) * 100 / p_last_price;
        IF v_dev > p_limits.max_band_pct THEN
            v_hit := true;
        END IF;
    END IF;
    IF p_limits.max_open_orders IS NOT NULL THEN
        -- resting orders and waiting stops, each read at most up to the limit
        SELECT 1 + (SELECT count(*) FROM (SELECT 1 FROM exchange.order_book b
                                            WHERE b.user_id = p_user_id
                                              AND b.trading_pair_id = p_limits.trading_pair_id
                                            LIMIT p_limits.max_open_orders) AS b)
                 + (SELECT count(*) FROM (SELECT 1 FROM exchange.stop_orders s
                                            WHERE s.user_id = p_user_id
                                              AND s.trading_pair_id = p_limits.trading_pair_id
                                            LIMIT p_limits.max_open_orders) AS s)
          INTO v_open;
        IF v_open > p_limits.max_open_orders THEN
            v_hit := true;
        END IF;
    END IF;
    IF p_limits.rate_windows IS NOT NULL THEN
        -- one counter row per distinct window (rate_windows is sorted, its first entry per
        -- window the strictest limit); usually one or two simple upserts
        v_rate_w := '{}'::integer[];
        v_rate_est := '{}'::numeric[];
        FOR v_i IN 1 .. cardinality(p_limits.rate_windows) LOOP
            v_w := p_limits.rate_windows[v_i];
            CONTINUE WHEN v_i > 1 AND v_w = p_limits.rate_windows[v_i - 1];
            v_start := date_bin(make_interval(secs => v_w), now(), TIMESTAMPTZ '1970-01-01 00:00:00+00');
            INSERT INTO exchange.risk_order_rate AS c (user_id, window_seconds, window_start, count)
            VALUES (p_user_id, v_w, v_start, 1)
            ON CONFLICT (user_id, window_seconds) DO UPDATE
               SET prev_count = CASE
                       WHEN c.window_start = excluded.window_start THEN c.prev_count
                       WHEN c.window_start = excluded.window_start - make_interval(secs => c.window_seconds)
                           THEN c.count
                       ELSE 0 END,
                   count = CASE WHEN c.window_start = excluded.window_start THEN c.count + 1 ELSE 1 END,
                   window_start = excluded.window_start
            RETURNING c.count + c.prev_count
                      * (1 - extract(epoch FROM now() - c.window_start) / c.window_seconds)
                 INTO v_est;
            v_rate_w := v_rate_w || v_w;
            v_rate_est := v_rate_est || v_est;
            IF v_est > p_limits.rate_max[v_i] THEN
                v_hit := true;
            END IF;
        END LOOP;
    END IF;
    IF NOT v_hit THEN
        RETURN;
    END IF;

    -- Slow path: at least one threshold is passed; walk the rules in priority order.
    IF p_limits.max_open_orders IS NOT NULL THEN
        SELECT (SELECT count(*) FROM exchange.order_book b
                 WHERE b.user_id = p_user_id AND b.trading_pair_id = p_limits.trading_pair_id)
             + (SELECT count(*) FROM exchange.stop_orders s
                 WHERE s.user_id = p_user_id AND s.trading_pair_id = p_limits.trading_pair_id)
             + 1
          INTO v_open;
    END IF;
    FOR v_rule IN
        SELECT rr.id, rr.name, rr.type, rr.level, rr.action, rr.limit_value, rr.window_seconds
          FROM exchange.risk_rules rr
         WHERE rr.is_active AND rr.scope = 'ORDER'
           AND (rr.trading_pair_id IS NULL OR rr.trading_pair_id = p_limits.trading_pair_id)
         ORDER BY rr.priority, rr.id
    LOOP
        v_observed := CASE v_rule.type
            WHEN 'MAX_ORDER_NOTIONAL' THEN v_notional
            WHEN 'PRICE_BAND' THEN v_dev
            WHEN 'MAX_OPEN_ORDERS' THEN v_open
            WHEN 'ORDER_RATE' THEN v_rate_est[array_position(v_rate_w, v_rule.window_seconds)] END;
        v_rule_hit := COALESCE(v_observed > v_rule.limit_value, false);
        CONTINUE WHEN NOT v_rule_hit;
        IF v_rule.type = 'ORDER_RATE' THEN
            v_observed := trunc(v_observed, 4);
        ELSIF v_rule.type = 'PRICE_BAND' THEN
            v_observed := round(v_observed, 6);
        END IF;
        v_events := v_events || jsonb_build_array(jsonb_build_object(
            'user_id', p_user_id, 'rule_id', v_rule.id, 'type', v_rule.type,
            'level', v_rule.level, 'action', v_rule.action,
            'description', format('%s %s: %s %s > %s (%s)', v_rule.type, v_rule.name,
                                  CASE v_rule.type WHEN 'MAX_ORDER_NOTIONAL' THEN 'notional'
                                                   WHEN 'PRICE_BAND' THEN 'deviation %'
                                                   WHEN 'MAX_OPEN_ORDERS' THEN 'open orders'
                                                   ELSE 'orders in window' END,
                                  trim_scale(v_observed), trim_scale(v_rule.limit_value), v_rule.action),
            'details', jsonb_strip_nulls(jsonb_build_object(
                'scope', 'ORDER', 'rule', v_rule.name, 'action', v_rule.action,
                'symbol', p_symbol, 'side', p_side, 'order_type', p_type,
                'amount', trim_scale(p_amount)::text, 'price', trim_scale(p_price)::text,
                'stop_price', trim_scale(p_stop_price)::text,
                'quote_amount', trim_scale(p_quote_amount)::text,
                'last_price', trim_scale(p_last_price)::text,
                'window_seconds', v_rule.window_seconds,
                'observed', trim_scale(v_observed)::text,
                'limit', trim_scale(v_rule.limit_value)::text))));
        IF v_rule.action IN ('REJECT', 'SUSPEND_USER') THEN
            v_stop := v_rule.action;
            EXIT;
        END IF;
    END LOOP;

    IF v_stop IS NULL THEN
        IF jsonb_array_length(v_events) > 0 THEN
            PERFORM exchange._insert_risk_events(v_events);
        END IF;
        RETURN;
    END IF;
    IF current_setting('exchange.combined_batch', true) = 'on' THEN
        -- a combined batch of submit_order requests is a trial: it is refused as a whole and
        -- its oldest request is then placed alone, which records the events (exactly once)
        RAISE EXCEPTION USING ERRCODE = 'EX230',
            MESSAGE = 'combined batch stopped by a risk rule',
            DETAIL = format('rule %s, user %s', v_events -> -1 ->> 'rule_id', p_user_id),
            HINT = 'Internal to exchange.submit_order: the requests are placed one at a time.';
    END IF;
    v_outcome := exchange._record_risk_events_autonomously(
        v_events, CASE WHEN v_stop = 'SUSPEND_USER' THEN p_user_id END);
    IF v_stop = 'SUSPEND_USER' THEN
        RAISE EXCEPTION USING ERRCODE = 'EX406',
            MESSAGE = format('order refused and user %s suspended by risk rule %s',
                             p_user_id, v_events -> -1 ->> 'rule_id'),
            DETAIL = format('%s; %s', v_events -> -1 ->> 'description', v_outcome),
            HINT = 'A risk officer reviews the risk event and may reinstate the user.';
    END IF;
    RAISE EXCEPTION USING ERRCODE = 'EX404',
        MESSAGE = format('order refused by risk rule %s', v_events -> -1 ->> 'rule_id'),
        DETAIL = format('%s; %s', v_events -> -1 ->> 'description', v_outcome),
        HINT = 'Change the order to stay within the rule, or ask a risk officer.';
END;
$$;
COMMENT ON FUNCTION exchange._check_order_risk(exchange.order_risk_limits, bigint, text, exchange.order_side, exchange.order_type, numeric, numeric, numeric, numeric, numeric) IS
    'Internal (hot path): evaluates the order risk rules for one new order (fast threshold check; on a hit, the rules in priority order: FLAG records, REJECT/SUSPEND_USER record through the loopback and raise). Raises EX404, EX406.';
REVOKE ALL ON FUNCTION exchange._check_order_risk(exchange.order_risk_limits, bigint, text, exchange.order_side, exchange.order_type, numeric, numeric, numeric, numeric, numeric) FROM PUBLIC;
