"""plpgsql_check over every PL/pgSQL function of schema exchange (trigger functions are
checked against each table whose trigger calls them)."""

from __future__ import annotations

from typing import Any

import psycopg

CHECK = """
WITH fns AS (
    SELECT p.oid, p.oid::regprocedure::text AS name, p.prorettype = 'trigger'::regtype AS is_trigger
      FROM pg_proc p
      JOIN pg_namespace n ON n.oid = p.pronamespace
      JOIN pg_language l ON l.oid = p.prolang
     WHERE n.nspname = 'exchange' AND l.lanname = 'plpgsql'
), targets AS (
    SELECT f.oid, f.name, 0::oid AS relid FROM fns f WHERE NOT f.is_trigger
    UNION ALL
    SELECT DISTINCT f.oid, f.name || ' on ' || t.tgrelid::regclass::text, t.tgrelid
      FROM fns f JOIN pg_trigger t ON t.tgfoid = f.oid
     WHERE f.is_trigger AND NOT t.tgisinternal
)
SELECT t.name, c.lineno, c.level, c.message, c.detail
  FROM targets t
  CROSS JOIN LATERAL plpgsql_check_function_tb(t.oid, t.relid,
        fatal_errors => false, other_warnings => true, extra_warnings => false) c
 WHERE c.level IN ('error', 'warning')
 ORDER BY 1, 2
"""


def test_plpgsql_check_clean(template_dsn: str) -> None:
    with psycopg.connect(template_dsn, autocommit=True) as conn:
        count = conn.execute(
            "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname = 'exchange' AND p.prolang = "
            "(SELECT oid FROM pg_language WHERE lanname = 'plpgsql')").fetchone()
        assert count is not None and count[0] > 0, "no PL/pgSQL function to check"
        problems: list[Any] = conn.execute(CHECK).fetchall()
    assert not problems, "\n".join(f"{n}:{line} {lvl}: {msg} {d or ''}"
                                   for n, line, lvl, msg, d in problems)
