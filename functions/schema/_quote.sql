-- exchange._quote(p_value text, p_max integer DEFAULT 64) RETURNS text
-- Internal: an argument as error messages and details may quote it: quote_nullable's form,
-- cut to its first p_max characters with its full length noted ('abc...' (100000 chars)),
-- so that a huge argument never comes back whole in an error (and from there into logs).
-- Raises nothing; takes no locks. Access: internal helper (no grant).
CREATE OR REPLACE FUNCTION exchange._quote(p_value text, p_max integer DEFAULT 64)
RETURNS text
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
AS $$
    SELECT CASE
        WHEN p_value IS NULL THEN 'NULL'
        WHEN length(p_value) <= p_max THEN quote_literal(p_value)
        ELSE quote_literal(left(p_value, p_max)) || format('... (%s chars)', length(p_value))
    END
$$;
COMMENT ON FUNCTION exchange._quote(text, integer) IS
    'Internal: a text argument quoted for an error message, cut to its first p_max (64) characters.';
REVOKE ALL ON FUNCTION exchange._quote(text, integer) FROM PUBLIC;
