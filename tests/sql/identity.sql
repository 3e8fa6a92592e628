-- Identity and access: users, login and lockout, profile versions, RBAC and the permission
-- guard, KYC and its limits, the audit log (docs/security.md).
BEGIN;
SELECT plan(107);

UPDATE exchange.auth_settings SET bcrypt_cost = 4, max_failed_logins = 3;

-- --- registration --------------------------------------------------------------------------
SELECT is((exchange.register_user('t_alice', 'Alice@Example.org', 'alice-pass-1', 'Alice')).status,
          'PENDING', 'a registered user is PENDING');
SELECT is((SELECT roles FROM exchange.user_profiles WHERE username = 't_alice'), ARRAY['trader'],
          'a registered user has the trader role');
SELECT ok((SELECT password_hash LIKE '$2a$04$%' FROM exchange.users WHERE username = 't_alice'),
          'the password is stored as a bcrypt hash at the configured cost');
SELECT ok((SELECT password_hash !~ 'alice-pass-1' FROM exchange.users WHERE username = 't_alice'),
          'the plaintext is not stored');
SELECT hasnt_column('exchange', 'user_profiles', 'password_hash', 'profiles carry no hash');
SELECT throws_ok($$SELECT exchange.register_user('t_ALICE', 'other@example.org', 'alice-pass-1')$$,
                 'EX307', NULL, 'usernames are unique case-insensitively');
SELECT throws_ok($$SELECT exchange.register_user('t_alice2', 'alice@EXAMPLE.org', 'alice-pass-1')$$,
                 'EX308', NULL, 'emails are unique case-insensitively');
SELECT throws_ok($$SELECT exchange.register_user('a', 'a@example.org', 'alice-pass-1')$$,
                 'EX304', NULL, 'a too short username is refused');
SELECT throws_ok($$SELECT exchange.register_user('t_x''; DROP TABLE exchange.users; --', 'x@example.org', 'alice-pass-1')$$,
                 'EX304', NULL, 'an injection attempt through the username is an invalid username');
SELECT throws_ok($$SELECT exchange.register_user('t_bad', 'no-at-sign', 'alice-pass-1')$$,
                 'EX305', NULL, 'a malformed email is refused');
SELECT throws_ok($$SELECT exchange.register_user('t_bad', 'x@example.org''); DELETE FROM exchange.users; --', 'alice-pass-1')$$,
                 'EX305', NULL, 'an injection attempt through the email is an invalid email');
SELECT throws_ok($$SELECT exchange.register_user('t_bad', 'bad@example.org', 'short')$$,
                 'EX306', NULL, 'a short password is refused');
SELECT throws_ok($$SELECT exchange.register_user('t_bad', 'bad@example.org', repeat('x', 73))$$,
                 'EX306', NULL, 'a password over 72 bytes (bcrypt would ignore the rest) is refused');
SELECT throws_ok($$SELECT exchange.register_user('t_badname', 'bad@example.org', 'T_BADNAME')$$,
                 'EX306', NULL, 'the username as password is refused');
SELECT throws_ok($$SELECT exchange.register_user('t_bad', 'bad@example.org', 'long-enough-1', NULL, NULL, '12; DROP')$$,
                 'EX382', NULL, 'a phone that is not a ciphertext (plain text, or an injection) is refused');
SELECT is((SELECT count(*)::int FROM exchange.users WHERE username LIKE 't\_%'), 1,
          'refused registrations left no user behind');

-- --- status --------------------------------------------------------------------------------
SELECT is((exchange.authenticate('t_alice', 'alice-pass-1')).error_code, 'EX303',
          'a PENDING user cannot log in, even with the right password');
SELECT is((exchange.activate_user((SELECT id FROM exchange.users WHERE username = 't_alice'))).status,
          'ACTIVE', 'activate_user makes the user ACTIVE');
SELECT throws_ok($$SELECT exchange.activate_user((SELECT id FROM exchange.users WHERE username = 't_alice'))$$,
                 'EX310', NULL, 'an ACTIVE user cannot be activated again');
