-- exchange.reconcile()
--   RETURNS TABLE (check_name text, asset text, account_id bigint, user_id bigint,
--                  journal_id bigint, expected numeric, actual numeric, detail text)
-- Checks the ledger's invariants and returns one row per discrepancy (none when all hold):
--   ASSET_NOT_ZERO      per asset, the accounts (users and system) do not sum to zero;
--   JOURNAL_UNBALANCED  a journal record's entries do not sum to zero for an asset;
--   REPLAY_MISMATCH     an account bucket differs from the sum of its entries;
--   ENTRY_CHAIN_BROKEN  an entry's balance_before differs from the previous entry's
--                       balance_after (same account and bucket), or the first one's from 0;
--   ENTRY_ARITHMETIC    an entry's balance_after differs from balance_before + amount (the
--                       entries have no CHECK for it: _post_journals writes it so);
--   ENTRY_REFERENCE     an entry whose journal record or account is missing, or whose
--                       user or asset differs from its account's (entries have no foreign
--                       keys: _post_journals writes them from the rows it locked);
--   NEGATIVE_BALANCE    a user, FEE or REVENUE bucket is negative;
--   FROZEN_MISMATCH     an account's frozen balance differs from its open holds: open
--                       withdrawals (PENDING, REVIEW: amount + fee), manual holds
--                       (exchange.holds) and open orders (NEW, PARTIALLY_FILLED, PENDING:
--                       hold_amount, in the quote asset for buys and the base for sells);
--                       system accounts hold nothing.
-- One statement, so every check sees the same snapshot. Reads every ledger table in full.
-- Raises: nothing. Locks: none (ACCESS SHARE).
CREATE OR REPLACE FUNCTION exchange.reconcile()
RETURNS TABLE (check_name text, asset text, account_id bigint, user_id bigint,
               journal_id bigint, expected numeric, actual numeric, detail text)
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
WITH entry_sums AS (
    SELECT t.account_id,
           COALESCE(sum(t.amount) FILTER (WHERE t.bucket = 'AVAILABLE'), 0) AS available,
           COALESCE(sum(t.amount) FILTER (WHERE t.bucket = 'FROZEN'), 0) AS frozen
      FROM exchange.transactions t
     GROUP BY t.account_id
), open_holds AS (
    SELECT w.user_id, w.asset_id, w.amount + w.fee AS amount
      FROM exchange.withdrawals w
     WHERE w.status IN ('PENDING', 'REVIEW')
    UNION ALL
    SELECT h.user_id, h.asset_id, h.amount
      FROM exchange.holds h
     WHERE h.amount <> 0
    UNION ALL
    SELECT o.user_id,
           CASE o.side WHEN 'BUY' THEN tp.quote_asset_id ELSE tp.base_asset_id END,
           o.hold_amount
      FROM exchange.orders o
      JOIN exchange.trading_pairs tp ON tp.id = o.trading_pair_id
     WHERE o.status IN ('NEW', 'PARTIALLY_FILLED', 'PENDING') AND o.hold_amount <> 0
), holds_per_account AS (
    SELECT oh.user_id, oh.asset_id, sum(oh.amount) AS amount
      FROM open_holds oh
     GROUP BY oh.user_id, oh.asset_id
)
SELECT 'ASSET_NOT_ZERO', a.symbol::text, NULL::bigint, NULL::bigint, NULL::bigint,
       0::numeric, s.total, 'the accounts of the asset do not sum to zero'
  FROM (SELECT acc.asset_id, sum(acc.total_balance) AS total
          FROM exchange.accounts acc GROUP BY acc.asset_id) s
  JOIN exchange.assets a ON a.id = s.asset_id
 WHERE s.total <> 0
UNION ALL
SELECT 'JOURNAL_UNBALANCED', a.symbol::text, NULL, NULL, j.journal_id, 0, j.total,
       'the entries of the journal record do not sum to zero'
  FROM (SELECT t.journal_id, t.asset_id, sum(t.amount) AS total
          FROM exchange.transactions t GROUP BY t.journal_id, t.asset_id
        HAVING sum(t.amount) <> 0) j
  JOIN exchange.assets a ON a.id = j.asset_id
