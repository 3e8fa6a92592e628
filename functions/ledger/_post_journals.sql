-- exchange._post_journals(p_types text[], p_reference_types text[], p_reference_ids bigint[],
--                         p_leg_records integer[], p_account_ids bigint[],
--                         p_buckets exchange.balance_bucket[], p_amounts numeric[],
--                         p_journal_ids bigint[] DEFAULT NULL)
--   RETURNS bigint[]
-- Internal: one of the two places where balances change (the other, _post_pair, posts the
-- common one-amount movement in one statement). Posts any movement, and several journal
-- records at once (for example one per fill of an order); returns their ids in record order.
-- Records are given as parallel arrays (type, reference type, reference id); legs as
-- parallel arrays (record index 1..n, account, bucket, signed amount). p_journal_ids, when
-- given, are the records' ids, taken by the caller from exchange.journal_id_seq beforehand
-- (e.g. to store them with an idempotency key before posting); else they come from it here.
-- Within a record, legs are netted: one entry per (account, bucket); a net of zero writes no
-- entry. One record of two opposite legs goes to _post_pair; otherwise a lock statement
-- reads the accounts under the lock, then one statement writes the records, the balances and
-- the entries. Every record must sum to zero per asset. Entries carry the running balance
-- before and after, in record order. Balances are updated ONCE per account for the whole
-- call (netted across records, set-based), so a call with many records does not chain many
-- row versions on the same account.
-- Raises: EX010 (malformed legs, unknown account, a record that does not balance per asset:
--         a bug in the caller), EX101 (a user or fee balance would go negative: raised by
--         _refuse_negative_balance from the balance UPDATE itself, before the accounts'
--         CHECK constraints, the last line, would see it).
-- Locks: FOR NO KEY UPDATE (the lock an UPDATE of the balances takes) on every account
--        touched, in ascending id. Callers that lock more
--        (a market, other accounts) take those locks first and in the global order:
--        market lock, then accounts ascending.
CREATE OR REPLACE FUNCTION exchange._post_journals(
    p_types text[],
    p_reference_types text[],
    p_reference_ids bigint[],
    p_leg_records integer[],
    p_account_ids bigint[],
    p_buckets exchange.balance_bucket[],
    p_amounts numeric[],
    p_journal_ids bigint[] DEFAULT NULL
)
RETURNS bigint[]
LANGUAGE plpgsql
AS $$
DECLARE
    v_n_records  integer := cardinality(p_types);
    v_n_legs     integer := cardinality(p_account_ids);
    v_ids        bigint[];
    v_accounts   bigint[];
    v_bad        record;
    v_assets     integer[];
    v_users      bigint[];
    v_avail      numeric[];
    v_frozen     numeric[];
    v_from       integer;
