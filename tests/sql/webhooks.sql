-- Webhook URLs (docs/events.md): only http(s) to a public host; loopback, private,
-- link-local, multicast, unspecified and reserved addresses and obvious local names are
-- refused (EX381) and nothing is stored, unless an admin allowed the host; the allow-list is
-- for admins only.
BEGIN;
SELECT plan(33);

INSERT INTO exchange.users (username, email, password_hash, status)
VALUES ('wh_alice', 'wh_alice@example.org', 'x', 'ACTIVE'),
       ('wh_admin', 'wh_admin@example.org', 'x', 'ACTIVE');
INSERT INTO exchange.user_roles (user_id, role_id)
SELECT u.id, r.id FROM exchange.users u, exchange.roles r
 WHERE u.username = 'wh_admin' AND r.name = 'admin';
CREATE TEMP TABLE wh_u AS
SELECT (SELECT id FROM exchange.users WHERE username = 'wh_alice') AS alice,
       (SELECT id FROM exchange.users WHERE username = 'wh_admin') AS admin;
GRANT SELECT ON wh_u TO PUBLIC;

CREATE FUNCTION pg_temp.refused(p_url text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    PERFORM exchange.set_webhook_endpoint((SELECT alice FROM wh_u), p_url, 'pyxenc:1:1:' || repeat('A', 40));
    RETURN 'accepted';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE;
END $$;

SELECT is(pg_temp.refused(u), 'EX381', 'refused: ' || u) FROM unnest(ARRAY[
    'ftp://example.com/hook',
    'file:///etc/passwd',
    'gopher://example.com/',
    'http://127.0.0.1:5432/',
    'http://127.8.9.10/',
    'https://169.254.169.254/latest/meta-data',
    'http://10.1.2.3/hook',
    'http://172.20.0.1/hook',
    'http://192.168.1.1/hook',
    'http://100.64.0.1/hook',
    'http://0.0.0.0:8080/',
    'http://224.0.0.1/',
    'http://255.255.255.255/',
    'http://[::1]:8080/hook',
    'http://[::]/',
    'http://[fe80::1]/',
    'http://[fd00::1]/',
    'http://[ff02::1]/',
    'http://[::ffff:127.0.0.1]/',
    'http://localhost:8080/hook',
    'http://api.localhost/',
    'http://metadata.google.internal/computeMetadata/v1/',
    'http://2130706433/',
    'http://0x7f.0.0.1/',
    'http://0177.0.0.1/',
    'http://user:pw@example.com/hook']) AS u;
SELECT is((SELECT count(*)::int FROM exchange.webhook_endpoints
            WHERE user_id = (SELECT alice FROM wh_u)), 0, 'nothing refused was stored');
SELECT lives_ok($$SELECT exchange.set_webhook_endpoint((SELECT alice FROM wh_u),
                      'https://hooks.example.com:8443/alice?x=1', 'pyxenc:1:1:' || repeat('A', 40))$$,
                'a public https URL is accepted');

-- the allow-list: an admin's exception, for admins only
SELECT set_config('exchange.acting_user_id', (SELECT alice FROM wh_u)::text, true);
SELECT throws_ok($$SELECT exchange.set_webhook_host_allowed('127.0.0.1')$$, 'EX321', NULL,
                 'a trader cannot allow a host');
SELECT is((SELECT count(*)::int FROM exchange.webhook_allowed_hosts), 0, 'and nothing changed');
SELECT set_config('exchange.acting_user_id', (SELECT admin FROM wh_u)::text, true);
SELECT ok(exchange.set_webhook_host_allowed('127.0.0.1'), 'an admin (webhook:allow_host) allows 127.0.0.1');
SELECT set_config('exchange.acting_user_id', '', true);
SELECT is(pg_temp.refused('http://127.0.0.1:9/hook'), 'accepted', 'then a webhook on that host is accepted');
SELECT is(pg_temp.refused('http://127.0.0.2:9/hook'), 'EX381', 'and only that host');
