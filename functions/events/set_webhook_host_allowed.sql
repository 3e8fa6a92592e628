-- exchange.set_webhook_host_allowed(p_host text, p_allowed boolean DEFAULT true) RETURNS boolean
-- Adds (p_allowed) or removes a host of exchange.webhook_allowed_hosts: webhook URLs with
-- this exact host (lower case; an IP literal or a name) are accepted and sent even though it
-- is, or resolves to, a loopback, private or link-local address (e.g. a receiver in the
-- operator's own network, or a test receiver on 127.0.0.1). Returns whether anything changed.
-- Access: admin only: an acting user holding webhook:allow_host, or a DBA session (member of
-- exchange_owner) without an acting user; an exchange_app session acting for a trader, or
-- with no acting user, is refused.
-- Raises: EX320/EX321/EX303 (exchange._require_admin), EX001 (a malformed host).
-- Locks: the allow-list row.
CREATE OR REPLACE FUNCTION exchange.set_webhook_host_allowed(p_host text, p_allowed boolean DEFAULT true)
RETURNS boolean
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
DECLARE
    v_host  text := rtrim(lower(btrim(p_host, ' []')), '.');
    v_count integer;
BEGIN
    PERFORM exchange._require_admin('webhook', 'allow_host');
    IF v_host IS NULL OR v_host !~ '^[a-z0-9_.:-]{1,253}$' OR p_allowed IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'EX001', MESSAGE = 'invalid webhook host',
            DETAIL = format('host %L', left(p_host, 100)),
            HINT = 'A host name or an IP address, without scheme or port.';
    END IF;
    IF p_allowed THEN
        INSERT INTO exchange.webhook_allowed_hosts (host, allowed_by)
        VALUES (v_host, exchange._acting_user_id())
        ON CONFLICT (host) DO NOTHING;
    ELSE
        DELETE FROM exchange.webhook_allowed_hosts WHERE host = v_host;
    END IF;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    IF v_count > 0 THEN
        PERFORM exchange._audit_action(CASE WHEN p_allowed THEN 'ALLOW_WEBHOOK_HOST'
                                            ELSE 'DISALLOW_WEBHOOK_HOST' END,
                                       'webhook_allowed_hosts', v_host, NULL);
    END IF;
    RETURN v_count > 0;
END
$$;
COMMENT ON FUNCTION exchange.set_webhook_host_allowed(text, boolean) IS
    'Admin (webhook:allow_host, or a DBA): allows or disallows a webhook host that is or resolves to a non-public address. Raises EX001, EX303, EX320, EX321.';
REVOKE ALL ON FUNCTION exchange.set_webhook_host_allowed(text, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.set_webhook_host_allowed(text, boolean) TO exchange_app;
