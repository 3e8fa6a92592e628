-- exchange.set_webhook_endpoint(p_user_id bigint, p_url text, p_secret text) RETURNS void
-- Sets (or replaces) where the user's WEBHOOK notifications are POSTed and the secret of
-- their signature (header X-Exchange-Signature: sha256=<hex HMAC-SHA256(secret, body)>).
-- A NULL p_url removes the endpoint.
-- The URL must be http(s) and its host public (exchange._check_webhook_url: no loopback,
-- private, link-local, multicast or unspecified address, no obvious local name) unless an
-- admin allowed the host (exchange.set_webhook_host_allowed); the Python client also resolves
-- a host name and refuses it when it resolves to such an address, and the worker checks again
-- before each delivery.
-- The secret is stored encrypted (exchange._check_ciphertext): p_secret is the envelope the
-- application made of a secret of at least 16 characters (pyexchange.crypto); the
-- notification worker decrypts it to sign.
-- Raises: EX001 (no such user, no secret, a URL over 2000 characters, a secret envelope
-- outside 16..1024 characters), EX381 (refused URL), EX382 (the secret is not a
-- ciphertext), EX320, EX360, EX303, EX321, EX322 (access, exchange._authorize_for_user). Locks: the endpoint row.
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
    IF length(p_url) > 2000 OR coalesce(length(p_secret), 0) NOT BETWEEN 16 AND 1024 THEN
        RAISE EXCEPTION USING ERRCODE = 'EX001', MESSAGE = 'invalid webhook endpoint',
            DETAIL = format('url %s (%s characters), secret length %s', exchange._quote(p_url),
                            length(p_url), coalesce(length(p_secret), 0)),
            HINT = 'A URL of at most 2000 characters and the envelope of a secret of 16 to 256 characters.';
    END IF;
    PERFORM exchange._check_webhook_url(p_url);
    PERFORM exchange._check_ciphertext(p_secret, 'the webhook secret');
    INSERT INTO exchange.webhook_endpoints (user_id, url, secret) VALUES (p_user_id, p_url, p_secret)
    ON CONFLICT ON CONSTRAINT webhook_endpoints_pkey DO UPDATE
        SET url = EXCLUDED.url, secret = EXCLUDED.secret, is_active = true;
END
$$;
COMMENT ON FUNCTION exchange.set_webhook_endpoint(bigint, text, text) IS
    'Sets or removes a user''s webhook URL (http(s), a public host unless allowed by an admin) and signing secret. Raises EX001, EX381, EX320, EX321, EX322.';
REVOKE ALL ON FUNCTION exchange.set_webhook_endpoint(bigint, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.set_webhook_endpoint(bigint, text, text) TO exchange_app;