SELECT throws_ok($$SELECT exchange.activate_user(-1)$$, 'EX309', NULL, 'activating an unknown user');
SELECT throws_ok($$UPDATE exchange.users SET status = 'PENDING' WHERE username = 't_alice'$$,
                 'EX310', NULL, 'ACTIVE -> PENDING is refused by the trigger, whoever tries');

-- --- login ---------------------------------------------------------------------------------
SELECT ok((exchange.authenticate('T_ALICE', 'alice-pass-1')).authenticated,
          'login by username, case-insensitive');
SELECT ok((exchange.authenticate('alice@example.ORG', 'alice-pass-1')).authenticated,
          'login by email, case-insensitive');
SELECT ok((SELECT last_login_at IS NOT NULL FROM exchange.users WHERE username = 't_alice'),
          'success sets last_login_at');
SELECT is((exchange.authenticate('t_alice', 'wrong')).error_code, 'EX301', 'a wrong password: EX301');
SELECT is((exchange.authenticate('t_nobody', 'wrong')).error_code, 'EX301',
          'an unknown user: the same EX301');
SELECT is((exchange.authenticate('t_nobody', 'wrong')).message,
          (exchange.authenticate('t_alice', 'wrong')).message,
          'and the same message: existence is not revealed');
SELECT is((SELECT failed_login_attempts FROM exchange.users WHERE username = 't_alice'), 2,
          'each wrong password counts');
SELECT ok((exchange.authenticate('t_alice', 'alice-pass-1')).authenticated, 'the right password still works');
SELECT is((SELECT failed_login_attempts FROM exchange.users WHERE username = 't_alice'), 0,
          'success resets the count');
SELECT is((exchange.authenticate('t_alice', 'wrong')).error_code, 'EX301', 'failure 1');
SELECT is((exchange.authenticate('t_alice', 'wrong')).error_code, 'EX301', 'failure 2');
SELECT is((exchange.authenticate('t_alice', 'wrong')).error_code, 'EX301', 'failure 3 (the limit)');
SELECT ok((SELECT locked_until > now() + interval '14 minutes' FROM exchange.users WHERE username = 't_alice'),
          'the limit of consecutive failures locks the user for the configured time');
SELECT is((exchange.authenticate('t_alice', 'alice-pass-1')).error_code, 'EX302',
          'a locked user cannot log in with the right password');
SELECT is((exchange.authenticate('t_alice', 'wrong')).error_code, 'EX301',
          'a wrong password while locked still says only EX301');
SELECT is((SELECT failed_login_attempts FROM exchange.users WHERE username = 't_alice'), 4,
          'attempts while locked count too');
INSERT INTO exchange.users (username, email, password_hash, status)
VALUES ('t_handmade', 'handmade@example.org', 'x', 'ACTIVE');
SELECT is((exchange.authenticate('t_handmade', 'x')).error_code, 'EX301',
          'a row with a non-bcrypt hash never authenticates (and does not break login)');
UPDATE exchange.users SET locked_until = now() - interval '1 second' WHERE username = 't_alice';
SELECT ok((exchange.authenticate('t_alice', 'alice-pass-1')).authenticated,
          'once the lock has expired the right password works');
-- bcrypt reads 72 bytes: a login with more is refused exactly as registration refuses it.
SELECT exchange.activate_user((exchange.register_user('t_long', 'long@example.org', repeat('p', 72))).id);
SELECT ok((exchange.authenticate('t_long', repeat('p', 72))).authenticated,
          'a password of exactly 72 bytes logs in');
SELECT throws_ok($$SELECT exchange.authenticate('t_long', repeat('p', 72) || 'anything')$$,
                 'EX306', NULL, 'its first 72 bytes followed by anything are refused (EX306, as at registration)');
SELECT throws_ok($$SELECT exchange.authenticate('t_long', repeat('p', 70) || 'éé')$$,
                 'EX306', NULL, 'the limit is in bytes, not characters');
SELECT throws_ok($$SELECT exchange.authenticate('t_nobody', repeat('p', 73))$$,
                 'EX306', NULL, 'the same refusal for an unknown login (existence is not revealed)');
SELECT is((SELECT failed_login_attempts FROM exchange.users WHERE username = 't_long'), 0,
          'a refused over-long password changes nothing');

