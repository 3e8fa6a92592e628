-- exchange._check_amount(p_amount numeric, p_decimals integer, p_asset text) RETURNS void
-- exchange._check_idempotency_key(p_key text) RETURNS void
-- Internal: the ledger's argument checks, shared by every movement so that each refusal
-- reads the same. An amount must be positive, finite (not NaN, not Infinity), below 10^18
-- (NUMERIC(36,18)) and no finer than the asset's decimals (it is refused, never rounded).
-- An idempotency key is 1 to 200 characters, not only whitespace. Hot paths test the condition inline and call
-- these only to raise.
-- Raises: EX105 (invalid amount), EX109 (invalid idempotency key).
-- Locks: none.
CREATE OR REPLACE FUNCTION exchange._check_amount(
    p_amount numeric, p_decimals integer, p_asset text)
RETURNS void
LANGUAGE plpgsql
IMMUTABLE
AS $$
BEGIN
    IF NOT COALESCE(p_amount > 0 AND p_amount < 1e18
                    AND round(p_amount, p_decimals) = p_amount, false) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX105',
            MESSAGE = format('invalid amount %s for %s', COALESCE(p_amount::text, 'NULL'), p_asset),
            DETAIL = format('%s has %s decimals; an amount must be positive, finite, below 1e18 and no finer than that',
                            p_asset, p_decimals),
            HINT = 'Pass a positive amount rounded to the asset''s decimals.';
    END IF;
END;
$$;
COMMENT ON FUNCTION exchange._check_amount(numeric, integer, text) IS
    'Internal: raises EX105 unless the amount is positive, finite, below 1e18 and no finer than the asset''s decimals.';
REVOKE ALL ON FUNCTION exchange._check_amount(numeric, integer, text) FROM PUBLIC;

CREATE OR REPLACE FUNCTION exchange._check_idempotency_key(p_key text)
RETURNS void
LANGUAGE plpgsql
IMMUTABLE
AS $$
BEGIN
    IF p_key IS NULL OR length(p_key) NOT BETWEEN 1 AND 200 OR p_key !~ '[^[:space:]]' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX109',
            MESSAGE = 'invalid idempotency key',
            DETAIL = format('key of %s characters%s', length(p_key),
                            CASE WHEN p_key !~ '[^[:space:]]' THEN ', only whitespace' ELSE '' END),
            HINT = 'Pass a key of 1 to 200 characters that is unique per request (a UUID).';
    END IF;
END;
$$;
COMMENT ON FUNCTION exchange._check_idempotency_key(text) IS
    'Internal: raises EX109 unless the idempotency key has 1 to 200 characters, not only whitespace.';
REVOKE ALL ON FUNCTION exchange._check_idempotency_key(text) FROM PUBLIC;
