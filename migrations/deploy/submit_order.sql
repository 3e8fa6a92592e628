-- Deploy pyexchange:submit_order to pg
-- requires: trading risk_engine
-- exchange.submit_order: the procedure that places one order with early lock release (the
-- matching transaction commits without waiting for its WAL flush, so the market is free at
-- once; the call returns only after a later synchronous commit has flushed past it) and
-- combining (requests that find their market busy wait in exchange.order_requests; whoever
-- holds the market's lock places every pending request of that market in one transaction).
-- Design note: docs/trading.md, "Placing an order: submit_order".
BEGIN;

-- The inbox: one row per request that found its market busy, from its arrival until its
-- caller has read the outcome (or, for a caller that went away, until
-- exchange.process_order_requests removes it). Written only under the market's lock, except
-- for the insert of a new request.
CREATE TABLE exchange.order_requests (
    id               bigint GENERATED ALWAYS AS IDENTITY,
    trading_pair_id  integer NOT NULL,
    request          exchange.order_request NOT NULL,
    acting_user_id   text,
    correlation_id   text,
    status           text NOT NULL DEFAULT 'PENDING',
    result           exchange.order_result,
    error_code       text,
    error_message    text,
    error_detail     text,
    error_hint       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    processed_at     timestamptz,
    CONSTRAINT order_requests_pkey PRIMARY KEY (id),
    CONSTRAINT order_requests_status_check CHECK (status IN ('PENDING', 'DONE', 'REFUSED'))
);
-- the holder's question: what is pending in my market, in arrival order
CREATE INDEX order_requests_pending_idx ON exchange.order_requests (trading_pair_id, id)
    WHERE status = 'PENDING';
COMMENT ON TABLE exchange.order_requests IS
    'submit_order''s inbox: requests that found their market busy, placed in arrival order by the holder of the market lock; a row lives until its caller reads the outcome.';

-- What the steps of submit_order hand back to the procedure.
CREATE TYPE exchange.order_request_outcome AS (
    request_id       bigint,
    trading_pair_id  integer,
    done             boolean,
    result           exchange.order_result,
    error_code       text,
    error_message    text,
    error_detail     text,
    error_hint       text
);

\ir ../../functions/trading/_process_order_requests.sql
\ir ../../functions/trading/_take_order_request.sql
\ir ../../functions/trading/submit_order_begin.sql
\ir ../../functions/trading/submit_order_wait.sql
\ir ../../functions/trading/submit_order_flush.sql
\ir ../../functions/trading/process_order_requests.sql
\ir ../../functions/trading/submit_order.sql

COMMIT;
