-- Verify pyexchange:submit_order on pg
BEGIN;
SELECT 1 FROM exchange.order_requests LIMIT 0;
SELECT 'exchange.submit_order_begin(exchange.order_request)'::regprocedure;
SELECT 'exchange.submit_order_wait(bigint, integer)'::regprocedure;
SELECT 'exchange.submit_order_flush()'::regprocedure;
SELECT 'exchange.process_order_requests(interval)'::regprocedure;
SELECT 'exchange._process_order_requests(integer)'::regprocedure;
SELECT 'exchange._take_order_request(bigint)'::regprocedure;
SELECT 1 / count(*) FROM pg_proc
 WHERE proname = 'submit_order' AND pronamespace = 'exchange'::regnamespace AND prokind = 'p';
ROLLBACK;
