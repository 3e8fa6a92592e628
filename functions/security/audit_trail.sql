-- exchange.audit_trail(p_entity text, p_entity_id text, p_limit integer DEFAULT 1000)
--   RETURNS SETOF exchange.audit_logs
-- The audit log of one entity, oldest first: p_entity is an audited table name ('users',
-- 'roles', 'user_roles', 'role_permissions', 'kyc_verifications', 'assets', 'trading_pairs',
-- 'risk_rules', ...) or its singular ('user', 'asset', 'trading_pair', 'kyc', ...);
-- p_entity_id its key as text ('42'; 'user_id:role_id' for user_roles). Allowed to members of
-- the database role exchange_auditor, and to an acting user holding audit:read.
-- Raises: EX341 malformed entity; EX320/EX321 not allowed.
-- Locks: none.
CREATE OR REPLACE FUNCTION exchange.audit_trail(
    p_entity text, p_entity_id text, p_limit integer DEFAULT 1000)
RETURNS SETOF exchange.audit_logs
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
DECLARE
    v_table text;
BEGIN
    IF NOT pg_has_role(session_user, 'exchange_auditor', 'MEMBER') THEN
        PERFORM exchange._require_admin('audit', 'read');
    END IF;
    IF p_entity IS NULL OR p_entity !~ '^[a-z][a-z_]{0,62}$' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX341',
            MESSAGE = 'invalid audit entity',
            DETAIL = 'The entity is not a lower-case table name.',
            HINT = 'Name a table, e.g. users, assets, trading_pairs, kyc_verifications.';
    END IF;
    v_table := CASE p_entity
        WHEN 'user' THEN 'users'
        WHEN 'role' THEN 'roles'
        WHEN 'user_role' THEN 'user_roles'
        WHEN 'role_permission' THEN 'role_permissions'
        WHEN 'kyc' THEN 'kyc_verifications'
        WHEN 'kyc_verification' THEN 'kyc_verifications'
        WHEN 'asset' THEN 'assets'
        WHEN 'pair' THEN 'trading_pairs'
        WHEN 'trading_pair' THEN 'trading_pairs'
        WHEN 'risk_rule' THEN 'risk_rules'
        ELSE p_entity END;
    RETURN QUERY
        SELECT * FROM exchange.audit_logs
         WHERE table_name = v_table AND entity_key = p_entity_id
         ORDER BY created_at, id
         LIMIT greatest(coalesce(p_limit, 1000), 0);
END;
$$;
COMMENT ON FUNCTION exchange.audit_trail(text, text, integer) IS
    'The audit log of one entity (table or singular name, key as text), oldest first; exchange_auditor members or audit:read. Raises EX320, EX321, EX341.';
REVOKE ALL ON FUNCTION exchange.audit_trail(text, text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.audit_trail(text, text, integer) TO exchange_app, exchange_auditor;
