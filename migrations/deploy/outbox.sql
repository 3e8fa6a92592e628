-- Deploy pyexchange:outbox to pg
-- requires: schema
-- The outbox: domain events written in the transaction that made them, published later.
BEGIN;

CREATE TABLE exchange.outbox_events (
    id             bigint GENERATED ALWAYS AS IDENTITY,
    aggregate_type varchar(100) NOT NULL,
    aggregate_id   varchar(100) NOT NULL,
    event_type     varchar(100) NOT NULL,
    event_data     jsonb NOT NULL,
    correlation_id uuid,
    status         exchange.outbox_status NOT NULL DEFAULT 'PENDING',
    attempts       integer NOT NULL DEFAULT 0,
    last_error     text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    published_at   timestamptz,
    CONSTRAINT outbox_events_pkey PRIMARY KEY (id),
    CONSTRAINT outbox_events_attempts_nonnegative CHECK (attempts >= 0)
);
CREATE INDEX outbox_events_pending_idx ON exchange.outbox_events (id) WHERE status = 'PENDING';
CREATE INDEX outbox_events_aggregate_idx ON exchange.outbox_events (aggregate_type, aggregate_id, id);

COMMIT;
