-- exchange.tg_accounts__check_owner(): AFTER INSERT OR UPDATE OF kind, user_id,
-- trading_pair_id trigger on accounts.
-- The rules on an account's owner, which table CHECKs would re-check (parsed and planned
-- again) in every movement's balance UPDATE: a USER account has a user, a system account
-- (EXTERNAL, FEE, REVENUE) has none, and only a FEE account may name a trading pair. The
-- trigger fires only when a row is inserted or one of those columns is written.
-- Raises: 23514 (check_violation), naming the rule. Locks: none of its own.
CREATE OR REPLACE FUNCTION exchange.tg_accounts__check_owner()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF (NEW.kind = 'USER') IS DISTINCT FROM (NEW.user_id IS NOT NULL) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'check_violation',
            CONSTRAINT = 'accounts_owner_matches_kind',
            MESSAGE = format('a %s account %s a user', NEW.kind,
                             CASE WHEN NEW.kind = 'USER' THEN 'needs' ELSE 'cannot have' END),
            DETAIL = format('account %s: kind %s, user_id %s', NEW.id, NEW.kind,
                            COALESCE(NEW.user_id::text, 'NULL'));
    END IF;
    IF NEW.trading_pair_id IS NOT NULL AND NEW.kind IS DISTINCT FROM 'FEE' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'check_violation',
            CONSTRAINT = 'accounts_pair_only_for_fees',
            MESSAGE = format('a %s account cannot name a trading pair', NEW.kind),
            DETAIL = format('account %s: trading_pair_id %s', NEW.id, NEW.trading_pair_id);
    END IF;
    RETURN NULL;
END;
$$;
COMMENT ON FUNCTION exchange.tg_accounts__check_owner() IS
    'AFTER INSERT/UPDATE OF kind, user_id, trading_pair_id trigger on accounts: a USER account has a user, system accounts none, only FEE accounts a pair (23514).';