-- --- profile -------------------------------------------------------------------------------
SELECT is((exchange.update_user_profile((SELECT id FROM exchange.users WHERE username = 't_alice'),
                                        (SELECT version FROM exchange.users WHERE username = 't_alice'),
                                        p_last_name => 'Liddell')).last_name,
          'Liddell', 'a profile change with the current version');
SELECT throws_ok($$SELECT exchange.update_user_profile((SELECT id FROM exchange.users WHERE username = 't_alice'),
                                                       (SELECT version - 1 FROM exchange.users WHERE username = 't_alice'),
                                                       p_last_name => 'Stale')$$,
                 'EX311', NULL, 'a stale version is refused');
SELECT is((SELECT last_name FROM exchange.users WHERE username = 't_alice'), 'Liddell',
          'the stale change changed nothing');

-- --- RBAC ----------------------------------------------------------------------------------
-- (admins committed by other tests of a shared database are set aside; all is rolled back)
UPDATE exchange.users SET status = 'SUSPENDED'
 WHERE status = 'ACTIVE' AND id IN (SELECT ur.user_id FROM exchange.user_roles ur
                                      JOIN exchange.roles r ON r.id = ur.role_id WHERE r.name = 'admin');
SELECT is((exchange.bootstrap_admin('t_root', 'root@example.org', 'root-pass-1')).roles,
          ARRAY['admin', 'trader'], 'bootstrap_admin makes an ACTIVE admin');
SELECT throws_ok($$SELECT exchange.bootstrap_admin('t_root2', 'root2@example.org', 'root-pass-1')$$,
                 'EX325', NULL, 'only once');
SELECT is((SELECT count(*)::int FROM exchange.roles
            WHERE name IN ('admin', 'trader', 'risk_officer', 'auditor', 'support')), 5, 'the five roles are seeded');
SELECT ok(exchange.has_permission((SELECT id FROM exchange.users WHERE username = 't_root'), 'asset', 'create'),
          'admin may create assets');
SELECT ok(NOT exchange.has_permission((SELECT id FROM exchange.users WHERE username = 't_alice'), 'asset', 'create'),
          'a trader may not');
SELECT throws_ok($$SELECT exchange._require_permission('asset', 'create')$$, 'EX320', NULL,
                 'the guard refuses a call without an acting user');
SELECT set_config('exchange.acting_user_id', (SELECT id FROM exchange.users WHERE username = 't_alice')::text, true);
SELECT throws_ok($$SELECT exchange._require_permission('asset', 'create')$$, 'EX321', NULL,
                 'the guard refuses an acting user without the permission');
SELECT throws_ok($$SELECT exchange._require_permission('asset', 'crate')$$, 'EX326', NULL,
                 'the guard names an unknown permission (a caller''s typo)');
SELECT throws_ok($$SELECT exchange.grant_role((SELECT id FROM exchange.users WHERE username = 't_alice'), 'admin')$$,
                 'EX321', NULL, 'a trader cannot grant herself admin');
SELECT throws_ok($$SELECT exchange._require_permission((SELECT id FROM exchange.users WHERE username = 't_root'), 'asset', 'create')$$,
                 'EX322', NULL, 'an acting user cannot pass as another user');
SELECT set_config('exchange.acting_user_id', 'x'' OR 1=1', true);
SELECT throws_ok($$SELECT exchange._require_permission('asset', 'create')$$, 'EX320', NULL,
                 'a malformed acting user setting is refused');
SELECT set_config('exchange.acting_user_id', (SELECT id FROM exchange.users WHERE username = 't_root')::text, true);
SELECT is(exchange._require_permission('asset', 'create'), (SELECT id FROM exchange.users WHERE username = 't_root'),
          'the guard returns the permitted acting user');
SELECT ok(exchange.grant_role((SELECT id FROM exchange.users WHERE username = 't_alice'), 'support'),
          'an admin grants a role');
SELECT ok(NOT exchange.grant_role((SELECT id FROM exchange.users WHERE username = 't_alice'), 'support'),
          'granting it again changes nothing');
