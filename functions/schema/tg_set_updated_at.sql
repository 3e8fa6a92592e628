-- exchange.tg_set_updated_at(): BEFORE UPDATE trigger that stamps updated_at.
-- The seed's update_updated_at_column(), under the house trigger name.
-- Uses the transaction's timestamp (now()), so every row changed by one call agrees.
-- Raises nothing; takes no locks of its own.
CREATE OR REPLACE FUNCTION exchange.tg_set_updated_at()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;
COMMENT ON FUNCTION exchange.tg_set_updated_at() IS
    'BEFORE UPDATE trigger: stamps updated_at with the transaction timestamp.';
