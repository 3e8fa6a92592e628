-- Deploy pyexchange:schema to pg
-- The namespace, the value types every domain shares, and the common trigger functions.
BEGIN;

-- Database roles are cluster-wide: create them once, keep them on revert (other databases
-- of the cluster may use them). exchange_owner owns the schema; the others are granted
-- privileges by each object's own script (see docs/security.md).
DO $$
DECLARE
    v_role text;
BEGIN
    FOREACH v_role IN ARRAY ARRAY['exchange_owner', 'exchange_app', 'exchange_readonly',
                                  'exchange_auditor', 'exchange_custody', 'exchange_worker'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = v_role) THEN
            EXECUTE format('CREATE ROLE %I NOLOGIN', v_role);
        END IF;
    END LOOP;
END
$$;

CREATE SCHEMA exchange;
COMMENT ON SCHEMA exchange IS 'pyexchange: a PostgreSQL-native spot exchange core';
-- Nothing in the schema is executable by PUBLIC unless its script grants it.
ALTER DEFAULT PRIVILEGES IN SCHEMA exchange REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;

-- Money: NUMERIC(36,18) that can never be NaN (NUMERIC(36,18) already refuses Infinity).
CREATE DOMAIN exchange.amount AS numeric(36, 18)
    CONSTRAINT amount_not_nan CHECK (VALUE <> 'NaN'::numeric);
COMMENT ON DOMAIN exchange.amount IS 'A quantity of money or an asset: NUMERIC(36,18), never NaN';
-- The signed amount of a journal entry: never zero (a leg that nets to zero writes no entry).
-- A domain rather than a table CHECK: a domain's check is prepared once per session, a
-- table's again for every statement that writes the table.
CREATE DOMAIN exchange.entry_amount AS numeric(36, 18)
    CONSTRAINT entry_amount_valid CHECK (VALUE <> 'NaN'::numeric AND VALUE <> 0);
COMMENT ON DOMAIN exchange.entry_amount IS 'The signed amount of a journal entry: NUMERIC(36,18), never NaN or zero';
-- The rules of an order's and a trade's quantities, as domains for the same reason: orders
-- are written several times per placement, and ten table CHECKs were a tenth of its CPU.
CREATE DOMAIN exchange.positive_amount AS numeric(36, 18)
    CONSTRAINT positive_amount_valid CHECK (VALUE <> 'NaN'::numeric AND VALUE > 0);
COMMENT ON DOMAIN exchange.positive_amount IS 'A quantity or price that must be above zero: NUMERIC(36,18), never NaN';
CREATE DOMAIN exchange.nonnegative_amount AS numeric(36, 18)
    CONSTRAINT nonnegative_amount_valid CHECK (VALUE <> 'NaN'::numeric AND VALUE >= 0);
COMMENT ON DOMAIN exchange.nonnegative_amount IS 'A quantity that may be zero, never below: NUMERIC(36,18), never NaN';

CREATE DOMAIN exchange.fee_rate AS numeric(10, 6)
    CONSTRAINT fee_rate_range CHECK (VALUE <> 'NaN'::numeric AND VALUE >= 0 AND VALUE < 1);

CREATE TYPE exchange.asset_type AS ENUM ('CRYPTO', 'FIAT');
CREATE TYPE exchange.user_status AS ENUM ('PENDING', 'ACTIVE', 'SUSPENDED', 'CLOSED');
CREATE TYPE exchange.kyc_status AS ENUM ('PENDING', 'APPROVED', 'REJECTED');
CREATE TYPE exchange.account_kind AS ENUM ('USER', 'EXTERNAL', 'FEE', 'REVENUE');
CREATE TYPE exchange.balance_bucket AS ENUM ('AVAILABLE', 'FROZEN');
CREATE TYPE exchange.order_side AS ENUM ('BUY', 'SELL');
CREATE TYPE exchange.order_type AS ENUM ('LIMIT', 'MARKET', 'STOP_LOSS', 'STOP_LOSS_LIMIT', 'LIMIT_MAKER');
CREATE TYPE exchange.order_status AS ENUM
    ('PENDING', 'NEW', 'PARTIALLY_FILLED', 'FILLED', 'CANCELED', 'EXPIRED', 'REJECTED');
CREATE TYPE exchange.time_in_force AS ENUM ('GTC', 'IOC', 'FOK');
CREATE TYPE exchange.pair_status AS ENUM ('TRADING', 'HALTED');
CREATE TYPE exchange.stp_mode AS ENUM ('EXPIRE_MAKER', 'EXPIRE_TAKER', 'EXPIRE_BOTH');
CREATE TYPE exchange.kline_interval AS ENUM ('1m', '5m', '15m', '1h', '4h', '1d');
CREATE TYPE exchange.risk_level AS ENUM ('LOW', 'MEDIUM', 'HIGH', 'CRITICAL');
CREATE TYPE exchange.risk_event_status AS ENUM ('ACTIVE', 'RESOLVED', 'DISMISSED');
CREATE TYPE exchange.batch_status AS ENUM ('RUNNING', 'COMPLETED', 'FAILED');
CREATE TYPE exchange.outbox_status AS ENUM ('PENDING', 'PUBLISHED', 'FAILED');
CREATE TYPE exchange.notification_channel AS ENUM ('EMAIL', 'WEBHOOK', 'IN_APP');
CREATE TYPE exchange.notification_status AS ENUM ('PENDING', 'SENT', 'FAILED');

\ir ../../functions/schema/tg_set_updated_at.sql
\ir ../../functions/schema/_quote.sql
\ir ../../functions/schema/_check_text.sql

COMMIT;
