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
-- Access: every sender must be the acting user (exchange._authorize_for_user), or a DBA
-- session without an acting user. Raises EX320, EX360, EX303, EX321, EX322.
-- Raises: EX118 (no transfers, more than 1000, or a key twice in the batch), EX109 (bad
--         key), EX108 (key used by another request), EX103 (unknown asset), EX102 (unknown
--         user), EX106 (transfer to oneself), EX303 (receiver PENDING or CLOSED), EX104
--         (inactive asset), EX105 (invalid
--         amount), EX101 (insufficient available funds).
-- Locks: the keys (ascending); then every account touched, in ascending id.
-- The single transfer (the common call, and transfer()'s) runs a short path: one statement
-- claims the key and looks up the asset and both accounts, one expression tests the common
-- case, and _post_journals posts; a refusal is raised by _refuse_transfer, as for a batch,
-- and a key claimed before (a replay or a conflict) goes the batch's way.
-- Plans: generic (re-planning _post_journals' statements each call cost more than running
-- them), and never a sequential scan: a generic plan is kept for the session, and one built
-- while the accounts table was tiny would go on scanning it as it grows.
CREATE OR REPLACE FUNCTION exchange.transfers(p_transfers exchange.transfer_request[])
RETURNS bigint[]
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
SET enable_seqscan = off
SET enable_bitmapscan = off
AS $$
DECLARE
    v_n         integer := cardinality(p_transfers);
    v_t         exchange.transfer_request;
    v_keys      text[];
    v_requests  text[];
    v_claimed   integer;
    v_results   bigint[];
    v_row       record;
    v_jid       bigint;
    v_asset_id  integer;
    v_decimals  integer;
    v_active    boolean;
    v_from_acc  bigint;
    v_to_acc    bigint;
    v_k         integer;
    v_new       integer[];
    v_types     text[];
    v_rtypes    text[];
    v_refs      bigint[];
    v_recs      integer[];
    v_accounts  bigint[];
    v_buckets   exchange.balance_bucket[];
    v_amounts   numeric[];
    v_ids       bigint[];
    v_jids      bigint[];
    v_post_ids  bigint[];
BEGIN
    -- Access: each sender is the acting user (exchange._authorize_for_user), once per sender.
    IF v_n = 1 THEN
        PERFORM exchange._authorize_for_user(p_transfers[1].from_user_id);
    ELSIF v_n > 1 THEN
        PERFORM exchange._authorize_for_user(s.from_user_id)
           FROM (SELECT DISTINCT t.from_user_id FROM unnest(p_transfers) t) s;
    END IF;
    IF v_n = 1 THEN
        v_t := p_transfers[1];
        IF v_t.idempotency_key IS NULL OR length(v_t.idempotency_key) NOT BETWEEN 1 AND 200
           OR v_t.idempotency_key !~ '[^[:space:]]' THEN
            PERFORM exchange._check_idempotency_key(v_t.idempotency_key);
        END IF;
        -- Claim the key, storing the journal id taken now as its result, and look up the
        -- asset and both accounts (an account implies its user exists).
        WITH claim AS (
            INSERT INTO exchange.idempotency_keys (key, operation, request, result_id)
            VALUES (v_t.idempotency_key, 'TRANSFER',
                    format('%s|%s|%s|%s', v_t.from_user_id, v_t.to_user_id, v_t.asset,
                           trim_scale(v_t.amount)),
                    nextval('exchange.journal_id_seq'::regclass))
            ON CONFLICT (key) DO NOTHING
            RETURNING result_id
        )
        SELECT c.result_id, l.asset_id, l.decimals, l.is_active, l.from_account, l.to_account
          INTO v_jid, v_asset_id, v_decimals, v_active, v_from_acc, v_to_acc
          FROM (SELECT) AS one
          LEFT JOIN claim c ON true
          LEFT JOIN exchange._transfer_lookup(v_t.asset, v_t.from_user_id, v_t.to_user_id) AS l
            ON true;
        IF v_jid IS NOT NULL THEN
            IF NOT COALESCE(v_active AND v_from_acc IS NOT NULL AND v_to_acc IS NOT NULL
                            AND v_t.from_user_id <> v_t.to_user_id
                            AND v_t.amount > 0 AND v_t.amount < 1e18
                            AND round(v_t.amount, v_decimals) = v_t.amount, false) THEN
                PERFORM exchange._refuse_transfer(v_t, 1, v_asset_id, v_decimals, v_active,
                                                  v_from_acc, v_to_acc);
                IF v_to_acc IS NULL THEN
                    v_to_acc := exchange._user_account(v_t.to_user_id, v_asset_id);
                END IF;
            END IF;
            RETURN ARRAY[exchange._post_pair('TRANSFER', NULL, NULL, v_from_acc, 'AVAILABLE',
                                             v_to_acc, 'AVAILABLE', v_t.amount, v_jid)];
        END IF;
        -- The key was claimed before: a replay or a conflict, answered as in a batch.
    END IF;

    IF v_n IS NULL OR v_n = 0 OR v_n > 1000 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX118',
            MESSAGE = format('a batch holds 1 to 1000 transfers, not %s', COALESCE(v_n, 0)),
            DETAIL = 'p_transfers is NULL, empty or longer than 1000.',
            HINT = 'Split large batches.';
    END IF;

    -- The keys and the fingerprints of the requests.
    v_k := 0;
    v_new := '{}'; v_types := '{}'; v_rtypes := '{}'; v_refs := '{}'; v_recs := '{}';
    v_accounts := '{}'; v_buckets := '{}'; v_amounts := '{}'; v_post_ids := '{}';
    v_keys := array_fill(NULL::text, ARRAY[v_n]);
    v_requests := array_fill(NULL::text, ARRAY[v_n]);
    v_results := array_fill(NULL::bigint, ARRAY[v_n]);
    v_jids := array_fill(NULL::bigint, ARRAY[v_n]);
    FOR v_i IN 1..v_n LOOP
        v_t := p_transfers[v_i];
        IF v_t.idempotency_key IS NULL OR length(v_t.idempotency_key) NOT BETWEEN 1 AND 200
           OR v_t.idempotency_key !~ '[^[:space:]]' THEN
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
                DETAIL = 'Each transfer of a batch is identified by its own key.',
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
                    MESSAGE = format('idempotency key %s was used for another request',
                                     exchange._quote(v_keys[v_row.ord])),
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
        SELECT l.asset_id, l.decimals, l.is_active, l.from_account, l.to_account
          INTO v_asset_id, v_decimals, v_active, v_from_acc, v_to_acc
          FROM (SELECT) AS one
          LEFT JOIN exchange._transfer_lookup(v_t.asset, v_t.from_user_id, v_t.to_user_id) AS l
            ON true;
        IF NOT COALESCE(v_active AND v_from_acc IS NOT NULL AND v_to_acc IS NOT NULL
                        AND v_t.from_user_id <> v_t.to_user_id
                        AND v_t.amount > 0 AND v_t.amount < 1e18
                        AND round(v_t.amount, v_decimals) = v_t.amount, false) THEN
            PERFORM exchange._refuse_transfer(v_t, v_i, v_asset_id, v_decimals, v_active,
                                              v_from_acc, v_to_acc);
            IF v_to_acc IS NULL THEN
                v_to_acc := exchange._user_account(v_t.to_user_id, v_asset_id);
            END IF;
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
