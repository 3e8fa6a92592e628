-- Verify pyexchange:assets on pg
BEGIN;
SELECT id, symbol, name, type, decimals, min_withdraw_amount, withdraw_fee, is_active
  FROM exchange.assets WHERE false;
SELECT id, kind, user_id, asset_id, trading_pair_id, available_balance, frozen_balance,
       total_balance, version FROM exchange.accounts WHERE false;
SELECT id, type, reference_type, reference_id, created_at FROM exchange.journal WHERE false;
SELECT id, journal_id, account_id, user_id, asset_id, bucket, type, amount, balance_before,
       balance_after FROM exchange.transactions WHERE false;
SELECT 'exchange.tg_accounts__check_owner()'::regprocedure;
ROLLBACK;
