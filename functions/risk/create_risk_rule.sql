-- exchange.create_risk_rule(p_name text, p_type text, p_conditions jsonb, p_actions jsonb,
--     p_level text DEFAULT 'MEDIUM', p_priority integer DEFAULT 100,
--     p_is_active boolean DEFAULT true) RETURNS exchange.risk_rules
-- exchange.update_risk_rule(p_rule_id integer, p_name text DEFAULT NULL,
--     p_conditions jsonb DEFAULT NULL, p_actions jsonb DEFAULT NULL, p_level text DEFAULT NULL,
--     p_priority integer DEFAULT NULL) RETURNS exchange.risk_rules   (NULL: keep)
-- exchange.set_risk_rule_active(p_rule_id integer, p_active boolean) RETURNS exchange.risk_rules
-- exchange.list_risk_rules(p_include_inactive boolean DEFAULT true) RETURNS SETOF exchange.risk_rules
-- Risk rule management (docs/risk.md). The JSON is validated against the rule's type by the
-- trigger exchange.tg_risk_rules__validate on every insert and update, activation included.
-- A rule's type cannot change (make a new rule). Rules take effect for the next call that
-- reads them (place_orders reads them once per market per call). Permission risk_rule:manage
-- (list: report:read); changes are audited (audit_logs, table risk_rules).
-- Raises: EX320/EX321 acting user; EX401 unknown type; EX402 malformed field (named: name,
--         level, priority, conditions.<key>, actions.<key>); EX403 unknown rule.
-- Locks: the rule row (update, set active).
CREATE OR REPLACE FUNCTION exchange.create_risk_rule(
    p_name text,
    p_type text,
    p_conditions jsonb,
    p_actions jsonb,
    p_level text DEFAULT 'MEDIUM',
    p_priority integer DEFAULT 100,
    p_is_active boolean DEFAULT true
)
RETURNS exchange.risk_rules
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
DECLARE
    v_actor  bigint;
    v_result exchange.risk_rules;
BEGIN
    v_actor := exchange._require_admin('risk_rule', 'manage');
    PERFORM exchange._check_text(p_name, 'name', 100, 'EX402');
    PERFORM exchange._check_risk_level(p_level);
    INSERT INTO exchange.risk_rules AS r
        (name, type, conditions, actions, level, priority, is_active, created_by,
         scope, action, limit_value)
    VALUES (p_name, p_type, COALESCE(p_conditions, 'null'::jsonb), COALESCE(p_actions, 'null'::jsonb),
            p_level::exchange.risk_level, p_priority, COALESCE(p_is_active, true), v_actor,
            'ORDER', 'FLAG', 0)   -- scope, action, limit_value: derived by the trigger
    RETURNING r.* INTO v_result;
    RETURN v_result;
END;
$$;
COMMENT ON FUNCTION exchange.create_risk_rule(text, text, jsonb, jsonb, text, integer, boolean) IS
    'Creates a risk rule (JSON validated against its type; risk_rule:manage). Raises EX320, EX321, EX401, EX402.';