SELECT throws_ok($$SELECT exchange.grant_role((SELECT id FROM exchange.users WHERE username = 't_alice'), 'admin''; --')$$,
                 'EX323', NULL, 'an unknown role');
SELECT throws_ok($$SELECT exchange.revoke_role((SELECT id FROM exchange.users WHERE username = 't_root'), 'admin')$$,
                 'EX324', NULL, 'the last active admin keeps the role');
SELECT throws_ok($$SELECT exchange.set_user_status((SELECT id FROM exchange.users WHERE username = 't_root'), 'SUSPENDED')$$,
                 'EX324', NULL, 'the last active admin cannot be suspended');

-- --- KYC -----------------------------------------------------------------------------------
SELECT set_config('exchange.acting_user_id', (SELECT id FROM exchange.users WHERE username = 't_alice')::text, true);
SELECT throws_ok($$SELECT exchange.submit_kyc((SELECT id FROM exchange.users WHERE username = 't_alice'), 1,
                               '{"passport": "P1"}')$$,
                 'EX337', NULL, 'documents in plain text are refused (they are stored encrypted)');
SELECT throws_ok($$SELECT exchange.submit_kyc((SELECT id FROM exchange.users WHERE username = 't_alice'), 1,
                               '{"ciphertext": "x''); DROP TABLE exchange.users; --"}')$$,
                 'EX382', NULL, 'and so is a "ciphertext" that is not an envelope');
SELECT is((exchange.submit_kyc((SELECT id FROM exchange.users WHERE username = 't_alice'), 1,
                               jsonb_build_object('ciphertext', 'pyxenc:1:1:' || repeat('A', 40)))).status,
          'PENDING', 'a submission with encrypted documents is PENDING');
SELECT throws_ok($$SELECT exchange.submit_kyc((SELECT id FROM exchange.users WHERE username = 't_alice'), 2, '{}')$$,
                 'EX331', NULL, 'one pending verification per user');
SELECT throws_ok($$SELECT exchange.submit_kyc((SELECT id FROM exchange.users WHERE username = 't_alice'), 1, '[1, 2]')$$,
                 'EX337', NULL, 'documents must be a JSON object');
SELECT throws_ok($$SELECT exchange.approve_kyc((SELECT id FROM exchange.users WHERE username = 't_alice'),
                      (SELECT id FROM exchange.kyc_verifications ORDER BY id DESC LIMIT 1))$$,
                 'EX334', NULL, 'a reviewer (support) cannot approve her own verification');
SELECT set_config('exchange.acting_user_id', (SELECT id FROM exchange.users WHERE username = 't_root')::text, true);
SELECT throws_ok($$SELECT exchange.reject_kyc((SELECT id FROM exchange.users WHERE username = 't_root'),
                      (SELECT id FROM exchange.kyc_verifications ORDER BY id DESC LIMIT 1), '')$$,
                 'EX001', NULL, 'a rejection needs a note');
SELECT is((exchange.approve_kyc((SELECT id FROM exchange.users WHERE username = 't_root'),
                               (SELECT id FROM exchange.kyc_verifications ORDER BY id DESC LIMIT 1), 'ok')).status,
          'APPROVED', 'an admin approves');
SELECT is((SELECT kyc_level FROM exchange.users WHERE username = 't_alice'), 1::smallint,
          'approval raises the user''s level');
SELECT throws_ok($$SELECT exchange.approve_kyc((SELECT id FROM exchange.users WHERE username = 't_root'),
                      (SELECT id FROM exchange.kyc_verifications ORDER BY id DESC LIMIT 1))$$,
                 'EX333', NULL, 'a verification is reviewed once');
SELECT throws_ok($$SELECT exchange.submit_kyc((SELECT id FROM exchange.users WHERE username = 't_alice'), 1, '{}')$$,
                 'EX322', NULL, 'only the user submits their own verification');

-- limits: level 0 deposits only; level 1 up to a daily amount; level 2 higher
INSERT INTO exchange.assets (symbol, name, type) VALUES ('TIDA', 'Identity A', 'CRYPTO'), ('TIDB', 'Identity B', 'CRYPTO');
SELECT lives_ok($$SELECT exchange._check_kyc_limit((SELECT id FROM exchange.users WHERE username = 't_root'), 'DEPOSIT', 1, 5)$$,
                'level 0 may deposit');