UNION ALL
SELECT 'REPLAY_MISMATCH', a.symbol::text, acc.id, acc.user_id, NULL, b.expected, b.actual,
       format('%s bucket differs from the sum of its entries', b.bucket)
  FROM exchange.accounts acc
  JOIN exchange.assets a ON a.id = acc.asset_id
  LEFT JOIN entry_sums e ON e.account_id = acc.id
 CROSS JOIN LATERAL (VALUES ('AVAILABLE', COALESCE(e.available, 0), acc.available_balance::numeric),
                            ('FROZEN', COALESCE(e.frozen, 0), acc.frozen_balance::numeric))
       AS b(bucket, expected, actual)
 WHERE b.expected <> b.actual
UNION ALL
SELECT x.check_name, a.symbol::text, c.account_id, c.user_id, c.journal_id,
       x.expected, x.actual,
       format('entry %s (%s): %s', c.id, c.bucket,
              CASE x.check_name
                  WHEN 'ENTRY_CHAIN_BROKEN'
                  THEN 'balance_before differs from the previous balance_after'
                  ELSE 'balance_after differs from balance_before + amount' END)
  FROM (SELECT t.id, t.account_id, t.user_id, t.asset_id, t.journal_id, t.bucket,
               t.amount::numeric AS amount,
               t.balance_before::numeric AS balance_before,
               t.balance_after::numeric AS balance_after,
               COALESCE(lag(t.balance_after) OVER w, 0)::numeric AS previous_after
          FROM exchange.transactions t
        WINDOW w AS (PARTITION BY t.account_id, t.bucket ORDER BY t.id)) c
 CROSS JOIN LATERAL (VALUES
           ('ENTRY_CHAIN_BROKEN', c.previous_after, c.balance_before),
           ('ENTRY_ARITHMETIC', c.balance_before + c.amount, c.balance_after)
       ) AS x(check_name, expected, actual)
  JOIN exchange.assets a ON a.id = c.asset_id
 WHERE x.expected <> x.actual
UNION ALL
SELECT 'ENTRY_REFERENCE', a.symbol::text, t.account_id, t.user_id, t.journal_id, NULL, NULL,
       format('entry %s: %s', t.id,
              CASE WHEN j.id IS NULL THEN 'no such journal record'
                   WHEN acc.id IS NULL THEN 'no such account'
                   ELSE 'user or asset differs from the account''s' END)
  FROM exchange.transactions t
  LEFT JOIN exchange.journal j ON j.id = t.journal_id
  LEFT JOIN exchange.accounts acc ON acc.id = t.account_id
  LEFT JOIN exchange.assets a ON a.id = t.asset_id
 WHERE j.id IS NULL OR acc.id IS NULL OR acc.asset_id <> t.asset_id
    OR acc.user_id IS DISTINCT FROM t.user_id
UNION ALL
SELECT 'NEGATIVE_BALANCE', a.symbol::text, acc.id, acc.user_id, NULL, 0,
       LEAST(acc.available_balance, acc.frozen_balance),
       format('%s account: available %s, frozen %s', acc.kind, acc.available_balance,
              acc.frozen_balance)
  FROM exchange.accounts acc
  JOIN exchange.assets a ON a.id = acc.asset_id
 WHERE acc.kind <> 'EXTERNAL' AND (acc.available_balance < 0 OR acc.frozen_balance < 0)
UNION ALL
SELECT 'FROZEN_MISMATCH', a.symbol::text, f.account_id, f.user_id, NULL, f.expected,
       f.actual, 'frozen balance differs from the open holds (withdrawals, holds, orders)'
  FROM (SELECT acc.id AS account_id, COALESCE(acc.user_id, h.user_id) AS user_id,
               COALESCE(acc.asset_id, h.asset_id) AS asset_id,
               COALESCE(h.amount, 0) AS expected,
               COALESCE(acc.frozen_balance, 0)::numeric AS actual
          FROM (SELECT x.* FROM exchange.accounts x WHERE x.kind = 'USER') acc
          FULL JOIN holds_per_account h
            ON h.user_id = acc.user_id AND h.asset_id = acc.asset_id
        UNION ALL
        SELECT acc.id, NULL, acc.asset_id, 0, acc.frozen_balance
          FROM exchange.accounts acc
         WHERE acc.kind <> 'USER' AND acc.frozen_balance <> 0) f
  JOIN exchange.assets a ON a.id = f.asset_id
 WHERE f.expected <> f.actual;
$$;
COMMENT ON FUNCTION exchange.reconcile() IS
    'One row per ledger discrepancy (assets sum to zero, balanced journal records, replayed, chained and consistent entries, no negative balance, frozen = open holds); empty when all hold.';
REVOKE ALL ON FUNCTION exchange.reconcile() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.reconcile() TO exchange_app;
