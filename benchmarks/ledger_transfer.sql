-- pgbench script: one exchange.transfer between two different random users of :accounts
-- users (ids :base + 1 .. :base + :accounts), 1 unit of BENCH, a unique idempotency key.
\set f random(1, :accounts)
\set t random(1, :accounts - 1)
\if :t >= :f
\set t :t + 1
\endif
\set f :f + :base
\set t :t + :base
SELECT exchange.transfer(:f, :t, 'BENCH', 1, gen_random_uuid()::text);
