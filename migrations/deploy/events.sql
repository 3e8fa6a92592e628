-- Deploy pyexchange:events to pg
-- requires: outbox notifications
-- Emitting domain events (exchange._emit_event), the registry of event types and their
-- payloads (docs/events.md), and the notifications events cause.
BEGIN;

INSERT INTO exchange.event_types (event_type, aggregate_type, description, payload_keys, recipient_keys) VALUES
    ('order_placed', 'order', 'An order was accepted into the market (before any fill).',
     '{order_id,user_id,pair_id,symbol,side,order_type,time_in_force,price,stop_price,quantity,quote_quantity,status}', '{user_id}'),
    ('order_filled', 'order', 'An order was filled, partly or completely, by one placement.',
     '{order_id,user_id,pair_id,symbol,side,price,filled_quantity,remaining_quantity,status}', '{user_id}'),
    ('order_cancelled', 'order', 'An order was cancelled (by its owner or an administrator).',
     '{order_id,user_id,pair_id,symbol,side,remaining_quantity,status}', '{user_id}'),
    ('order_expired', 'order', 'An order expired (IOC/FOK remainder, self-trade prevention, time).',
     '{order_id,user_id,pair_id,symbol,side,remaining_quantity,status,reason}', '{user_id}'),
    ('trade_executed', 'trade', 'A trade between a taker and a maker order.',
     '{trade_id,pair_id,symbol,price,quantity,quote_quantity,taker_side,buyer_user_id,seller_user_id,buyer_order_id,seller_order_id,buyer_fee,seller_fee}',
     '{buyer_user_id,seller_user_id}'),
    ('deposit_credited', 'account', 'A deposit was credited to a user''s available balance.',
     '{user_id,asset,amount,reference,journal_id}', '{user_id}'),
    ('withdrawal_requested', 'withdrawal', 'A withdrawal was requested; amount and fee are frozen (status PENDING, or REVIEW when a risk rule holds it).',
     '{withdrawal_id,user_id,asset,amount,fee,status}', '{user_id}'),
    ('withdrawal_completed', 'withdrawal', 'A withdrawal was sent; its frozen amount left the exchange.',
     '{withdrawal_id,user_id,asset,amount,fee,external_ref}', '{user_id}'),
    ('withdrawal_cancelled', 'withdrawal', 'A withdrawal was cancelled; its amount is available again.',
     '{withdrawal_id,user_id,asset,amount,fee,reason}', '{user_id}'),
    ('user_registered', 'user', 'A user registered (status PENDING).',
     '{user_id,username,email}', '{user_id}'),
    ('user_activated', 'user', 'A user was activated.',
     '{user_id,username}', '{user_id}'),
    ('user_locked', 'user', 'A user was locked (suspended or temporarily locked out).',
     '{user_id,username,status,locked_until,reason}', '{user_id}'),
    ('kyc_decided', 'user', 'A KYC verification was approved or rejected.',
     '{user_id,kyc_id,status,kyc_level,reason}', '{user_id}'),
    ('risk_event_raised', 'risk_event', 'A risk rule was triggered.',
     '{risk_event_id,user_id,rule_id,risk_level,description}', '{user_id}')
ON CONFLICT (event_type) DO UPDATE
    SET aggregate_type = EXCLUDED.aggregate_type, description = EXCLUDED.description,
        payload_keys = EXCLUDED.payload_keys, recipient_keys = EXCLUDED.recipient_keys;

\ir ../../functions/events/register_listener.sql
\ir ../../functions/events/_render_template.sql
\ir ../../functions/events/_notify_users_of_event.sql
\ir ../../functions/events/_emit_event.sql
\ir ../../functions/events/tg_outbox_events__after_insert.sql
CREATE TRIGGER tg_outbox_events__after_insert AFTER INSERT ON exchange.outbox_events
    REFERENCING NEW TABLE AS new_events
    FOR EACH STATEMENT EXECUTE FUNCTION exchange.tg_outbox_events__after_insert();

COMMIT;
