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
    -- The relay's retry schedule: a PENDING event is not claimed before this time.
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    -- The event's identity outside this database: the relay's Nats-Msg-Id. The id above is
    -- unique only inside one database (a second database, or this one re-created, reuses
    -- it), and JetStream drops a repeated Nats-Msg-Id within its duplicate window.
    event_uuid     uuid NOT NULL DEFAULT gen_random_uuid(),
    CONSTRAINT outbox_events_pkey PRIMARY KEY (id),
    CONSTRAINT outbox_events_attempts_nonnegative CHECK (attempts >= 0)
);
COMMENT ON TABLE exchange.outbox_events IS
    'Domain events written by exchange._emit_event in the transaction that made them; published to NATS by pyexchange relay (docs/events.md).';
CREATE INDEX outbox_events_pending_idx ON exchange.outbox_events (id) WHERE status = 'PENDING';
-- The relay's claim: is there an earlier pending event of the same aggregate?
CREATE INDEX outbox_events_pending_aggregate_idx ON exchange.outbox_events (aggregate_type, aggregate_id, id)
    WHERE status = 'PENDING';
CREATE INDEX outbox_events_aggregate_idx ON exchange.outbox_events (aggregate_type, aggregate_id, id);
-- Pruning by age of the published and failed events.
CREATE INDEX outbox_events_done_created_at_idx ON exchange.outbox_events (created_at)
    WHERE status <> 'PENDING';

-- Who is waiting for a NOTIFY, by channel. NOTIFY serializes the commits of every notifying
-- transaction of the database (PostgreSQL holds the notification queue's lock through the
-- commit), so the outbox trigger only notifies a channel somebody registered for: the relay
-- while it sleeps, a notification worker while it sleeps, `pyexchange watch` while it runs.
-- Rows of ended sessions are swept by the next registration.
CREATE UNLOGGED TABLE exchange.event_listeners (
    channel       text NOT NULL,
    pid           integer NOT NULL,
    registered_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT event_listeners_pkey PRIMARY KEY (channel, pid)
);
COMMENT ON TABLE exchange.event_listeners IS
    'Sessions waiting for NOTIFY on a channel (exchange.register_listener); the outbox trigger notifies only registered channels.';

-- The registry of event types: what each payload carries (docs/events.md lists the same), and
-- which payload keys name the users an event concerns (the recipients of its notifications).
CREATE TABLE exchange.event_types (
    event_type     varchar(100) NOT NULL,
    aggregate_type varchar(100) NOT NULL,
    description    text NOT NULL,
    payload_keys   text[] NOT NULL,
    recipient_keys text[] NOT NULL DEFAULT '{}',
    CONSTRAINT event_types_pkey PRIMARY KEY (event_type),
    CONSTRAINT event_types_format CHECK (event_type ~ '^[a-z][a-z0-9_]*$' AND aggregate_type ~ '^[a-z][a-z0-9_]*$'),
    CONSTRAINT event_types_recipients_in_payload CHECK (recipient_keys <@ payload_keys)
);
COMMENT ON TABLE exchange.event_types IS
    'Event types with their documented payload keys (docs/events.md) and the keys that name the users concerned.';

COMMIT;
