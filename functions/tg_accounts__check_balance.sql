-- exchange.tg_accounts__check_balance(): BEFORE INSERT OR UPDATE trigger on accounts.
-- The seed's check_account_balance(), made typed: a user or fee account whose available or
-- frozen balance would go negative raises EX101 (insufficient funds) instead of a bare
-- check violation. The trigger is declared with a WHEN clause, so this body only runs on the
-- refusal path and costs the hot path nothing. The CHECK constraints stay as the last line.
-- Raises: EX101. Locks: none of its own.
CREATE OR REPLACE FUNCTION exchange.tg_accounts__check_balance()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    RAISE EXCEPTION USING
        ERRCODE = 'EX101',
        MESSAGE = format('insufficient funds in account %s', NEW.id),
        DETAIL = format('available would be %s, frozen would be %s',
                        NEW.available_balance, NEW.frozen_balance),
        HINT = 'A balance can never go negative; move less or deposit first.';
END;
$$;
COMMENT ON FUNCTION exchange.tg_accounts__check_balance() IS
    'BEFORE INSERT/UPDATE trigger on accounts (fires only when a balance would go negative): raises EX101.';
