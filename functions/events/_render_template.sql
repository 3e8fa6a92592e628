-- exchange._render_template(p_text text, p_payload jsonb) RETURNS text
-- Internal: fills the {{key}} placeholders of a notification subject or body with the
-- payload's top-level values (->> text form; a key absent from this payload gives '').
-- Which keys a template may use is checked once, when the template is created
-- (exchange.create_notification_template), not here.
-- Raises: nothing. Locks: none.
CREATE OR REPLACE FUNCTION exchange._render_template(p_text text, p_payload jsonb)
RETURNS text
LANGUAGE plpgsql
IMMUTABLE
AS $$
DECLARE
    v_out text := p_text;
    v_key text;
BEGIN
    FOR v_key IN
        SELECT DISTINCT m[1] FROM regexp_matches(p_text, '\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}', 'g') AS m
    LOOP
        v_out := regexp_replace(v_out, '\{\{\s*' || v_key || '\s*\}\}',
                                replace(coalesce(p_payload ->> v_key, ''), '\', '\\'), 'g');
    END LOOP;
    RETURN v_out;
END
$$;
COMMENT ON FUNCTION exchange._render_template(text, jsonb) IS
    'Internal: fills {{key}} placeholders from a JSON payload.';
REVOKE ALL ON FUNCTION exchange._render_template(text, jsonb) FROM PUBLIC;
