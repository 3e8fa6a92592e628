-- exchange._transfer_lookup(p_asset text, p_from_user_id bigint, p_to_user_id bigint)
--   RETURNS TABLE (asset_id integer, decimals integer, is_active boolean,
--                  from_account bigint, to_account bigint)
-- Internal: what exchange.transfers() needs to know of one transfer: the asset (id,
-- decimals, active) and both users' accounts for it (NULL when missing: an account implies
-- its user exists; the receiver's is NULL too when the receiver is PENDING or CLOSED, so
-- that the caller's common-case test fails and _refuse_transfer refuses it). No row when
-- the asset is unknown. A one-SELECT SQL function, so the
-- planner inlines it into the calling statement (transfers() reads it in its key-claim
-- statement for a single transfer, and once per transfer of a batch).
CREATE OR REPLACE FUNCTION exchange._transfer_lookup(
    p_asset text,
    p_from_user_id bigint,
    p_to_user_id bigint
)
RETURNS TABLE (asset_id integer, decimals integer, is_active boolean,
               from_account bigint, to_account bigint)
LANGUAGE sql
STABLE
AS $$
    SELECT a.id, a.decimals, a.is_active,
           (SELECT acc.id FROM exchange.accounts acc
             WHERE acc.user_id = p_from_user_id AND acc.asset_id = a.id AND acc.kind = 'USER'),
           (SELECT acc.id FROM exchange.accounts acc
              JOIN exchange.users u ON u.id = acc.user_id
             WHERE acc.user_id = p_to_user_id AND acc.asset_id = a.id AND acc.kind = 'USER'
               AND u.status <> 'PENDING' AND u.status <> 'CLOSED')
      FROM exchange.assets a
     WHERE a.symbol = p_asset
$$;
COMMENT ON FUNCTION exchange._transfer_lookup(text, bigint, bigint) IS
    'Internal: the asset and both users'' accounts of one transfer (inlined into transfers()).';
REVOKE ALL ON FUNCTION exchange._transfer_lookup(text, bigint, bigint) FROM PUBLIC;
