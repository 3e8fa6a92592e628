-- exchange._validate_profile(p_first_name text, p_last_name text, p_phone text) RETURNS void
-- Internal: checks the optional profile fields: names of 1 to 50 printable characters
-- (NULL fields are not checked); the phone is stored encrypted, so it must be the envelope the
-- application made (exchange._check_ciphertext); the application validated the plain number
-- (4 to 20 of digits, spaces, + ( ) -) before encrypting it (pyexchange.crypto).
-- Raises: EX312 a name is malformed; EX382 the phone is not a ciphertext.
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
                                        OR p_last_name ~ '[[:cntrl:]]')) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX312',
            MESSAGE = 'invalid profile field',
            DETAIL = 'names are 1 to 50 printable characters',
            HINT = 'Correct the field and retry.';
    END IF;
    PERFORM exchange._check_ciphertext(p_phone, 'the phone');
END;
$$;
COMMENT ON FUNCTION exchange._validate_profile(text, text, text) IS
    'Internal: validates optional profile fields (names; the phone must be a ciphertext). Raises EX312, EX382.';
REVOKE ALL ON FUNCTION exchange._validate_profile(text, text, text) FROM PUBLIC;
