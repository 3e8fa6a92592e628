-- exchange._check_ciphertext(p_value text, p_field text) RETURNS void
-- Internal: the fields encrypted by the application (users.phone,
-- kyc_verifications.documents, webhook_endpoints.secret) are stored as ciphertext only. A
-- value must be NULL or an envelope made by pyexchange.crypto:
--   pyxenc:1:<data key id>:<base64url(nonce || AES-256-GCM ciphertext and tag)>
-- The database cannot decrypt or validate the plaintext (the Python layer validates it before
-- encrypting); it refuses anything else, so a plaintext phone, document or secret passed to
-- the SQL API directly is refused, not stored. A DBA in psql passes an envelope made with
-- `pyexchange keys encrypt FIELD` (docs/security.md), or NULL.
-- Access: internal (no grant): called by _validate_profile, submit_kyc, set_webhook_endpoint.
-- Raises: EX382 (not an envelope). Locks: none.
CREATE OR REPLACE FUNCTION exchange._check_ciphertext(p_value text, p_field text)
RETURNS void
LANGUAGE plpgsql
IMMUTABLE
AS $$
BEGIN
    IF p_value IS NOT NULL AND p_value !~ '^pyxenc:1:[0-9]{1,10}:[A-Za-z0-9_-]{38,}$' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX382',
            MESSAGE = format('%s is stored encrypted: pass its ciphertext, not the plain value', p_field),
            DETAIL = 'expected pyxenc:1:<data key id>:<base64url>',
            HINT = 'The pyexchange client encrypts it; in psql use the output of `pyexchange keys encrypt` (docs/security.md).';
    END IF;
END;
$$;
COMMENT ON FUNCTION exchange._check_ciphertext(text, text) IS
    'Internal: refuses (EX382) a value of an application-encrypted field that is not a pyexchange envelope (pyxenc:1:...).';
REVOKE ALL ON FUNCTION exchange._check_ciphertext(text, text) FROM PUBLIC;
