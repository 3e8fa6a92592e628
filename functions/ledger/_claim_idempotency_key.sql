-- exchange._claim_idempotency_key(p_key text, p_operation text, p_request text) RETURNS bigint
-- Internal: claims an idempotency key for a call. Returns NULL when this call claimed it (the
-- caller then does the work and stores its result with
-- UPDATE exchange.idempotency_keys SET result_id = ... WHERE key = p_key), or the original
-- result when the key was used before by the same operation with the same request (the
-- caller returns it and moves nothing). A concurrent call with the same key waits on the
-- primary-key insert until the first commits (then replays) or rolls back (then claims).
-- Raises: EX109 (key missing, blank or longer than 200 characters), EX108 (the key was used by
--         another operation or another request), EX010 (a claimed key without a result).
-- Locks: the key's primary-key entry until commit.
CREATE OR REPLACE FUNCTION exchange._claim_idempotency_key(
    p_key text, p_operation text, p_request text)
RETURNS bigint
LANGUAGE plpgsql
AS $$
DECLARE
    v_operation text;
    v_request   text;
    v_result    bigint;
BEGIN
    IF p_key IS NULL OR length(p_key) NOT BETWEEN 1 AND 200 OR p_key !~ '[^[:space:]]' THEN
        PERFORM exchange._check_idempotency_key(p_key);
    END IF;
    INSERT INTO exchange.idempotency_keys (key, operation, request)
    VALUES (p_key, p_operation, p_request)
    ON CONFLICT (key) DO NOTHING;
    IF FOUND THEN
        RETURN NULL;
    END IF;
    SELECT k.operation, k.request, k.result_id INTO v_operation, v_request, v_result
      FROM exchange.idempotency_keys k WHERE k.key = p_key;
    IF v_operation IS DISTINCT FROM p_operation OR v_request IS DISTINCT FROM p_request THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX108',
            MESSAGE = format('idempotency key %s was used for another request', exchange._quote(p_key)),
            DETAIL = format('first used by %s (%s); now %s (%s)', v_operation,
                            exchange._quote(v_request, 200), p_operation, exchange._quote(p_request, 200)),
            HINT = 'Use a new key for a new request; retry a request with its original key and arguments.';
    END IF;
    IF v_result IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX010',
            MESSAGE = format('idempotency key %s has no result', exchange._quote(p_key)),
            DETAIL = 'The key was claimed, but the call that claimed it stored no result.',
            HINT = 'This is a bug in the function that claimed the key.';
    END IF;
    RETURN v_result;
END;
$$;
COMMENT ON FUNCTION exchange._claim_idempotency_key(text, text, text) IS
    'Internal: claims a key (NULL) or returns the original result of the same request; raises EX108 for another request with the key, EX109 for a bad key.';
REVOKE ALL ON FUNCTION exchange._claim_idempotency_key(text, text, text) FROM PUBLIC;
