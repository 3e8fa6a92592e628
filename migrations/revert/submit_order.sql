-- Revert pyexchange:submit_order from pg
BEGIN;
DROP PROCEDURE exchange.submit_order(bigint, text, text, text, numeric, numeric, text, text, numeric, numeric, text, bigint, uuid, bigint, text, text, exchange.order_side, exchange.order_type, exchange.time_in_force, exchange.stp_mode, exchange.order_status, numeric, numeric, numeric, numeric, numeric, numeric, numeric, numeric, numeric, timestamptz, timestamptz, jsonb);
DROP FUNCTION exchange.process_order_requests(interval);
DROP FUNCTION exchange.submit_order_flush();
DROP FUNCTION exchange.submit_order_wait(bigint, integer);
DROP FUNCTION exchange.submit_order_begin(exchange.order_request);
DROP FUNCTION exchange._take_order_request(bigint);
DROP FUNCTION exchange._process_order_requests(integer);
DROP TYPE exchange.order_request_outcome;
DROP TABLE exchange.order_requests;
COMMIT;
