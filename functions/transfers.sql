-- exchange.transfers(p_transfers exchange.transfer_request[]) RETURNS bigint[]
-- Moves funds between users' available balances: many transfers in one call, all or none.
-- Each transfer (from_user_id, to_user_id, asset, amount, idempotency_key) becomes one
-- journal record TRANSFER (from AVAILABLE -amount, to AVAILABLE +amount); the balances are
-- updated once per account for the whole batch (netted) by exchange._post_journals. The
-- receiving account is created on its first credit. Returns the journal ids (transfer ids)
-- in request order. exchange.transfer() is the single form.
-- Idempotent per transfer: a transfer whose key was used before by the same transfer
-- returns its original journal id and moves nothing; a key used by another request raises
-- EX108. Keys are claimed in key order, so two batches sharing keys cannot deadlock.
-- Insufficient funds are judged on the netted batch (a batch may pass funds along a chain).
-- Raises: EX118 (no transfers, more than 1000, or a key twice in the batch), EX109 (bad
--         key), EX108 (key used by another request), EX103 (unknown asset), EX102 (unknown
--         user), EX106 (transfer to oneself), EX104 (inactive asset), EX105 (invalid
--         amount), EX101 (insufficient available funds).
-- Locks: the keys (ascending); then every account touched, in ascending id.
-- Plans: generic (re-planning _post_journals' statements each call cost more than running
-- them) and without hash joins or hash aggregates (their hash tables cost more than a
-- nested loop or a sort over the handful of rows a call touches).
CREATE OR REPLACE FUNCTION exchange.transfers(p_transfers exchange.transfer_request[])
RETURNS bigint[]
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
SET enable_hashjoin = off
SET enable_hashagg = off
AS $$
DECLARE
    v_n         integer := cardinality(p_transfers);
    v_t         exchange.transfer_request;
    v_keys      text[];
    v_requests  text[];
    v_claimed   integer;
    v_results   bigint[];
    v_row       record;
    v_asset_id  integer;
    v_decimals  integer;
    v_active    boolean;
    v_from_ok   boolean;
    v_to_ok     boolean;
    v_from_acc  bigint;
    v_to_acc    bigint;
    v_k         integer := 0;
    v_new       integer[] := '{}'::integer[];
    v_types     text[] := '{}'::text[];
    v_rtypes    text[] := '{}'::text[];
    v_refs      bigint[] := '{}'::bigint[];
    v_recs      integer[] := '{}'::integer[];
    v_accounts  bigint[] := '{}'::bigint[];
    v_buckets   exchange.balance_bucket[] := '{}'::exchange.balance_bucket[];
    v_amounts   numeric[] := '{}'::numeric[];
    v_ids       bigint[];
    v_jids      bigint[];
    v_post_ids  bigint[] := '{}'::bigint[];
