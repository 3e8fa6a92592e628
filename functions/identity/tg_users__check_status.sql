-- exchange.tg_users__check_status(): BEFORE UPDATE OF status trigger on exchange.users.
-- Allows only PENDING -> ACTIVE | CLOSED, ACTIVE -> SUSPENDED | CLOSED,
-- SUSPENDED -> ACTIVE | CLOSED (CLOSED is final), whoever makes the change.
-- Raises: EX310 any other transition. Locks: none of its own.
CREATE OR REPLACE FUNCTION exchange.tg_users__check_status()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF NOT ((OLD.status = 'PENDING' AND NEW.status IN ('ACTIVE', 'CLOSED'))
            OR (OLD.status = 'ACTIVE' AND NEW.status IN ('SUSPENDED', 'CLOSED'))
            OR (OLD.status = 'SUSPENDED' AND NEW.status IN ('ACTIVE', 'CLOSED'))) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX310',
            MESSAGE = format('user status cannot change from %s to %s', OLD.status, NEW.status),
            DETAIL = format('user %s', OLD.id),
            HINT = 'PENDING -> ACTIVE|CLOSED, ACTIVE -> SUSPENDED|CLOSED, SUSPENDED -> ACTIVE|CLOSED; CLOSED is final.';
    END IF;
    RETURN NEW;
END;
$$;
COMMENT ON FUNCTION exchange.tg_users__check_status() IS
    'BEFORE UPDATE OF status on users: allows only the documented status transitions (EX310).';
REVOKE ALL ON FUNCTION exchange.tg_users__check_status() FROM PUBLIC;
