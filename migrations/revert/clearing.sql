-- Revert pyexchange:clearing from pg
BEGIN;
DROP INDEX exchange.trades_settlement_batch_idx, exchange.trades_unsettled_created_at_idx;
ALTER TABLE exchange.trades DROP CONSTRAINT trades_settlement_batch_fkey;
DROP TABLE exchange.settlement_discrepancies, exchange.settlement_pair_totals,
    exchange.settlement_details, exchange.settlement_batches;
COMMIT;