BEGIN
    IF v_n_records IS NULL OR v_n_records = 0
       OR cardinality(p_reference_types) IS DISTINCT FROM v_n_records
       OR cardinality(p_reference_ids) IS DISTINCT FROM v_n_records
       OR v_n_legs IS NULL
       OR cardinality(p_leg_records) IS DISTINCT FROM v_n_legs
       OR cardinality(p_buckets) IS DISTINCT FROM v_n_legs
       OR cardinality(p_amounts) IS DISTINCT FROM v_n_legs
       OR array_position(p_amounts, NULL) IS NOT NULL
       OR array_position(p_account_ids, NULL) IS NOT NULL
       OR array_position(p_buckets, NULL) IS NOT NULL
       OR (v_n_records = 1 AND NOT p_leg_records <@ ARRAY[1])
       OR (v_n_records > 1 AND array_position(p_leg_records, NULL) IS NOT NULL)
       OR (v_n_records > 1
           AND NOT (1 <= ALL (p_leg_records) AND v_n_records >= ALL (p_leg_records)))
       OR (p_journal_ids IS NOT NULL
           AND (cardinality(p_journal_ids) <> v_n_records
                OR array_position(p_journal_ids, NULL) IS NOT NULL)) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX010',
            MESSAGE = 'malformed journal legs',
            DETAIL = format('%s records; %s legs', v_n_records, v_n_legs),
            HINT = 'This is a bug in the calling function.';
    END IF;
    -- One record of two opposite legs on two buckets (an order's hold or its release, when
    -- a call makes no other posting) is _post_pair's movement: its one statement.
    IF v_n_records = 1 AND v_n_legs = 2 AND p_amounts[1] = -p_amounts[2] AND p_amounts[1] <> 0
       AND (p_account_ids[1] <> p_account_ids[2] OR p_buckets[1] <> p_buckets[2]) THEN
        v_from := CASE WHEN p_amounts[1] < 0 THEN 1 ELSE 2 END;  -- the debited leg
        RETURN ARRAY[exchange._post_pair(p_types[1], p_reference_types[1], p_reference_ids[1],
                                         p_account_ids[v_from], p_buckets[v_from],
                                         p_account_ids[3 - v_from], p_buckets[3 - v_from],
                                         p_amounts[3 - v_from], p_journal_ids[1])];
    END IF;
    -- Any other movement, one record or several. Lock the accounts (ascending id) and
    -- read, under the lock, what the entries copy and start from: asset, user, balances.
    -- The statement that writes then needs no join back to the updated rows, and the
    -- balance check per asset runs without one.
    SELECT array_agg(l.id ORDER BY l.id), array_agg(l.asset_id ORDER BY l.id),
           array_agg(l.user_id ORDER BY l.id), array_agg(l.available ORDER BY l.id),
           array_agg(l.frozen ORDER BY l.id)
      INTO v_accounts, v_assets, v_users, v_avail, v_frozen
      FROM (SELECT acc.id, acc.asset_id, acc.user_id,
                   acc.available_balance::numeric AS available,
                   acc.frozen_balance::numeric AS frozen
              FROM exchange.accounts acc
             WHERE acc.id = ANY (p_account_ids) ORDER BY acc.id FOR NO KEY UPDATE) AS l;
    IF v_accounts IS NULL OR NOT p_account_ids <@ v_accounts THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX010',
            MESSAGE = 'journal legs name an unknown account',
            DETAIL = format('accounts %s, found %s',
                            (SELECT array_agg(DISTINCT a ORDER BY a) FROM unnest(p_account_ids) AS a),
                            COALESCE(cardinality(v_accounts), 0)),
            HINT = 'This is a bug in the calling function.';
    END IF;

    SELECT l.rec, v_assets[array_position(v_accounts, l.account_id)] AS asset_id INTO v_bad
      FROM unnest(p_leg_records, p_account_ids, p_amounts) AS l(rec, account_id, amount)
     GROUP BY 1, 2
    HAVING sum(l.amount) <> 0
     ORDER BY 1, 2
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX010',
            MESSAGE = format('unbalanced journal record for asset %s', v_bad.asset_id),
            DETAIL = format('record %s: type %s, reference %s %s', v_bad.rec,
                            p_types[v_bad.rec], p_reference_types[v_bad.rec],
                            p_reference_ids[v_bad.rec]),
            HINT = 'This is a bug in the calling function: every movement must sum to zero per asset.';
    END IF;

    -- Journal ids: the caller's, else from the identity's sequence in record order (concurrent
    -- calls interleave on the sequence, so they need not be consecutive; ascending = record
    -- order).
    IF p_journal_ids IS NOT NULL THEN
        v_ids := p_journal_ids;
    ELSE
        v_ids := '{}'::bigint[];
        FOR v_i IN 1..v_n_records LOOP
            v_ids[v_i] := nextval('exchange.journal_id_seq'::regclass);
        END LOOP;
    END IF;

    -- One statement: the journal records, the netted balance updates and the entries.
    WITH jr AS (
        INSERT INTO exchange.journal (id, type, reference_type, reference_id)
        OVERRIDING SYSTEM VALUE
        SELECT v_ids[r.ord], r.type, r.rtype, r.rid
          FROM unnest(p_types, p_reference_types, p_reference_ids)
               WITH ORDINALITY AS r(type, rtype, rid, ord)
         ORDER BY r.ord
    ), legs AS (
        -- one net amount per (record, account, bucket)
        SELECT l.rec, l.account_id, l.bucket, sum(l.amount) AS amount
          FROM unnest(p_leg_records, p_account_ids, p_buckets, p_amounts)
               AS l(rec, account_id, bucket, amount)
         GROUP BY l.rec, l.account_id, l.bucket
        HAVING sum(l.amount) <> 0
    ), totals AS (
        SELECT account_id,
               COALESCE(sum(amount) FILTER (WHERE bucket = 'AVAILABLE'), 0) AS d_available,
               COALESCE(sum(amount) FILTER (WHERE bucket = 'FROZEN'), 0) AS d_frozen
          FROM legs
         GROUP BY account_id
    ), updated AS (
        -- a user or fee balance that would go negative is refused here, typed (EX101),
        -- before the CHECK constraints see it; the rows were locked by the statement
        -- above, so this statement's snapshot reads their latest versions
        UPDATE exchange.accounts acc
           SET available_balance =
                   CASE WHEN acc.available_balance + t.d_available < 0
                             AND acc.kind <> 'EXTERNAL'
                        THEN exchange._refuse_negative_balance(
                                 acc.id, 'AVAILABLE', acc.available_balance + t.d_available)
                        ELSE acc.available_balance + t.d_available END,
               frozen_balance =
                   CASE WHEN acc.frozen_balance + t.d_frozen < 0 AND acc.kind <> 'EXTERNAL'
                        THEN exchange._refuse_negative_balance(
                                 acc.id, 'FROZEN', acc.frozen_balance + t.d_frozen)
                        ELSE acc.frozen_balance + t.d_frozen END,
               version = acc.version + 1, updated_at = now()
          FROM totals t
         WHERE acc.id = t.account_id
    )
    INSERT INTO exchange.transactions
        (journal_id, account_id, user_id, asset_id, bucket, type, amount,
         balance_before, balance_after, reference_type, reference_id)
    SELECT v_ids[r.rec], r.account_id, v_users[r.k], v_assets[r.k], r.bucket, p_types[r.rec],
           r.amount,
           r.base + r.running - r.amount,
           r.base + r.running,
           p_reference_types[r.rec], p_reference_ids[r.rec]
      FROM (
          -- running balance per (account, bucket) in record order: one window pass, linear
          -- in the number of entries, from the balance read under the lock
          SELECT l.rec, l.account_id, l.bucket, l.amount, k.k,
                 CASE l.bucket WHEN 'AVAILABLE' THEN v_avail[k.k] ELSE v_frozen[k.k] END AS base,
                 sum(l.amount) OVER (PARTITION BY l.account_id, l.bucket ORDER BY l.rec
                                     ROWS UNBOUNDED PRECEDING) AS running
            FROM legs l
           CROSS JOIN LATERAL (SELECT array_position(v_accounts, l.account_id) AS k) k
      ) r
     ORDER BY r.rec, r.account_id, r.bucket;

    RETURN v_ids;
END;
$$;
COMMENT ON FUNCTION exchange._post_journals(text[], text[], bigint[], integer[], bigint[], exchange.balance_bucket[], numeric[], bigint[]) IS
    'Internal: posts several balanced journal records at once (entries netted per record, balances updated once per account); locks accounts ascending. Raises EX010, EX101.';
REVOKE ALL ON FUNCTION exchange._post_journals(text[], text[], bigint[], integer[], bigint[], exchange.balance_bucket[], numeric[], bigint[]) FROM PUBLIC;
