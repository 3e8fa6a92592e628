-- exchange._check_order_request(p_req exchange.order_request, p_i integer, p_symbol text,
--     p_pair_stp exchange.stp_mode, p_price_precision integer, p_amount_precision integer,
--     p_min_amount numeric, p_min_notional numeric, p_quote_decimals integer,
--     OUT side exchange.order_side, OUT type exchange.order_type,
--     OUT time_in_force exchange.time_in_force, OUT stp_mode exchange.stp_mode)
-- Internal: the validate stage of exchange.place_orders. Checks one request (order p_i of
-- its batch) against the enums and its pair's rules (tick, step, minimum amount and
-- notional, which fields each type takes), and the form of its client order id; returns
-- the request's side, type, time in force and STP mode (the pair's when not given) typed.
-- Nothing is read or written: a request that passes may still be refused by what depends on
-- the database (the user, the funds, the book, KYC and risk rules).
-- Who: place_orders only (not granted). Raises: EX203, EX204, EX205, EX206, EX207, EX208,
-- EX209, EX210, EX211, EX212, EX213 (see place_orders). Locks: none.
CREATE OR REPLACE FUNCTION exchange._check_order_request(
    p_req exchange.order_request,
    p_i integer,
    p_symbol text,
    p_pair_stp exchange.stp_mode,
    p_price_precision integer,
    p_amount_precision integer,
    p_min_amount numeric,
    p_min_notional numeric,
    p_quote_decimals integer,
    OUT side exchange.order_side,
    OUT type exchange.order_type,
    OUT time_in_force exchange.time_in_force,
    OUT stp_mode exchange.stp_mode)
LANGUAGE plpgsql
IMMUTABLE
AS $$
DECLARE
    v_req           exchange.order_request := p_req;
    v_i             integer := p_i;
    v_symbol        text := p_symbol;
    v_price_prec    integer := p_price_precision;
    v_amount_prec   integer := p_amount_precision;
    v_min_amount    numeric := p_min_amount;
    v_min_notional  numeric := p_min_notional;
    v_quote_dec     integer := p_quote_decimals;
    v_pair_stp      exchange.stp_mode := p_pair_stp;
    v_amount        numeric := p_req.amount;
    v_price         numeric := p_req.price;
    v_stop          numeric := p_req.stop_price;
    v_quote_amt     numeric := p_req.quote_amount;
    v_coid          text := p_req.client_order_id;
    v_side          exchange.order_side;
    v_type          exchange.order_type;
    v_tif           exchange.time_in_force;
    v_stp           exchange.stp_mode;