REVOKE ALL ON FUNCTION exchange.create_risk_rule(text, text, jsonb, jsonb, text, integer, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.create_risk_rule(text, text, jsonb, jsonb, text, integer, boolean) TO exchange_app;

CREATE OR REPLACE FUNCTION exchange.update_risk_rule(
    p_rule_id integer,
    p_name text DEFAULT NULL,
    p_conditions jsonb DEFAULT NULL,
    p_actions jsonb DEFAULT NULL,
    p_level text DEFAULT NULL,
    p_priority integer DEFAULT NULL
)
RETURNS exchange.risk_rules
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
DECLARE
    v_result exchange.risk_rules;
BEGIN
    PERFORM exchange._require_admin('risk_rule', 'manage');
    PERFORM exchange._check_text(p_name, 'name', 100, 'EX402', false);
    IF p_level IS NOT NULL THEN
        PERFORM exchange._check_risk_level(p_level);
    END IF;
    UPDATE exchange.risk_rules r
       SET name = COALESCE(p_name, r.name),
           conditions = COALESCE(p_conditions, r.conditions),
           actions = COALESCE(p_actions, r.actions),
           level = COALESCE(p_level::exchange.risk_level, r.level),
           priority = COALESCE(p_priority, r.priority)
     WHERE r.id = p_rule_id
    RETURNING r.* INTO v_result;
    IF v_result.id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'EX403',
            MESSAGE = format('unknown risk rule %s', COALESCE(p_rule_id::text, 'NULL')),
            DETAIL = 'exchange.risk_rules has no rule with this id.',
            HINT = 'list_risk_rules() shows the rules.';
    END IF;
    RETURN v_result;
END;
$$;
COMMENT ON FUNCTION exchange.update_risk_rule(integer, text, jsonb, jsonb, text, integer) IS
    'Changes a risk rule''s name, conditions, actions, level or priority (NULL keeps; re-validated; risk_rule:manage). Raises EX320, EX321, EX402, EX403.';
REVOKE ALL ON FUNCTION exchange.update_risk_rule(integer, text, jsonb, jsonb, text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.update_risk_rule(integer, text, jsonb, jsonb, text, integer) TO exchange_app;

CREATE OR REPLACE FUNCTION exchange.set_risk_rule_active(p_rule_id integer, p_active boolean)
RETURNS exchange.risk_rules
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
DECLARE
    v_result exchange.risk_rules;
BEGIN
    PERFORM exchange._require_admin('risk_rule', 'manage');
    IF p_active IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'EX402',
            MESSAGE = 'invalid risk rule: is_active must be true or false',
            DETAIL = 'field is_active: NULL', HINT = 'Pass true or false.';
    END IF;
    UPDATE exchange.risk_rules r SET is_active = p_active
     WHERE r.id = p_rule_id
    RETURNING r.* INTO v_result;
    IF v_result.id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'EX403',
            MESSAGE = format('unknown risk rule %s', COALESCE(p_rule_id::text, 'NULL')),
            DETAIL = 'exchange.risk_rules has no rule with this id.',
            HINT = 'list_risk_rules() shows the rules.';
    END IF;
    RETURN v_result;
END;
$$;
COMMENT ON FUNCTION exchange.set_risk_rule_active(integer, boolean) IS
    'Enables or disables a risk rule (re-validated; risk_rule:manage). Raises EX320, EX321, EX402, EX403.';
REVOKE ALL ON FUNCTION exchange.set_risk_rule_active(integer, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.set_risk_rule_active(integer, boolean) TO exchange_app;

CREATE OR REPLACE FUNCTION exchange.list_risk_rules(p_include_inactive boolean DEFAULT true)
RETURNS SETOF exchange.risk_rules
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM exchange._require_admin('report', 'read');
    RETURN QUERY
    SELECT r.* FROM exchange.risk_rules r
     WHERE r.is_active OR COALESCE(p_include_inactive, true)
     ORDER BY r.scope, r.priority, r.id;
END;
$$;
COMMENT ON FUNCTION exchange.list_risk_rules(boolean) IS
    'The risk rules in evaluation order per scope (report:read). Raises EX320, EX321.';
REVOKE ALL ON FUNCTION exchange.list_risk_rules(boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.list_risk_rules(boolean) TO exchange_app;

-- exchange._check_risk_level(p_level text) RETURNS void
-- Internal: refuses a level that is not LOW, MEDIUM, HIGH or CRITICAL. Raises EX402.
CREATE OR REPLACE FUNCTION exchange._check_risk_level(p_level text)
RETURNS void
LANGUAGE plpgsql
IMMUTABLE
AS $$
BEGIN
    IF p_level IS NULL OR p_level NOT IN ('LOW', 'MEDIUM', 'HIGH', 'CRITICAL') THEN
        RAISE EXCEPTION USING ERRCODE = 'EX402',
            MESSAGE = format('invalid risk rule: level %s', exchange._quote(p_level)),
            DETAIL = 'field level: must be LOW, MEDIUM, HIGH or CRITICAL',
            HINT = 'See docs/risk.md.';
    END IF;
END;
$$;
COMMENT ON FUNCTION exchange._check_risk_level(text) IS 'Internal: refuses an unknown risk level (EX402).';
REVOKE ALL ON FUNCTION exchange._check_risk_level(text) FROM PUBLIC;
