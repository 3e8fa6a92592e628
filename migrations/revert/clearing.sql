-- Revert pyexchange:clearing from pg
BEGIN;
ALTER TABLE exchange.trades DROP CONSTRAINT trades_settlement_batch_fkey;
DROP TABLE exchange.settlement_discrepancies, exchange.settlement_pair_totals,
    exchange.settlement_details, exchange.settlement_batches;
COMMIT;
