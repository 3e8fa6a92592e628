-- exchange.tg_risk_rules__validate(): BEFORE INSERT OR UPDATE trigger on exchange.risk_rules.
-- Validates a rule's JSON against its type and derives the typed columns the hot path reads
-- (scope, action, trading_pair_id, asset_id, kyc_level, limit_value, window_seconds), so that
-- every door (create_risk_rule, update_risk_rule, set_risk_rule_active, a DBA's INSERT) gets
-- the same checks. The shapes (docs/risk.md):
--   MAX_ORDER_NOTIONAL       {"max_notional": n > 0, "symbol": "BTC-USDT" | null}
--   PRICE_BAND               {"max_deviation_pct": n > 0, "symbol": ... | null}
--   ORDER_RATE               {"max_orders": int >= 1, "window_seconds": int 1..86400}
--   MAX_OPEN_ORDERS          {"max_open_orders": int >= 1, "symbol": ... | null}
--   DAILY_WITHDRAWAL_LIMIT   {"asset": "BTC", "max_amount": n >= 0, "kyc_level": 0..2 | null}
--   LARGE_WITHDRAWAL_REVIEW  {"threshold": n >= 0, "asset": "BTC" | null}
--   actions                  {"action": "REJECT" | "FLAG" | "REVIEW" | "SUSPEND_USER"}
--                            (order rules: no REVIEW; SUSPEND_USER only at level CRITICAL)
-- Numbers are JSON numbers or decimal strings. Unknown keys are refused.
-- Raises: EX401 unknown rule type; EX402 a malformed field (the message and the detail
--         "field <path>: ..." name it).
-- Locks: none.
CREATE OR REPLACE FUNCTION exchange.tg_risk_rules__validate()
RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    v_allowed  text[];
    v_required text[];
    v_key      text;
    v_num      text;
    v_field    text;
    v_problem  text;
    v_value    numeric;
BEGIN
    IF NEW.name IS NULL OR btrim(NEW.name) = '' THEN
        v_field := 'name'; v_problem := 'a rule needs a name';
    ELSIF NEW.priority IS NULL THEN
        v_field := 'priority'; v_problem := 'a rule needs a priority (lower runs first)';
    ELSIF jsonb_typeof(NEW.conditions) IS DISTINCT FROM 'object' THEN
        v_field := 'conditions'; v_problem := 'must be a JSON object';
    ELSIF jsonb_typeof(NEW.actions) IS DISTINCT FROM 'object' THEN
        v_field := 'actions'; v_problem := 'must be a JSON object';
    END IF;
    IF v_field IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'EX402',
            MESSAGE = format('invalid risk rule: %s %s', v_field, v_problem),
            DETAIL = format('field %s: %s', v_field, v_problem),
            HINT = 'See docs/risk.md for the shape of each rule type.';
    END IF;

    CASE NEW.type
        WHEN 'MAX_ORDER_NOTIONAL' THEN
            NEW.scope := 'ORDER'; v_allowed := '{max_notional,symbol}'; v_required := '{max_notional}';
        WHEN 'PRICE_BAND' THEN
            NEW.scope := 'ORDER'; v_allowed := '{max_deviation_pct,symbol}'; v_required := '{max_deviation_pct}';
        WHEN 'ORDER_RATE' THEN
            NEW.scope := 'ORDER'; v_allowed := '{max_orders,window_seconds}';
            v_required := '{max_orders,window_seconds}';
        WHEN 'MAX_OPEN_ORDERS' THEN
            NEW.scope := 'ORDER'; v_allowed := '{max_open_orders,symbol}'; v_required := '{max_open_orders}';
        WHEN 'DAILY_WITHDRAWAL_LIMIT' THEN
            NEW.scope := 'WITHDRAWAL'; v_allowed := '{asset,max_amount,kyc_level}';
            v_required := '{asset,max_amount}';
        WHEN 'LARGE_WITHDRAWAL_REVIEW' THEN
            NEW.scope := 'WITHDRAWAL'; v_allowed := '{threshold,asset}'; v_required := '{threshold}';
        ELSE
            RAISE EXCEPTION USING ERRCODE = 'EX401',
                MESSAGE = format('unknown risk rule type %s', COALESCE(NEW.type, 'NULL')),
                DETAIL = 'field type: unknown',
                HINT = 'Use MAX_ORDER_NOTIONAL, PRICE_BAND, ORDER_RATE, MAX_OPEN_ORDERS, DAILY_WITHDRAWAL_LIMIT or LARGE_WITHDRAWAL_REVIEW.';
    END CASE;

    -- keys: nothing unknown, nothing required missing
    SELECT k INTO v_key FROM jsonb_object_keys(NEW.conditions) AS k
     WHERE k <> ALL (v_allowed) ORDER BY k LIMIT 1;
    IF v_key IS NOT NULL THEN
        v_field := 'conditions.' || v_key;
        v_problem := format('is not a condition of %s (allowed: %s)', NEW.type, array_to_string(v_allowed, ', '));
    END IF;
    IF v_field IS NULL THEN
        SELECT k INTO v_key FROM unnest(v_required) AS k
         WHERE NOT NEW.conditions ? k OR jsonb_typeof(NEW.conditions -> k) = 'null' LIMIT 1;
        IF v_key IS NOT NULL THEN
            v_field := 'conditions.' || v_key;
            v_problem := format('is required by %s', NEW.type);
        END IF;
    END IF;
    IF v_field IS NULL THEN
        SELECT k INTO v_key FROM jsonb_object_keys(NEW.actions) AS k WHERE k <> 'action' LIMIT 1;
        IF v_key IS NOT NULL THEN
            v_field := 'actions.' || v_key; v_problem := 'is not known (allowed: action)';
        ELSIF NOT COALESCE(NEW.actions ->> 'action' IN ('REJECT', 'FLAG', 'REVIEW', 'SUSPEND_USER'), false) THEN
            v_field := 'actions.action'; v_problem := 'must be REJECT, FLAG, REVIEW or SUSPEND_USER';
        ELSIF NEW.scope = 'ORDER' AND NEW.actions ->> 'action' = 'REVIEW' THEN
            v_field := 'actions.action'; v_problem := format('REVIEW holds withdrawals only; %s is an order rule', NEW.type);
        ELSIF NEW.actions ->> 'action' = 'SUSPEND_USER' AND NEW.level IS DISTINCT FROM 'CRITICAL' THEN
            v_field := 'level'; v_problem := 'SUSPEND_USER is for CRITICAL rules only';
        END IF;
    END IF;
    IF v_field IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'EX402',
            MESSAGE = format('invalid %s rule: %s %s', NEW.type, v_field, v_problem),
            DETAIL = format('field %s: %s', v_field, v_problem),
            HINT = 'See docs/risk.md for the shape of each rule type.';
    END IF;
    NEW.action := NEW.actions ->> 'action';

    -- the values
    NEW.trading_pair_id := NULL; NEW.asset_id := NULL; NEW.kyc_level := NULL;
    NEW.window_seconds := NULL;
    v_key := v_required[1];
    IF NEW.type = 'DAILY_WITHDRAWAL_LIMIT' THEN
        v_key := 'max_amount';
    END IF;
    v_num := CASE jsonb_typeof(NEW.conditions -> v_key)
                 WHEN 'number' THEN (NEW.conditions -> v_key)::text
                 WHEN 'string' THEN NEW.conditions ->> v_key END;
    IF v_num IS NULL OR v_num !~ '^[0-9]{1,18}(\.[0-9]{1,18})?$' THEN
        v_field := 'conditions.' || v_key;
        v_problem := 'must be a non-negative decimal number (JSON number or string)';
    ELSE
        v_value := v_num::numeric;
        IF v_key IN ('max_orders', 'max_open_orders') AND (v_value <> trunc(v_value) OR v_value < 1 OR v_value > 1000000000) THEN
            v_field := 'conditions.' || v_key; v_problem := 'must be a whole number from 1 to 1000000000';
        ELSIF v_key IN ('max_notional', 'max_deviation_pct') AND v_value <= 0 THEN
            v_field := 'conditions.' || v_key; v_problem := 'must be positive';
        END IF;
    END IF;
    NEW.limit_value := v_value;

    IF v_field IS NULL AND NEW.type = 'ORDER_RATE' THEN
        IF jsonb_typeof(NEW.conditions -> 'window_seconds') IS DISTINCT FROM 'number'
           OR (NEW.conditions ->> 'window_seconds') !~ '^[0-9]{1,6}$'
           OR (NEW.conditions ->> 'window_seconds')::integer NOT BETWEEN 1 AND 86400 THEN
            v_field := 'conditions.window_seconds'; v_problem := 'must be a whole number of seconds from 1 to 86400';
        ELSE
            NEW.window_seconds := (NEW.conditions ->> 'window_seconds')::integer;
        END IF;
    END IF;
    IF v_field IS NULL AND jsonb_typeof(NEW.conditions -> 'symbol') IS DISTINCT FROM 'null'
       AND NEW.conditions ? 'symbol' THEN
        SELECT tp.id INTO NEW.trading_pair_id FROM exchange.trading_pairs tp
         WHERE tp.symbol = NEW.conditions ->> 'symbol'
           AND jsonb_typeof(NEW.conditions -> 'symbol') = 'string';
        IF NEW.trading_pair_id IS NULL THEN
            v_field := 'conditions.symbol'; v_problem := 'is not a known trading pair symbol';
        END IF;
    END IF;
    IF v_field IS NULL AND jsonb_typeof(NEW.conditions -> 'asset') IS DISTINCT FROM 'null'
       AND NEW.conditions ? 'asset' THEN
        SELECT a.id INTO NEW.asset_id FROM exchange.assets a
         WHERE a.symbol = NEW.conditions ->> 'asset'
           AND jsonb_typeof(NEW.conditions -> 'asset') = 'string';
        IF NEW.asset_id IS NULL THEN
            v_field := 'conditions.asset'; v_problem := 'is not a known asset symbol';
        END IF;
    END IF;
    IF v_field IS NULL AND jsonb_typeof(NEW.conditions -> 'kyc_level') IS DISTINCT FROM 'null'
       AND NEW.conditions ? 'kyc_level' THEN
        IF jsonb_typeof(NEW.conditions -> 'kyc_level') <> 'number'
           OR (NEW.conditions ->> 'kyc_level') NOT IN ('0', '1', '2') THEN
            v_field := 'conditions.kyc_level'; v_problem := 'must be 0, 1 or 2 (or null for every level)';
        ELSE
            NEW.kyc_level := (NEW.conditions ->> 'kyc_level')::integer;
        END IF;
    END IF;
    IF v_field IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'EX402',
            MESSAGE = format('invalid %s rule: %s %s', NEW.type, v_field, v_problem),
            DETAIL = format('field %s: %s', v_field, v_problem),
            HINT = 'See docs/risk.md for the shape of each rule type.';
    END IF;
    RETURN NEW;
END;
$$;
COMMENT ON FUNCTION exchange.tg_risk_rules__validate() IS
    'Trigger: validates a risk rule''s conditions and actions against its type and derives the typed columns the hot path reads. Raises EX401, EX402.';
REVOKE ALL ON FUNCTION exchange.tg_risk_rules__validate() FROM PUBLIC;
