-- PROCEDURE exchange.submit_order(p_user_id bigint, p_symbol text, p_side text, p_type text,
--     p_amount numeric, p_price numeric DEFAULT NULL, p_time_in_force text DEFAULT 'GTC',
--     p_client_order_id text DEFAULT NULL, p_stop_price numeric DEFAULT NULL,
--     p_quote_amount numeric DEFAULT NULL, p_stp_mode text DEFAULT NULL,
--     INOUT id, uuid, user_id, ..., fills DEFAULT NULL: the columns of exchange.order_result)
-- Places one order like exchange.place_order (same parameters, order, defaults, result row
-- and typed errors), in transactions of its own: `CALL exchange.submit_order(42,
-- 'BTC-USDT', 'BUY', 'LIMIT', 0.5, 60000.00)`. It returns only once its order is matched,
-- settled and durable. Must be called outside a transaction block (autocommit); the session's
-- exchange.acting_user_id and exchange.correlation_id (session-level settings) are read at
-- the start and travel with the request.
--   1. exchange.submit_order_begin: the market free and nobody queued -> the order is placed
--      at once; the market busy -> the request is queued in exchange.order_requests and
--      committed (without waiting for its flush);
--   2. exchange.submit_order_wait (queued only): waits for the market's lock; the holder
--      before us has placed every pending request of the market in one transaction
--      (combining), ours included, or we place them; repeated while ours is still pending;
--   3. COMMIT with synchronous_commit = off: the market's lock is released at once (early
--      lock release), before the WAL flush;
--   4. a refusal is raised now, to its own caller (nothing of it was written; its risk
--      events are kept as place_order keeps them);
--   5. exchange.submit_order_flush and a synchronous COMMIT: the WAL is flushed (and
--      replicated to a synchronous standby) past the order's commit before the call returns,
--      so no caller is told of an order that a crash could undo.
-- Readers may see an order (book, trades, outbox, NOTIFY) a moment before it is durable; a
-- crash in that moment removes it (docs/trading.md, "submit_order").
-- Raises: as exchange.place_order (EX101, EX201-EX215, EX218, EX219, EX335, EX336, EX404,
--         EX406, and 13a's acting-user refusals); 2D000/0A000 when called inside a
--         transaction block (use exchange.place_order there).
-- Locks: the market's lock (pg_advisory_xact_lock(1601, pair)), then as place_orders; never
--        held across a WAL flush.
-- Access: exchange_app and DBAs. A procedure that commits cannot be SECURITY DEFINER nor
--         carry SET clauses: it runs as its caller, names everything schema-qualified and
--         reaches data only through the SECURITY DEFINER steps above.
CREATE OR REPLACE PROCEDURE exchange.submit_order(
    p_user_id bigint,
    p_symbol text,
    p_side text,
    p_type text,
    p_amount numeric,
    p_price numeric DEFAULT NULL,
    p_time_in_force text DEFAULT 'GTC',
    p_client_order_id text DEFAULT NULL,
    p_stop_price numeric DEFAULT NULL,
    p_quote_amount numeric DEFAULT NULL,
    p_stp_mode text DEFAULT NULL,
    INOUT id bigint DEFAULT NULL,
    INOUT uuid uuid DEFAULT NULL,
    INOUT user_id bigint DEFAULT NULL,
    INOUT symbol text DEFAULT NULL,
    INOUT client_order_id text DEFAULT NULL,
    INOUT side exchange.order_side DEFAULT NULL,
    INOUT type exchange.order_type DEFAULT NULL,
    INOUT time_in_force exchange.time_in_force DEFAULT NULL,
    INOUT stp_mode exchange.stp_mode DEFAULT NULL,
    INOUT status exchange.order_status DEFAULT NULL,
    INOUT price numeric DEFAULT NULL,
    INOUT stop_price numeric DEFAULT NULL,
    INOUT amount numeric DEFAULT NULL,
    INOUT quote_amount numeric DEFAULT NULL,
    INOUT filled_amount numeric DEFAULT NULL,
    INOUT remaining_amount numeric DEFAULT NULL,
    INOUT filled_quote numeric DEFAULT NULL,
    INOUT fee_paid numeric DEFAULT NULL,
    INOUT hold_amount numeric DEFAULT NULL,
    INOUT created_at timestamptz DEFAULT NULL,
    INOUT updated_at timestamptz DEFAULT NULL,
    INOUT fills jsonb DEFAULT NULL
)
LANGUAGE plpgsql
AS $$
DECLARE
    v_out exchange.order_request_outcome;
    v_res exchange.order_result;
    v_set text;     -- set_config's answer (assigned: cheaper than a PERFORM, which runs a SELECT)
BEGIN
    v_out := exchange.submit_order_begin(ROW(
        p_user_id, p_symbol, p_side, p_type, p_amount, p_price, p_time_in_force,
        p_client_order_id, p_stop_price, p_quote_amount, p_stp_mode)::exchange.order_request);
    WHILE NOT v_out.done LOOP
        v_set := pg_catalog.set_config('synchronous_commit', 'off', true);
        COMMIT;     -- the request is in the inbox, for whoever holds the market's lock
        v_out := exchange.submit_order_wait(v_out.request_id, v_out.trading_pair_id);
    END LOOP;
    v_set := pg_catalog.set_config('synchronous_commit', 'off', true);
    COMMIT;         -- the market's lock is released before the WAL flush
    IF v_out.error_code IS NOT NULL THEN
        IF v_out.error_detail IS NULL AND v_out.error_hint IS NULL THEN
            RAISE EXCEPTION USING ERRCODE = v_out.error_code, MESSAGE = v_out.error_message;
        ELSIF v_out.error_hint IS NULL THEN
            RAISE EXCEPTION USING ERRCODE = v_out.error_code, MESSAGE = v_out.error_message,
                DETAIL = v_out.error_detail;
        ELSIF v_out.error_detail IS NULL THEN
            RAISE EXCEPTION USING ERRCODE = v_out.error_code, MESSAGE = v_out.error_message,
                HINT = v_out.error_hint;
        END IF;
        RAISE EXCEPTION USING ERRCODE = v_out.error_code, MESSAGE = v_out.error_message,
            DETAIL = v_out.error_detail, HINT = v_out.error_hint;
    END IF;
    PERFORM exchange.submit_order_flush();
    COMMIT;         -- synchronous: the order's commit is durable from here on
    v_res := v_out.result;
    id := v_res.id; uuid := v_res.uuid; user_id := v_res.user_id; symbol := v_res.symbol;
    client_order_id := v_res.client_order_id; side := v_res.side; type := v_res.type;
    time_in_force := v_res.time_in_force; stp_mode := v_res.stp_mode; status := v_res.status;
    price := v_res.price; stop_price := v_res.stop_price; amount := v_res.amount;
    quote_amount := v_res.quote_amount; filled_amount := v_res.filled_amount;
    remaining_amount := v_res.remaining_amount; filled_quote := v_res.filled_quote;
    fee_paid := v_res.fee_paid; hold_amount := v_res.hold_amount;
    created_at := v_res.created_at; updated_at := v_res.updated_at; fills := v_res.fills;
END;
$$;
COMMENT ON PROCEDURE exchange.submit_order(bigint, text, text, text, numeric, numeric, text, text, numeric, numeric, text, bigint, uuid, bigint, text, text, exchange.order_side, exchange.order_type, exchange.time_in_force, exchange.stp_mode, exchange.order_status, numeric, numeric, numeric, numeric, numeric, numeric, numeric, numeric, numeric, timestamptz, timestamptz, jsonb) IS
    'Places one order like place_order, in its own transactions (CALL, autocommit): early lock release (commit without waiting for the flush, then a synchronous commit before returning) and combining (a busy market''s requests are placed together by its lock holder). Raises what place_order raises.';
REVOKE ALL ON PROCEDURE exchange.submit_order(bigint, text, text, text, numeric, numeric, text, text, numeric, numeric, text, bigint, uuid, bigint, text, text, exchange.order_side, exchange.order_type, exchange.time_in_force, exchange.stp_mode, exchange.order_status, numeric, numeric, numeric, numeric, numeric, numeric, numeric, numeric, numeric, timestamptz, timestamptz, jsonb) FROM PUBLIC;
GRANT EXECUTE ON PROCEDURE exchange.submit_order(bigint, text, text, text, numeric, numeric, text, text, numeric, numeric, text, bigint, uuid, bigint, text, text, exchange.order_side, exchange.order_type, exchange.time_in_force, exchange.stp_mode, exchange.order_status, numeric, numeric, numeric, numeric, numeric, numeric, numeric, numeric, numeric, timestamptz, timestamptz, jsonb) TO exchange_app;