BEGIN
    IF v_req.side IS NULL OR v_req.side NOT IN ('BUY', 'SELL') THEN
        RAISE EXCEPTION USING ERRCODE = 'EX203',
            MESSAGE = format('unknown order side %s', COALESCE(v_req.side, 'NULL')),
            DETAIL = format('order %s of the batch', v_i),
            HINT = 'Use BUY or SELL.';
    END IF;
    v_side := v_req.side::exchange.order_side;
    IF v_req.type IS NULL OR v_req.type NOT IN
           ('LIMIT', 'MARKET', 'STOP_LOSS', 'STOP_LOSS_LIMIT', 'LIMIT_MAKER') THEN
        RAISE EXCEPTION USING ERRCODE = 'EX204',
            MESSAGE = format('unknown order type %s', COALESCE(v_req.type, 'NULL')),
            DETAIL = format('order %s of the batch', v_i),
            HINT = 'Use LIMIT, MARKET, STOP_LOSS, STOP_LOSS_LIMIT or LIMIT_MAKER.';
    END IF;
    v_type := v_req.type::exchange.order_type;
    IF COALESCE(v_req.time_in_force, 'GTC') NOT IN ('GTC', 'IOC', 'FOK')
       OR (v_type = 'LIMIT_MAKER' AND COALESCE(v_req.time_in_force, 'GTC') <> 'GTC') THEN
        RAISE EXCEPTION USING ERRCODE = 'EX205',
            MESSAGE = format('unknown or unusable time in force %s for a %s order',
                             v_req.time_in_force, v_type),
            DETAIL = format('order %s of the batch, a %s order', v_i, v_type),
            HINT = 'Use GTC, IOC or FOK (LIMIT_MAKER: GTC only).';
    END IF;
    v_tif := COALESCE(v_req.time_in_force, 'GTC')::exchange.time_in_force;
    IF v_req.stp_mode IS NOT NULL
       AND v_req.stp_mode NOT IN ('EXPIRE_MAKER', 'EXPIRE_TAKER', 'EXPIRE_BOTH') THEN
        RAISE EXCEPTION USING ERRCODE = 'EX206',
            MESSAGE = format('unknown self-trade prevention mode %s', v_req.stp_mode),
            DETAIL = format('order %s of the batch', v_i),
            HINT = 'Use EXPIRE_MAKER, EXPIRE_TAKER or EXPIRE_BOTH (or NULL for the pair''s).';
    END IF;
    v_stp := COALESCE(v_req.stp_mode::exchange.stp_mode, v_pair_stp);

    -- price and stop price: required or superfluous by type
    IF v_type IN ('LIMIT', 'LIMIT_MAKER', 'STOP_LOSS_LIMIT') AND v_price IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'EX207',
            MESSAGE = format('a %s order needs a price', v_type),
            DETAIL = format('order %s of the batch, a %s order', v_i, v_type),
            HINT = 'Pass p_price.';
    END IF;
    IF v_type IN ('STOP_LOSS', 'STOP_LOSS_LIMIT') AND v_stop IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'EX207',
            MESSAGE = format('a %s order needs a stop price', v_type),
            DETAIL = format('order %s of the batch, a %s order', v_i, v_type),
            HINT = 'Pass p_stop_price.';
    END IF;
    IF (v_type IN ('MARKET', 'STOP_LOSS') AND v_price IS NOT NULL)
       OR (v_type NOT IN ('STOP_LOSS', 'STOP_LOSS_LIMIT') AND v_stop IS NOT NULL)
       OR (v_quote_amt IS NOT NULL
           AND NOT (v_type IN ('MARKET', 'STOP_LOSS') AND v_side = 'BUY'
                    AND v_amount IS NULL)) THEN
        RAISE EXCEPTION USING ERRCODE = 'EX208',
            MESSAGE = format('superfluous price, stop price or quote amount for a %s %s order',
                             v_type, v_side),
            DETAIL = format('order %s of the batch: price %s, stop price %s, quote amount %s',
                            v_i, COALESCE(v_price::text, 'NULL'),
                            COALESCE(v_stop::text, 'NULL'),
                            COALESCE(v_quote_amt::text, 'NULL')),
            HINT = 'MARKET and STOP_LOSS take no price; only STOP_LOSS and STOP_LOSS_LIMIT take a stop price; only a MARKET or STOP_LOSS buy takes a quote amount, instead of an amount.';
    END IF;
    IF v_quote_amt IS NOT NULL AND v_tif = 'FOK' THEN
        RAISE EXCEPTION USING ERRCODE = 'EX205',
            MESSAGE = 'FOK needs an amount',
            DETAIL = format('order %s of the batch: a %s buy by quote amount', v_i, v_type),
            HINT = 'A buy by quote amount is GTC or IOC (both spend what the book offers).';
    END IF;
    IF v_quote_amt IS NULL THEN
        IF NOT COALESCE(v_amount > 0 AND v_amount < 1e18, false) THEN
            RAISE EXCEPTION USING ERRCODE = 'EX209',
                MESSAGE = format('invalid amount %s', COALESCE(v_amount::text, 'NULL')),
                DETAIL = format('order %s of the batch', v_i),
                HINT = 'Pass a positive amount (or, for a market buy, a quote amount).';
        END IF;
        IF trunc(v_amount, v_amount_prec) <> v_amount THEN
            RAISE EXCEPTION USING ERRCODE = 'EX211',
                MESSAGE = format('amount %s is finer than the step of %s', v_amount, v_symbol),
                DETAIL = format('amount precision %s', v_amount_prec),
                HINT = 'Round the amount to the pair''s step; it is never rounded for you.';
        END IF;
        IF v_amount < v_min_amount THEN
            RAISE EXCEPTION USING ERRCODE = 'EX212',
                MESSAGE = format('amount %s is below the minimum %s of %s',
                                 v_amount, trim_scale(v_min_amount), v_symbol),
                DETAIL = format('order %s of the batch; minimum amount %s', v_i,
                                trim_scale(v_min_amount)),
                HINT = 'Place a larger order.';
        END IF;
    ELSE
        IF NOT COALESCE(v_quote_amt > 0 AND v_quote_amt < 1e18, false) THEN
            RAISE EXCEPTION USING ERRCODE = 'EX209',
                MESSAGE = format('invalid quote amount %s', v_quote_amt),
                DETAIL = format('order %s of the batch', v_i),
                HINT = 'Pass a positive quote amount.';
        END IF;
        IF trunc(v_quote_amt, v_quote_dec) <> v_quote_amt THEN
            RAISE EXCEPTION USING ERRCODE = 'EX211',
                MESSAGE = format('quote amount %s is finer than the quote asset''s %s decimals',
                                 v_quote_amt, v_quote_dec),
                DETAIL = format('order %s of the batch; %s decimals', v_i, v_quote_dec),
                HINT = 'Round the quote amount; it is never rounded for you.';
        END IF;
    END IF;
    IF (v_price IS NOT NULL AND NOT (v_price > 0 AND v_price < 1e18))
       OR (v_stop IS NOT NULL AND NOT (v_stop > 0 AND v_stop < 1e18)) THEN
        RAISE EXCEPTION USING ERRCODE = 'EX210',
            MESSAGE = format('invalid price %s / stop price %s', v_price, v_stop),
            DETAIL = format('order %s of the batch', v_i),
            HINT = 'Prices are positive.';
    END IF;
    IF trunc(v_price, v_price_prec) <> v_price OR trunc(v_stop, v_price_prec) <> v_stop THEN
        RAISE EXCEPTION USING ERRCODE = 'EX210',
            MESSAGE = format('price %s / stop price %s is finer than the tick of %s',
                             v_price, v_stop, v_symbol),
            DETAIL = format('price precision %s', v_price_prec),
            HINT = 'Round the price to the pair''s tick; it is never rounded for you.';
    END IF;
    IF COALESCE(v_price, v_stop) * v_amount < v_min_notional
       OR v_quote_amt < v_min_notional THEN
        RAISE EXCEPTION USING ERRCODE = 'EX213',
            MESSAGE = format('order value is below the minimum notional %s of %s',
                             trim_scale(v_min_notional), v_symbol),
            DETAIL = format('order %s of the batch; minimum notional %s', v_i,
                            trim_scale(v_min_notional)),
            HINT = 'Place a larger order.';
    END IF;
    IF v_coid IS NOT NULL AND (length(v_coid) NOT BETWEEN 1 AND 64 OR v_coid !~ '\S') THEN
        RAISE EXCEPTION USING ERRCODE = 'EX209',
            MESSAGE = 'client order id must be 1 to 64 characters, not only spaces',
            DETAIL = format('order %s of the batch: %s characters', v_i, length(v_coid)),
            HINT = 'Give a client order id of 1 to 64 characters with at least one that is not a space.';
    END IF;
    side := v_side;
    type := v_type;
    time_in_force := v_tif;
    stp_mode := v_stp;
END;
$$;
COMMENT ON FUNCTION exchange._check_order_request(exchange.order_request, integer, text, exchange.stp_mode, integer, integer, numeric, numeric, integer) IS
    'Internal: place_orders'' validate stage: one request against the enums and its pair''s rules; returns its side, type, time in force and STP mode. Raises EX203-EX213.';
REVOKE ALL ON FUNCTION exchange._check_order_request(exchange.order_request, integer, text, exchange.stp_mode, integer, integer, numeric, numeric, integer) FROM PUBLIC;