SELECT throws_ok($$SELECT exchange._check_kyc_limit((SELECT id FROM exchange.users WHERE username = 't_root'), 'TRADE', 1, 5)$$,
                 'EX335', NULL, 'level 0 may not trade');
SELECT throws_ok($$SELECT exchange._check_kyc_limit((SELECT id FROM exchange.users WHERE username = 't_root'), 'WITHDRAW', 1, 5)$$,
                 'EX335', NULL, 'level 0 may not withdraw');
SELECT is((exchange.set_kyc_limit(1, 'WITHDRAW', (SELECT id FROM exchange.assets WHERE symbol = 'TIDA'), true, 100)).daily_limit::numeric,
          100::numeric, 'an admin sets a per-asset limit');
SELECT throws_ok($$SELECT exchange.set_kyc_limit(1, 'WITHDRAW', -5, true, 100)$$, 'EX001', NULL,
                 'a limit for an unknown asset is refused');
SELECT lives_ok($$SELECT exchange._check_kyc_limit((SELECT id FROM exchange.users WHERE username = 't_alice'), 'WITHDRAW', (SELECT id FROM exchange.assets WHERE symbol = 'TIDA'), 60)$$,
                'level 1 withdraws under the daily limit');
SELECT throws_ok($$SELECT exchange._check_kyc_limit((SELECT id FROM exchange.users WHERE username = 't_alice'), 'WITHDRAW', (SELECT id FROM exchange.assets WHERE symbol = 'TIDA'), 41)$$,
                 'EX336', NULL, 'the sum of the day passes the limit');
SELECT is((SELECT used::numeric FROM exchange.kyc_daily_usage
            WHERE user_id = (SELECT id FROM exchange.users WHERE username = 't_alice') AND action = 'WITHDRAW'
              AND asset_id = (SELECT id FROM exchange.assets WHERE symbol = 'TIDA')),
          60::numeric, 'the refused amount was not counted (the counter is one row per day)');
SELECT lives_ok($$SELECT exchange._check_kyc_limit((SELECT id FROM exchange.users WHERE username = 't_alice'), 'WITHDRAW', (SELECT id FROM exchange.assets WHERE symbol = 'TIDB'), 5000)$$,
                'another asset falls back to the level''s default limit');

-- --- passwords, status changes, reading others ------------------------------------------
SELECT set_config('exchange.acting_user_id', '', true);
SELECT is((exchange.register_user('t_bob', 'bob@example.org', 'bob-pass-12')).kyc_level, 0::smallint, 'bob registers');
SELECT lives_ok($$SELECT exchange.activate_user((SELECT id FROM exchange.users WHERE username = 't_bob'))$$, 'bob is activated');
SELECT throws_ok($$SELECT exchange.change_password((SELECT id FROM exchange.users WHERE username = 't_bob'), 'wrong', 'bob-pass-new')$$,
                 'EX301', NULL, 'a password change needs the current password');
SELECT throws_ok($$SELECT exchange.change_password((SELECT id FROM exchange.users WHERE username = 't_bob'), 'bob-pass-12', 'short')$$,
                 'EX306', NULL, 'the new password meets the policy');
SELECT lives_ok($$SELECT exchange.change_password((SELECT id FROM exchange.users WHERE username = 't_bob'), 'bob-pass-12', 'bob-pass-new')$$,
                'bob changes his password');
SELECT ok((exchange.authenticate('t_bob', 'bob-pass-new')).authenticated AND NOT (exchange.authenticate('t_bob', 'bob-pass-12')).authenticated,
          'the new password works, the old one no longer');
SELECT ok((SELECT (new_values ->> 'password_changed')::boolean FROM exchange.audit_logs
            WHERE table_name = 'users' AND entity_key = (SELECT id FROM exchange.users WHERE username = 't_bob')::text
              AND new_values ? 'password_changed'),
          'the audit log says the password changed, without any hash');
