-- exchange.set_webhook_endpoint(p_user_id bigint, p_url text, p_secret text) RETURNS void
-- Sets (or replaces) where the user's WEBHOOK notifications are POSTed and the secret of
-- their signature (header X-Exchange-Signature: sha256=<hex HMAC-SHA256(secret, body)>).
-- A NULL p_url removes the endpoint.
-- Raises: EX001 (no such user, URL not http(s), URL over 2000 characters, secret not
-- of 16 to 256 characters), EX322
-- (the acting user is another user). Locks: the endpoint row.
CREATE OR REPLACE FUNCTION exchange.set_webhook_endpoint(p_user_id bigint, p_url text, p_secret text)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM exchange._check_notification_owner(p_user_id);
    IF p_url IS NULL THEN
        DELETE FROM exchange.webhook_endpoints WHERE user_id = p_user_id;
        RETURN;
    END IF;
    IF p_url !~ '^https?://[^\s]+$' OR length(p_url) > 2000
       OR coalesce(length(p_secret), 0) NOT BETWEEN 16 AND 256 THEN
        RAISE EXCEPTION USING ERRCODE = 'EX001', MESSAGE = 'invalid webhook endpoint',
            DETAIL = format('url %s (%s characters), secret length %s', exchange._quote(p_url),
                            length(p_url), coalesce(length(p_secret), 0)),
            HINT = 'An http(s) URL of at most 2000 characters and a secret of 16 to 256 characters.';
    END IF;
    INSERT INTO exchange.webhook_endpoints (user_id, url, secret) VALUES (p_user_id, p_url, p_secret)
    ON CONFLICT ON CONSTRAINT webhook_endpoints_pkey DO UPDATE
        SET url = EXCLUDED.url, secret = EXCLUDED.secret, is_active = true;
END
$$;
COMMENT ON FUNCTION exchange.set_webhook_endpoint(bigint, text, text) IS
    'Sets or removes a user''s webhook URL and signing secret. Raises EX001, EX322.';
REVOKE ALL ON FUNCTION exchange.set_webhook_endpoint(bigint, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.set_webhook_endpoint(bigint, text, text) TO exchange_app;
