-- exchange._check_text(p_value text, p_field text, p_max integer, p_errcode text,
--                      p_required boolean DEFAULT true) RETURNS void
-- Internal: the one check of a free-text argument. Refuses (with p_errcode) a value longer
-- than p_max characters, and, when p_required, a NULL, empty or whitespace-only one (an
-- optional value is only bounded: NULL and blank pass). The message names the field; the
-- detail says what is wrong and quotes at most a bounded prefix of the value (_quote).
-- Raises: p_errcode (the caller's domain code, e.g. EX001, EX402). Locks: none.
-- Access: internal helper (no grant).
CREATE OR REPLACE FUNCTION exchange._check_text(
    p_value text, p_field text, p_max integer, p_errcode text, p_required boolean DEFAULT true)
RETURNS void
LANGUAGE plpgsql
IMMUTABLE
AS $$
BEGIN
    IF p_value IS NULL THEN
        IF p_required THEN
            RAISE EXCEPTION USING ERRCODE = p_errcode,
                MESSAGE = format('%s is required', p_field),
                DETAIL = format('field %s: NULL', p_field),
                HINT = format('Give a %s of 1 to %s characters, not only blanks.', p_field, p_max);
        END IF;
    ELSIF length(p_value) > p_max THEN
        RAISE EXCEPTION USING ERRCODE = p_errcode,
            MESSAGE = format('%s is too long', p_field),
            DETAIL = format('field %s: %s characters, at most %s: %s', p_field, length(p_value),
                            p_max, exchange._quote(p_value, 32)),
            HINT = format('Shorten the %s to at most %s characters.', p_field, p_max);
    ELSIF p_required AND p_value !~ '[^[:space:]]' THEN
        RAISE EXCEPTION USING ERRCODE = p_errcode,
            MESSAGE = format('%s is blank', p_field),
            DETAIL = format('field %s: empty or only whitespace', p_field),
            HINT = format('Give a %s with at least one visible character (or leave it out when optional).', p_field);
    END IF;
END;
$$;
COMMENT ON FUNCTION exchange._check_text(text, text, integer, text, boolean) IS
    'Internal: refuses (with the given code) a free text longer than p_max, or, when required, NULL or blank.';
REVOKE ALL ON FUNCTION exchange._check_text(text, text, integer, text, boolean) FROM PUBLIC;
