-- exchange._validate_profile(p_first_name text, p_last_name text, p_phone text) RETURNS void
-- Internal: checks the optional profile fields: names of 1 to 50 printable characters,
-- phone of 4 to 20 characters among digits, spaces, + ( ) - (NULL fields are not checked).
-- Raises: EX312 a field is malformed.
-- Locks: none.
CREATE OR REPLACE FUNCTION exchange._validate_profile(
    p_first_name text, p_last_name text, p_phone text)
RETURNS void
LANGUAGE plpgsql
IMMUTABLE
AS $$
BEGIN
    IF (p_first_name IS NOT NULL AND (char_length(p_first_name) NOT BETWEEN 1 AND 50
                                      OR p_first_name ~ '[[:cntrl:]]'))
       OR (p_last_name IS NOT NULL AND (char_length(p_last_name) NOT BETWEEN 1 AND 50
                                        OR p_last_name ~ '[[:cntrl:]]'))
       OR (p_phone IS NOT NULL AND p_phone !~ '^\+?[0-9 ()-]{4,20}$') THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX312',
            MESSAGE = 'invalid profile field',
            DETAIL = 'names are 1 to 50 printable characters; a phone is 4 to 20 digits, spaces, +, (, ), -',
            HINT = 'Correct the field and retry.';
    END IF;
END;
$$;
COMMENT ON FUNCTION exchange._validate_profile(text, text, text) IS
    'Internal: validates optional profile fields (names, phone). Raises EX312.';
REVOKE ALL ON FUNCTION exchange._validate_profile(text, text, text) FROM PUBLIC;