BEGIN
    IF v_n IS NULL OR v_n = 0 OR v_n > 1000 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX118',
            MESSAGE = format('a batch holds 1 to 1000 transfers, not %s', COALESCE(v_n, 0)),
            HINT = 'Split large batches.';
    END IF;

    -- The keys and the fingerprints of the requests.
    v_keys := array_fill(NULL::text, ARRAY[v_n]);
    v_requests := array_fill(NULL::text, ARRAY[v_n]);
    v_results := array_fill(NULL::bigint, ARRAY[v_n]);
    v_jids := array_fill(NULL::bigint, ARRAY[v_n]);
    FOR v_i IN 1..v_n LOOP
        v_t := p_transfers[v_i];
        IF v_t.idempotency_key IS NULL OR length(v_t.idempotency_key) NOT BETWEEN 1 AND 200 THEN
            PERFORM exchange._check_idempotency_key(v_t.idempotency_key);
        END IF;
        v_keys[v_i] := v_t.idempotency_key;
        -- The journal id is taken now and stored with the key, so that the key's result is
        -- written by the claim itself (replays and refusals leave a gap in the sequence).
        v_jids[v_i] := nextval('exchange.journal_id_seq'::regclass);
        v_requests[v_i] := format('%s|%s|%s|%s', v_t.from_user_id, v_t.to_user_id, v_t.asset,
                                  trim_scale(v_t.amount));
    END LOOP;
    IF v_n > 1 THEN
        IF (SELECT count(DISTINCT k) FROM unnest(v_keys) AS k) <> v_n THEN
            RAISE EXCEPTION USING
                ERRCODE = 'EX118',
                MESSAGE = 'an idempotency key appears twice in the batch',
                HINT = 'Give each transfer of a batch its own key.';
        END IF;
    END IF;

    -- Claim the keys in key order; the ones already claimed are replays or conflicts.
    IF v_n = 1 THEN
        INSERT INTO exchange.idempotency_keys (key, operation, request, result_id)
        VALUES (v_keys[1], 'TRANSFER', v_requests[1], v_jids[1])
        ON CONFLICT (key) DO NOTHING;
        GET DIAGNOSTICS v_claimed = ROW_COUNT;
    ELSE
        WITH claimed AS (
            INSERT INTO exchange.idempotency_keys (key, operation, request, result_id)
            SELECT r.key, 'TRANSFER', r.request, r.jid
              FROM unnest(v_keys, v_requests, v_jids) AS r(key, request, jid)
             ORDER BY r.key
            ON CONFLICT (key) DO NOTHING
            RETURNING 1
        )
        SELECT count(*) INTO v_claimed FROM claimed;
    END IF;
    IF v_claimed < v_n THEN
        FOR v_row IN
            SELECT r.ord, k.operation, k.request AS first_request, r.request, k.result_id
              FROM unnest(v_keys, v_requests, v_jids) WITH ORDINALITY AS r(key, request, jid, ord)
              JOIN exchange.idempotency_keys k ON k.key = r.key
             WHERE k.result_id IS DISTINCT FROM r.jid  -- not claimed by this call
        LOOP
            IF v_row.operation <> 'TRANSFER' OR v_row.first_request <> v_row.request THEN
                RAISE EXCEPTION USING
                    ERRCODE = 'EX108',
                    MESSAGE = format('idempotency key %L was used for another request',
                                     v_keys[v_row.ord]),
                    DETAIL = format('first used by %s (%s); now TRANSFER (%s)', v_row.operation,
                                    v_row.first_request, v_row.request),
                    HINT = 'Use a new key for a new request; retry a request with its original key and arguments.';
            END IF;
            v_results[v_row.ord] := v_row.result_id;
        END LOOP;
    END IF;

    -- Validate the new transfers and resolve their accounts: one indexed lookup each (an
    -- account implies its user exists; users are looked up only when an account is missing).
    FOR v_i IN 1..v_n LOOP
        CONTINUE WHEN v_results[v_i] IS NOT NULL;
        v_t := p_transfers[v_i];
        SELECT a.id, a.decimals, a.is_active,
               (SELECT acc.id FROM exchange.accounts acc
                 WHERE acc.user_id = v_t.from_user_id AND acc.asset_id = a.id
                   AND acc.kind = 'USER'),
               (SELECT acc.id FROM exchange.accounts acc
                 WHERE acc.user_id = v_t.to_user_id AND acc.asset_id = a.id
                   AND acc.kind = 'USER')
          INTO v_asset_id, v_decimals, v_active, v_from_acc, v_to_acc
          FROM exchange.assets a
         WHERE a.symbol = v_t.asset;
        IF NOT FOUND THEN
            RAISE EXCEPTION USING
                ERRCODE = 'EX103',
                MESSAGE = format('unknown asset %s', COALESCE(v_t.asset, 'NULL')),
                DETAIL = format('transfer %s of the batch', v_i),
                HINT = 'list_assets() shows the assets.';
        END IF;
        v_from_ok := v_from_acc IS NOT NULL
                     OR EXISTS (SELECT 1 FROM exchange.users u WHERE u.id = v_t.from_user_id);
        v_to_ok := v_to_acc IS NOT NULL
                   OR EXISTS (SELECT 1 FROM exchange.users u WHERE u.id = v_t.to_user_id);
        IF NOT (v_from_ok AND v_to_ok) THEN
            RAISE EXCEPTION USING
                ERRCODE = 'EX102',
                MESSAGE = format('unknown user %s',
                                 COALESCE(CASE WHEN v_from_ok THEN v_t.to_user_id
                                               ELSE v_t.from_user_id END::text, 'NULL')),
                DETAIL = format('transfer %s of the batch', v_i),
                HINT = 'Register the user first.';
        END IF;
        IF v_t.from_user_id = v_t.to_user_id THEN
            RAISE EXCEPTION USING
                ERRCODE = 'EX106',
                MESSAGE = format('user %s cannot transfer to themselves', v_t.from_user_id),
                DETAIL = format('transfer %s of the batch', v_i),
                HINT = 'A transfer needs two different users.';
        END IF;
        IF NOT v_active THEN
            RAISE EXCEPTION USING
                ERRCODE = 'EX104',
                MESSAGE = format('asset %s is inactive', v_t.asset),
                DETAIL = 'An inactive asset takes no deposits, transfers, holds or orders.',
                HINT = 'activate_asset() re-activates it.';
        END IF;
        IF NOT COALESCE(v_t.amount > 0 AND v_t.amount < 1e18
                        AND round(v_t.amount, v_decimals) = v_t.amount, false) THEN
            PERFORM exchange._check_amount(v_t.amount, v_decimals, v_t.asset);
        END IF;
        IF v_from_acc IS NULL THEN
            RAISE EXCEPTION USING
                ERRCODE = 'EX101',
                MESSAGE = format('insufficient funds: user %s holds no %s', v_t.from_user_id,
                                 v_t.asset),
                DETAIL = format('transfer %s of the batch needs %s', v_i, v_t.amount),
                HINT = 'Deposit first.';
        END IF;
        IF v_to_acc IS NULL THEN
            v_to_acc := exchange._user_account(v_t.to_user_id, v_asset_id);
        END IF;

        v_k := v_k + 1;
        v_new[v_k] := v_i;
        v_post_ids[v_k] := v_jids[v_i];
        v_types[v_k] := 'TRANSFER';
        v_rtypes[v_k] := NULL;
        v_refs[v_k] := NULL;
        v_recs[2 * v_k - 1] := v_k;
        v_recs[2 * v_k] := v_k;
        v_accounts[2 * v_k - 1] := v_from_acc;
        v_accounts[2 * v_k] := v_to_acc;
        v_buckets[2 * v_k - 1] := 'AVAILABLE';
        v_buckets[2 * v_k] := 'AVAILABLE';
        v_amounts[2 * v_k - 1] := -v_t.amount;
        v_amounts[2 * v_k] := v_t.amount;
    END LOOP;

    IF v_k > 0 THEN
        v_ids := exchange._post_journals(v_types, v_rtypes, v_refs, v_recs,
                                         v_accounts, v_buckets, v_amounts, v_post_ids);
        FOR v_j IN 1..v_k LOOP
            v_results[v_new[v_j]] := v_ids[v_j];
        END LOOP;
    END IF;
    RETURN v_results;
END;
$$;
COMMENT ON FUNCTION exchange.transfers(exchange.transfer_request[]) IS
    'Many transfers between users in one call, all or none, idempotent per key, netted; returns the journal ids in order. Raises EX101, EX102, EX103, EX104, EX105, EX106, EX108, EX109, EX118.';
REVOKE ALL ON FUNCTION exchange.transfers(exchange.transfer_request[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.transfers(exchange.transfer_request[]) TO exchange_app;
