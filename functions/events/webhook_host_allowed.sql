-- exchange.webhook_host_allowed(p_host text) RETURNS boolean
-- Is this host (compared in lower case, without a trailing dot) on the admin's webhook
-- allow-list? The Python layer and the notification worker ask before resolving a name
-- and refusing it for a non-public address.
-- Access: exchange_app and exchange_worker (the application and the notification worker); reveals only
-- whether a host is allowed.
-- Raises: nothing. Locks: none.
CREATE OR REPLACE FUNCTION exchange.webhook_host_allowed(p_host text)
RETURNS boolean
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
    SELECT EXISTS (SELECT 1 FROM exchange.webhook_allowed_hosts
                    WHERE host = rtrim(lower(btrim(p_host, ' []')), '.'));
$$;
COMMENT ON FUNCTION exchange.webhook_host_allowed(text) IS
    'Whether a webhook host is on the admin''s allow-list (exchange.set_webhook_host_allowed).';
REVOKE ALL ON FUNCTION exchange.webhook_host_allowed(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.webhook_host_allowed(text) TO exchange_app, exchange_worker;