SELECT set_config('exchange.acting_user_id', (SELECT id FROM exchange.users WHERE username = 't_bob')::text, true);
SELECT throws_ok($$SELECT exchange.get_user((SELECT id FROM exchange.users WHERE username = 't_root'))$$,
                 'EX321', NULL, 'a trader cannot read another user');
SELECT is((exchange.get_user((SELECT id FROM exchange.users WHERE username = 't_bob'))).username::text, 't_bob',
          'but reads himself');
SELECT throws_ok($$SELECT exchange.set_user_status((SELECT id FROM exchange.users WHERE username = 't_alice'), 'SUSPENDED')$$,
                 'EX321', NULL, 'a trader cannot suspend another user');
SELECT set_config('exchange.acting_user_id', (SELECT id FROM exchange.users WHERE username = 't_root')::text, true);
SELECT is((exchange.set_user_status((SELECT id FROM exchange.users WHERE username = 't_bob'), 'SUSPENDED', 'fraud check')).status,
          'SUSPENDED', 'an admin suspends bob');
SELECT is((exchange.authenticate('t_bob', 'bob-pass-new')).error_code, 'EX303', 'a suspended user cannot log in');
SELECT throws_ok($$SELECT exchange._check_kyc_limit((SELECT id FROM exchange.users WHERE username = 't_bob'), 'TRADE', 1, 1)$$,
                 'EX303', NULL, 'nor trade');
SELECT is((exchange.set_user_status((SELECT id FROM exchange.users WHERE username = 't_bob'), 'ACTIVE')).status,
          'ACTIVE', 'and reinstates him');
SELECT set_config('exchange.acting_user_id', (SELECT id FROM exchange.users WHERE username = 't_bob')::text, true);
SELECT is((exchange.set_user_status((SELECT id FROM exchange.users WHERE username = 't_bob'), 'CLOSED')).status,
          'CLOSED', 'a user closes his own account');
SELECT set_config('exchange.acting_user_id', (SELECT id FROM exchange.users WHERE username = 't_root')::text, true);
SELECT throws_ok($$SELECT exchange.set_user_status((SELECT id FROM exchange.users WHERE username = 't_bob'), 'ACTIVE')$$,
                 'EX310', NULL, 'CLOSED is final');
SELECT ok(EXISTS (SELECT 1 FROM exchange.audit_logs WHERE operation = 'SET_STATUS'
                   AND new_values ->> 'reason' = 'fraud check'),
          'the reason of a status change is in the audit log');

-- --- audit ---------------------------------------------------------------------------------
SELECT ok((SELECT bool_and(NOT (coalesce(old_values, '{}') ? 'password_hash') AND NOT (coalesce(new_values, '{}') ? 'password_hash'))
             FROM exchange.audit_logs WHERE table_name = 'users'),
          'no audit row carries a password hash');
SELECT is((SELECT app_user_id FROM exchange.audit_logs
            WHERE table_name = 'user_roles' AND operation = 'INSERT'
              AND entity_key = (SELECT id FROM exchange.users WHERE username = 't_alice')::text || ':'
                               || (SELECT id FROM exchange.roles WHERE name = 'support')::text),
          (SELECT id FROM exchange.users WHERE username = 't_root'),
          'the acting user reaches the audit log');
SELECT ok(EXISTS (SELECT 1 FROM exchange.audit_trail('kyc', (SELECT id FROM exchange.kyc_verifications ORDER BY id DESC LIMIT 1)::text)
                   WHERE operation = 'UPDATE' AND new_values ->> 'status' = 'APPROVED'),
          'audit_trail shows the KYC approval');
SELECT throws_ok($$SELECT * FROM exchange.audit_trail('users; DROP TABLE x', '1')$$, 'EX341', NULL,
                 'audit_trail refuses a malformed entity');
SELECT throws_ok($$DELETE FROM exchange.audit_logs$$, 'EX340', NULL, 'the audit log refuses DELETE, even to a superuser');
SELECT throws_ok($$UPDATE exchange.audit_logs SET operation = 'X'$$, 'EX340', NULL, 'and UPDATE');

SELECT * FROM finish();
ROLLBACK;
