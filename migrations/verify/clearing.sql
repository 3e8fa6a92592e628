-- Verify pyexchange:clearing on pg
BEGIN;
SELECT id, business_date, status, trades_count, cutoff_at, attempts, run_by, started_at, finished_at
  FROM exchange.settlement_batches WHERE false;
SELECT batch_id, user_id, asset_id, bought, sold, fees_paid, net FROM exchange.settlement_details WHERE false;
SELECT batch_id, trading_pair_id, trades_count, volume, quote_volume, base_fees, quote_fees, sweep_journal_id
  FROM exchange.settlement_pair_totals WHERE false;
SELECT id, batch_id, kind, detail FROM exchange.settlement_discrepancies WHERE false;
SELECT 'exchange.trades_unsettled_created_at_idx'::regclass;
ROLLBACK;
