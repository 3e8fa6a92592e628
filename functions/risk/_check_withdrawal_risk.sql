-- exchange._check_withdrawal_risk(p_withdrawal_id bigint) RETURNS exchange.withdrawal_status
-- Internal: evaluates the withdrawal rules for a withdrawal that exchange.withdraw has just
-- recorded (PENDING, its amount + fee frozen, the user's account row locked), in the same
-- transaction. Rules apply by asset (NULL: every asset) and, for DAILY_WITHDRAWAL_LIMIT, by
-- the user's KYC level (NULL: every level); they are walked in priority order (lower first,
-- then id). What each type measures:
--   LARGE_WITHDRAWAL_REVIEW  the withdrawal's amount (fee excluded);
--   DAILY_WITHDRAWAL_LIMIT   the user's withdrawals of the asset in the last 24 hours that
--                            are not CANCELLED (PENDING, REVIEW, COMPLETED), this one included.
-- Each hit becomes a risk event (level: the rule's; reference WITHDRAWAL id unless refused):
--   FLAG          recorded, the withdrawal goes on (PENDING);
--   REVIEW        recorded; the withdrawal is held in status REVIEW, its funds frozen, until a
--                 holder of withdrawal:approve approves (-> PENDING) or rejects it
--                 (exchange.approve_withdrawal / reject_withdrawal);
--   REJECT        the events so far are recorded through the loopback and EX405 is raised;
--                 the withdrawal, its hold and its idempotency key roll back;
--   SUSPEND_USER  the same, and the user is suspended; EX406 is raised.
-- Returns the withdrawal's status (PENDING or REVIEW).
-- Raises: EX405, EX406. Locks: the withdrawal row when it is held for REVIEW (the caller
-- already holds the user's account row, which serialises the user's withdrawals of the asset,
-- so the 24-hour sum cannot race).
CREATE OR REPLACE FUNCTION exchange._check_withdrawal_risk(p_withdrawal_id bigint)
RETURNS exchange.withdrawal_status
LANGUAGE plpgsql
AS $$
DECLARE
    v_w        record;
    v_rule     record;
    v_day_sum  numeric;
    v_observed numeric;
    v_events   jsonb := '[]'::jsonb;
    v_review   boolean := false;
    v_stop     text;
    v_outcome  text;
BEGIN
    SELECT w.id, w.user_id, w.asset_id, a.symbol, w.amount, w.fee, u.kyc_level
      INTO v_w
      FROM exchange.withdrawals w
      JOIN exchange.assets a ON a.id = w.asset_id
      JOIN exchange.users u ON u.id = w.user_id
     WHERE w.id = p_withdrawal_id;
    FOR v_rule IN
        SELECT rr.id, rr.name, rr.type, rr.level, rr.action, rr.limit_value
          FROM exchange.risk_rules rr
         WHERE rr.is_active AND rr.scope = 'WITHDRAWAL'
           AND (rr.asset_id IS NULL OR rr.asset_id = v_w.asset_id)
           AND (rr.kyc_level IS NULL OR rr.kyc_level = v_w.kyc_level)
         ORDER BY rr.priority, rr.id
    LOOP
        IF v_rule.type = 'LARGE_WITHDRAWAL_REVIEW' THEN
            v_observed := v_w.amount;
        ELSE
            IF v_day_sum IS NULL THEN
                SELECT COALESCE(sum(w.amount), 0) INTO v_day_sum
                  FROM exchange.withdrawals w
                 WHERE w.user_id = v_w.user_id AND w.asset_id = v_w.asset_id
                   AND w.created_at > now() - interval '24 hours'
                   AND w.status <> 'CANCELLED';
            END IF;
            v_observed := v_day_sum;
        END IF;
        CONTINUE WHEN NOT v_observed > v_rule.limit_value;
        v_events := v_events || jsonb_build_array(jsonb_build_object(
            'user_id', v_w.user_id, 'rule_id', v_rule.id, 'type', v_rule.type,
            'level', v_rule.level, 'action', v_rule.action,
            'reference_type', CASE WHEN v_rule.action IN ('FLAG', 'REVIEW') THEN 'WITHDRAWAL' END,
            'reference_id', CASE WHEN v_rule.action IN ('FLAG', 'REVIEW') THEN v_w.id END,
            'description', format('%s %s: %s %s %s > %s (%s)', v_rule.type, v_rule.name,
                                  CASE v_rule.type WHEN 'LARGE_WITHDRAWAL_REVIEW' THEN 'amount'
                                                   ELSE 'withdrawn in 24h' END,
                                  trim_scale(v_observed), v_w.symbol,
                                  trim_scale(v_rule.limit_value), v_rule.action),
            'details', jsonb_strip_nulls(jsonb_build_object(
                'scope', 'WITHDRAWAL', 'rule', v_rule.name, 'action', v_rule.action,
                'withdrawal_id', CASE WHEN v_rule.action IN ('FLAG', 'REVIEW') THEN v_w.id END,
                'asset', v_w.symbol, 'amount', trim_scale(v_w.amount)::text,
                'kyc_level', v_w.kyc_level,
                'observed', trim_scale(v_observed)::text,
                'limit', trim_scale(v_rule.limit_value)::text))));
        IF v_rule.action = 'REVIEW' THEN
            v_review := true;
        ELSIF v_rule.action IN ('REJECT', 'SUSPEND_USER') THEN
            v_stop := v_rule.action;
            EXIT;
        END IF;
    END LOOP;
    IF jsonb_array_length(v_events) = 0 THEN
        RETURN 'PENDING'::exchange.withdrawal_status;
    END IF;

    IF v_stop IS NULL THEN
        IF v_review THEN
            UPDATE exchange.withdrawals w SET status = 'REVIEW' WHERE w.id = v_w.id;
        END IF;
        PERFORM exchange._insert_risk_events(v_events);
        RETURN CASE WHEN v_review THEN 'REVIEW' ELSE 'PENDING' END::exchange.withdrawal_status;
    END IF;
    -- refused: the events of a withdrawal that will not exist carry no reference
    SELECT jsonb_agg(e.value - 'reference_type' - 'reference_id'
                     #- '{details,withdrawal_id}' ORDER BY e.ord)
      INTO v_events
      FROM jsonb_array_elements(v_events) WITH ORDINALITY AS e(value, ord);
    v_outcome := exchange._record_risk_events_autonomously(
        v_events, CASE WHEN v_stop = 'SUSPEND_USER' THEN v_w.user_id END);
    IF v_stop = 'SUSPEND_USER' THEN
        RAISE EXCEPTION USING ERRCODE = 'EX406',
            MESSAGE = format('withdrawal refused and user %s suspended by risk rule %s',
                             v_w.user_id, v_events -> -1 ->> 'rule_id'),
            DETAIL = format('%s; %s', v_events -> -1 ->> 'description', v_outcome),
            HINT = 'A risk officer reviews the risk event and may reinstate the user.';
    END IF;
    RAISE EXCEPTION USING ERRCODE = 'EX405',
        MESSAGE = format('withdrawal refused by risk rule %s', v_events -> -1 ->> 'rule_id'),
        DETAIL = format('%s; %s', v_events -> -1 ->> 'description', v_outcome),
        HINT = 'Withdraw less, later, or ask a risk officer.';
END;
$$;
COMMENT ON FUNCTION exchange._check_withdrawal_risk(bigint) IS
    'Internal: evaluates the withdrawal risk rules for a just-recorded withdrawal (FLAG records, REVIEW holds it in status REVIEW, REJECT/SUSPEND_USER record through the loopback and raise); returns PENDING or REVIEW. Raises EX405, EX406.';
REVOKE ALL ON FUNCTION exchange._check_withdrawal_risk(bigint) FROM PUBLIC;
