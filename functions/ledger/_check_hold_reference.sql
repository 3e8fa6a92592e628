-- exchange._check_hold_reference(p_reference_type text, p_reference_id bigint) RETURNS void
-- Internal: a hold's reference (freeze, unfreeze) is a type of 1-40 characters A-Z and _
-- starting with a letter, and an id. The system's own reference types (ORDER, TRADE,
-- WITHDRAWAL, DEPOSIT, TRANSFER, SETTLEMENT_BATCH) are refused: a manual hold named like an
-- order's or a withdrawal's would read as one in the journal and in reports.
-- Raises: EX117.
CREATE OR REPLACE FUNCTION exchange._check_hold_reference(
    p_reference_type text,
    p_reference_id bigint
)
RETURNS void
LANGUAGE plpgsql
IMMUTABLE
AS $$
BEGIN
    IF p_reference_type IS NULL OR p_reference_type !~ '^[A-Z][A-Z_]{0,39}$'
       OR p_reference_id IS NULL
       OR p_reference_type IN ('ORDER', 'TRADE', 'WITHDRAWAL', 'DEPOSIT', 'TRANSFER', 'SETTLEMENT_BATCH') THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX117',
            MESSAGE = format('invalid hold reference %s %s', exchange._quote(p_reference_type),
                             COALESCE(p_reference_id::text, 'NULL')),
            DETAIL = 'A reference type is 1-40 characters A-Z and _ starting with a letter, not one of the system''s (ORDER, TRADE, WITHDRAWAL, DEPOSIT, TRANSFER, SETTLEMENT_BATCH); the id is required.',
            HINT = 'A reference is a type (A-Z and _, up to 40 characters) and an id, e.g. MARGIN 42.';
    END IF;
END;
$$;
COMMENT ON FUNCTION exchange._check_hold_reference(text, bigint) IS
    'Internal: checks a hold reference (type A-Z_ up to 40 characters, and an id). Raises EX117.';
REVOKE ALL ON FUNCTION exchange._check_hold_reference(text, bigint) FROM PUBLIC;
