-- exchange.authenticate(p_login text, p_password text) RETURNS exchange.login_result
-- Checks a password for a username or email (both case-insensitive) against its bcrypt hash.
-- Success (right password, user ACTIVE and not locked): resets failed_login_attempts, clears
-- locked_until, sets last_login_at, and returns authenticated = true with the user.
-- A wrong password counts one failed attempt, atomically (concurrent attempts each count);
-- when the count reaches auth_settings.max_failed_logins the user is locked for
-- auth_settings.lockout_duration. Attempts while locked still count but do not extend the
-- lock; the first failure after a lock has expired starts a new count.
-- Refusals are RETURNED, not raised (authenticated = false, error_code, message), because an
-- exception would roll back the failed-attempt count; pyexchange raises the typed error.
-- EX301 (unknown user or wrong password: the same answer, and an unknown login costs one
-- bcrypt hash too, so neither the code nor the timing reveals whether the user exists);
-- EX302 locked and EX303 not ACTIVE are told only to a caller who gave the right password.
-- Raises: EX306 for a password over 72 bytes (exchange._check_password_length, the check
-- registration makes), before any user is looked up: bcrypt reads 72 bytes, so such a password
-- would otherwise match on its first 72 alone. Nothing is counted for it.
-- An unknown login costs one bcrypt compare against a dummy hash at the current cost, as a
-- known one does against its own hash.
-- Emits: user_locked, from the failed attempt that locks the user (exchange._emit_event; payloads in docs/events.md).
-- Locks: the user row (the UPDATE), only after the password has been checked.
CREATE OR REPLACE FUNCTION exchange.authenticate(p_login text, p_password text)
RETURNS exchange.login_result
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
DECLARE
    v_user     record;
    v_settings exchange.auth_settings;
    v_ok       boolean;
    v_result   exchange.login_result;
    v_locked_until timestamptz;
    v_newly_locked boolean;
BEGIN
    PERFORM exchange._check_password_length(p_password);
    SELECT * INTO v_settings FROM exchange.auth_settings;
    SELECT u.id, u.uuid, u.username, u.password_hash, u.status, u.locked_until, u.kyc_level
      INTO v_user
      FROM exchange.users u
     WHERE lower(u.username) = lower(btrim(p_login)) OR lower(u.email) = lower(btrim(p_login))
     LIMIT 1;

    v_result.authenticated := false;
    IF v_user.id IS NULL THEN
        -- Same work as a real check (a bcrypt compare at the current cost against a dummy
        -- hash), so the answer time does not reveal existence.
        v_ok := exchange_crypto.crypt(coalesce(p_password, ''),
                                      exchange_crypto.gen_salt('bf', v_settings.bcrypt_cost))
                = repeat('x', 60);
        v_result.error_code := 'EX301';
        v_result.message := 'invalid login or password';
        RETURN v_result;
    END IF;

    -- A hash that is not bcrypt (a row written by hand) never matches.
    v_ok := p_password IS NOT NULL AND v_user.password_hash LIKE '$2_$%'
            AND exchange_crypto.crypt(p_password, v_user.password_hash) = v_user.password_hash;

    IF NOT v_ok THEN
        -- Every value is computed from the row being updated (u), never from a separate
        -- read: under concurrency the UPDATE waits for the row lock and then re-evaluates
        -- these expressions on the newest version, so no attempt is lost.
        UPDATE exchange.users u
           SET failed_login_attempts = CASE WHEN u.locked_until <= now() THEN 1
                                            ELSE u.failed_login_attempts + 1 END,
               locked_until = CASE
                   WHEN u.locked_until > now() THEN u.locked_until
                   WHEN (CASE WHEN u.locked_until <= now() THEN 1
                              ELSE u.failed_login_attempts + 1 END) >= v_settings.max_failed_logins
                       THEN now() + v_settings.lockout_duration
                   ELSE NULL END
         WHERE u.id = v_user.id
        RETURNING u.locked_until, u.failed_login_attempts = v_settings.max_failed_logins
                  AND u.locked_until > now()
             INTO v_locked_until, v_newly_locked;
        IF v_newly_locked THEN  -- the attempt that locked the user (exactly one reaches max)
            PERFORM exchange._emit_event('user', v_user.id::text, 'user_locked',
                jsonb_build_object('user_id', v_user.id, 'username', v_user.username,
                                   'status', v_user.status, 'locked_until', v_locked_until,
                                   'reason', 'too many failed logins'));
        END IF;
        v_result.error_code := 'EX301';
        v_result.message := 'invalid login or password';
        RETURN v_result;
    END IF;

    IF v_user.locked_until > now() THEN
        v_result.error_code := 'EX302';
        v_result.message := format('too many failed logins: locked until %s', v_user.locked_until);
        RETURN v_result;
    END IF;
    IF v_user.status <> 'ACTIVE' THEN
        v_result.error_code := 'EX303';
        v_result.message := format('the user is %s', v_user.status);
        RETURN v_result;
    END IF;

    UPDATE exchange.users
       SET failed_login_attempts = 0, locked_until = NULL, last_login_at = now()
     WHERE id = v_user.id;
    v_result.authenticated := true;
    v_result.user_id := v_user.id;
    v_result.user_uuid := v_user.uuid;
    v_result.username := v_user.username;
    v_result.kyc_level := v_user.kyc_level;
    v_result.last_login_at := now();
    RETURN v_result;
END;
$$;
COMMENT ON FUNCTION exchange.authenticate(text, text) IS
    'Checks a password by username or email; counts failures and locks after max_failed_logins; returns authenticated or an error_code (EX301, EX302, EX303) instead of raising, so the count is kept.';
REVOKE ALL ON FUNCTION exchange.authenticate(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.authenticate(text, text) TO exchange_app;
