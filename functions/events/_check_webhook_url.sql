-- exchange._check_webhook_url(p_url text) RETURNS text
-- Internal: refuses a webhook URL that could aim the notification worker at an internal
-- service, and returns its host (lower case, without a trailing dot or IPv6 brackets).
-- Allowed: http:// or https://, a host and an optional port, no user:password@ part; and
-- either a host in exchange.webhook_allowed_hosts (an admin's exception, e.g. a test
-- receiver on 127.0.0.1), or:
-- * an IP literal outside loopback, private (RFC 1918, fc00::/7, 100.64.0.0/10), link-local
--   (169.254.0.0/16, fe80::/10, the cloud metadata address among them), multicast,
--   unspecified (0.0.0.0/8, ::), reserved and documentation ranges, IPv4-mapped and NAT64
--   IPv6;
-- * a host name that is not an obvious local one (localhost and *.localhost,
--   localhost.localdomain, ip6-localhost, ip6-loopback, metadata.google.internal) and not a
--   number in disguise (2130706433, 0x7f.1, 0177.0.0.1, 127.1: some resolvers read these as
--   addresses).
-- What a host name resolves to is checked by the Python layer when the URL is set
-- (pyexchange.webhooks) and again by the notification worker right before it connects (DNS
-- can change); the database cannot resolve names.
-- Access: internal (no grant): called by set_webhook_endpoint.
-- Raises: EX381 (refused URL). Locks: none.
CREATE OR REPLACE FUNCTION exchange._check_webhook_url(p_url text)
RETURNS text
LANGUAGE plpgsql
STABLE
AS $$
DECLARE
    v_m     text[];
    v_host  text;
    v_port  text;
    v_addr  inet;
    v_why   text;
BEGIN
    v_m := regexp_match(p_url, '^(https?)://([^/?#\s]*)([/?#][^\s]*)?$');
    IF v_m IS NULL THEN
        v_why := 'not an http:// or https:// URL';
    ELSIF position('@' IN v_m[2]) > 0 THEN
        v_why := 'a user:password@ part is not allowed';
    ELSE
        IF v_m[2] LIKE '[%' THEN
            v_host := substring(v_m[2] FROM '^\[([0-9A-Fa-f:.]+)\]');
            v_port := substring(v_m[2] FROM '^\[[^]]*\](?::([0-9]*))?$');
            IF v_host IS NULL OR v_m[2] !~ '^\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$' THEN
                v_why := 'a malformed IPv6 host';
            END IF;
        ELSE
            v_host := split_part(v_m[2], ':', 1);
            v_port := nullif(substring(v_m[2] FROM ':([^:]*)$'), '');
            IF v_m[2] !~ '^[^:]+(:[0-9]{1,5})?$' THEN
                v_why := 'a malformed host or port';
            END IF;
        END IF;
        v_host := rtrim(lower(v_host), '.');
        IF v_why IS NULL AND v_port IS NOT NULL AND v_port::integer NOT BETWEEN 1 AND 65535 THEN
            v_why := 'a port outside 1..65535';
        END IF;
    END IF;

    IF v_why IS NULL AND NOT EXISTS (SELECT 1 FROM exchange.webhook_allowed_hosts a
                                      WHERE a.host = v_host) THEN
        IF v_host = '' THEN
            v_why := 'no host';
        ELSIF v_host ~ '^[0-9]{1,3}(\.[0-9]{1,3}){3}$' AND v_host !~ '(^|\.)0[0-9]' THEN
            v_addr := v_host::inet;
        ELSIF v_host ~ ':' THEN
            BEGIN
                v_addr := v_host::inet;
            EXCEPTION WHEN invalid_text_representation THEN
                v_why := 'a malformed IPv6 address';
            END;
        ELSIF v_host ~ '^(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+))*$' THEN
            v_why := 'an address written as a number (resolvers may read it as a local address)';
        ELSIF v_host !~ '^[a-z0-9]([a-z0-9_-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9_-]*[a-z0-9])?)*$'
              OR length(v_host) > 253 THEN
            v_why := 'a malformed host name';
        ELSIF v_host IN ('localhost', 'localhost.localdomain', 'ip6-localhost', 'ip6-loopback',
                         'metadata.google.internal') OR v_host LIKE '%.localhost' THEN
            v_why := 'a local host name';
        END IF;
        IF v_addr IS NOT NULL AND v_addr <<= ANY (ARRAY[
                '0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16',
                '172.16.0.0/12', '192.0.0.0/24', '192.0.2.0/24', '192.168.0.0/16',
                '198.18.0.0/15', '198.51.100.0/24', '203.0.113.0/24', '224.0.0.0/4',
                '240.0.0.0/4', '::/127', '::ffff:0:0/96', '64:ff9b::/96', '100::/64',
                '2001:db8::/32', 'fc00::/7', 'fe80::/10', 'ff00::/8']::inet[]) THEN
            v_why := format('%s is a loopback, private, link-local, multicast, unspecified or reserved address', v_addr);
        END IF;
    END IF;

    IF v_why IS NOT NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX381',
            MESSAGE = 'refused webhook URL: ' || v_why,
            DETAIL = format('url %L', left(p_url, 200)),
            HINT = 'A webhook goes to a public http(s) address; an admin may allow a host with exchange.set_webhook_host_allowed.';
    END IF;
    RETURN v_host;
END
$$;
COMMENT ON FUNCTION exchange._check_webhook_url(text) IS
    'Internal: refuses (EX381) a webhook URL that is not http(s) or whose host is a loopback, private, link-local, multicast, unspecified or reserved address or an obvious local name, unless the host is allowed by an admin; returns the host.';
REVOKE ALL ON FUNCTION exchange._check_webhook_url(text) FROM PUBLIC;
