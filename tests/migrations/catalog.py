"""A snapshot of everything the migrations define in schema ``exchange``, for comparing two
databases (procrastinate's way of proving that a fresh install equals an upgrade).

Each section is a sorted list of text rows built from the catalogs (no OIDs, nothing that
depends on the order objects were created in, except column order, which is part of a
table's shape). Partition names and bounds depend on today's date; both databases of a
comparison are made the same day, so they are compared as they are.
"""

from __future__ import annotations

import re
from typing import Any

import psycopg

SCHEMA = "exchange"
#: Extensions the test harness adds to its databases; not part of the migrations.
TEST_EXTENSIONS = ("plpgsql", "pgtap", "plpgsql_check")

SECTIONS: dict[str, str] = {
    "schema": """
        SELECT n.nspname, n.nspowner::regrole::text, n.nspacl::text,
               obj_description(n.oid, 'pg_namespace')
          FROM pg_namespace n WHERE n.nspname = %(s)s""",
    "default_acls": """
        SELECT d.defaclrole::regrole::text, d.defaclobjtype::text, d.defaclacl::text
          FROM pg_default_acl d JOIN pg_namespace n ON n.oid = d.defaclnamespace
         WHERE n.nspname = %(s)s""",
    "relations": """
        SELECT c.relname, c.relkind::text, c.relowner::regrole::text, c.relacl::text,
               c.relrowsecurity, c.relforcerowsecurity, c.relpersistence::text,
               c.relispartition, pg_get_expr(c.relpartbound, c.oid),
               CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END,
               obj_description(c.oid, 'pg_class'), c.reloptions::text
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = %(s)s AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S', 'c')""",
    "columns": """
        SELECT c.relname,
               row_number() OVER (PARTITION BY c.oid ORDER BY a.attnum) AS position,
               a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
               pg_get_expr(d.adbin, d.adrelid), a.attidentity::text, a.attgenerated::text,
               a.attacl::text, col_description(c.oid, a.attnum), co.collname
          FROM pg_attribute a
          JOIN pg_class c ON c.oid = a.attrelid
          JOIN pg_namespace n ON n.oid = c.relnamespace
          LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
          LEFT JOIN pg_collation co ON co.oid = a.attcollation AND a.attcollation <> 100
         WHERE n.nspname = %(s)s AND a.attnum > 0 AND NOT a.attisdropped
           AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'c')""",
    "sequences": """
        SELECT c.relname, format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement,
               s.seqmax, s.seqmin, s.seqcache, s.seqcycle,
               (SELECT dc.relname || '.' || a.attname FROM pg_depend dp
                  JOIN pg_class dc ON dc.oid = dp.refobjid
                  JOIN pg_attribute a ON a.attrelid = dp.refobjid AND a.attnum = dp.refobjsubid
                 WHERE dp.objid = c.oid AND dp.classid = 'pg_class'::regclass
                   AND dp.deptype IN ('a', 'i') LIMIT 1)
          FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid
          JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %(s)s""",
    "constraints": """
        SELECT coalesce(c.relname, t.typname), co.conname, co.contype::text,
               pg_get_constraintdef(co.oid), co.condeferrable, co.condeferred,
               co.convalidated, co.connoinherit, obj_description(co.oid, 'pg_constraint')
          FROM pg_constraint co
          JOIN pg_namespace n ON n.oid = co.connamespace
          LEFT JOIN pg_class c ON c.oid = co.conrelid
          LEFT JOIN pg_type t ON t.oid = co.contypid
         WHERE n.nspname = %(s)s""",
    "indexes": """
        SELECT c.relname, i.relname, pg_get_indexdef(i.oid), ix.indisunique, ix.indisprimary,
               ix.indisvalid, obj_description(i.oid, 'pg_class')
          FROM pg_index ix
          JOIN pg_class i ON i.oid = ix.indexrelid
          JOIN pg_class c ON c.oid = ix.indrelid
          JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = %(s)s""",
    "views": """
        SELECT c.relname, pg_get_viewdef(c.oid, true)
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = %(s)s AND c.relkind IN ('v', 'm')""",
    "functions": """
        SELECT p.proname, pg_get_function_identity_arguments(p.oid),
               pg_get_function_arguments(p.oid), pg_get_function_result(p.oid),
               l.lanname, p.prokind::text, p.prosecdef, p.provolatile::text,
               p.proisstrict, p.proleakproof, p.proparallel::text, p.proconfig::text,
               p.prosrc, p.proowner::regrole::text, p.proacl::text,
               obj_description(p.oid, 'pg_proc')
          FROM pg_proc p
          JOIN pg_namespace n ON n.oid = p.pronamespace
          JOIN pg_language l ON l.oid = p.prolang
         WHERE n.nspname = %(s)s""",
    "triggers": """
        SELECT c.relname, t.tgname, pg_get_triggerdef(t.oid, true), t.tgenabled::text,
               obj_description(t.oid, 'pg_trigger')
          FROM pg_trigger t
          JOIN pg_class c ON c.oid = t.tgrelid
          JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = %(s)s AND NOT t.tgisinternal""",
    "partitions": """
        SELECT parent.relname, child.relname, pg_get_expr(child.relpartbound, child.oid)
          FROM pg_inherits i
          JOIN pg_class parent ON parent.oid = i.inhparent
          JOIN pg_class child ON child.oid = i.inhrelid
          JOIN pg_namespace n ON n.oid = parent.relnamespace
         WHERE n.nspname = %(s)s""",
    "types": """
        SELECT t.typname, t.typtype::text, format_type(t.typbasetype, t.typtypmod),
               t.typnotnull, t.typdefault, t.typowner::regrole::text, t.typacl::text,
               obj_description(t.oid, 'pg_type'),
               (SELECT array_agg(e.enumlabel::text ORDER BY e.enumsortorder)
                  FROM pg_enum e WHERE e.enumtypid = t.oid)::text
          FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
         WHERE n.nspname = %(s)s AND t.typtype IN ('e', 'd', 'c', 'r')
           AND (t.typrelid = 0 OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')""",
    "policies": """
        SELECT c.relname, p.polname, p.polcmd::text, p.polpermissive,
               (SELECT array_agg(r::regrole::text ORDER BY r::regrole::text)
                  FROM unnest(p.polroles) r)::text,
               pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid)
          FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
          JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %(s)s""",
    "rules": """
        SELECT r.tablename, r.rulename, r.definition FROM pg_rules r
         WHERE r.schemaname = %(s)s""",
    "extensions": """
        SELECT e.extname, n.nspname FROM pg_extension e
          JOIN pg_namespace n ON n.oid = e.extnamespace
         WHERE e.extname <> ALL (%(test_ext)s)""",
}


def snapshot(conninfo: str, schema: str = SCHEMA) -> dict[str, list[tuple[Any, ...]]]:
    """Every section of the catalog of ``schema``, each a sorted list of rows."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with psycopg.connect(conninfo, autocommit=True) as conn:
        # pg_get_*def output depends on the search_path: fix it.
        conn.execute("SET search_path = pg_catalog")
        for name, query in SECTIONS.items():
            rows = conn.execute(query, {"s": schema, "test_ext": list(TEST_EXTENSIONS)}).fetchall()
            out[name] = sorted((tuple(r) for r in rows), key=repr)
    return out


def _short(line: str, width: int = 240) -> str:
    return line if len(line) <= width else line[: width - 3] + "..."


def _around(x: Any, y: Any, context: int = 60) -> str:
    """Two values that differ; for long strings, the part around the first difference."""
    if isinstance(x, str) and isinstance(y, str) and max(len(x), len(y)) > 2 * context:
        i = next((n for n, (p, q) in enumerate(zip(x, y, strict=False)) if p != q),
                 min(len(x), len(y)))
        lo = max(0, i - context // 2)
        return f"at char {i}: ...{x[lo:i + context]!r}... -> ...{y[lo:i + context]!r}..."
    return f"{x!r} -> {y!r}"


def diff(a: dict[str, list[tuple[Any, ...]]], b: dict[str, list[tuple[Any, ...]]],
         limit: int = 40) -> str:
    """A readable difference between two snapshots ('' when equal). Rows of a section that
    share their first two fields (the object's name) are shown as one changed object with
    the fields that differ."""
    lines: list[str] = []
    for section in sorted(a.keys() | b.keys()):
        left, right = set(a.get(section, [])), set(b.get(section, []))
        only_left = {row[:2]: row for row in left - right}
        only_right = {row[:2]: row for row in right - left}
        for key in sorted(only_left.keys() & only_right.keys(), key=repr):
            old, new = only_left.pop(key), only_right.pop(key)
            fields = [f"field {i}: {_around(x, y)}"
                      for i, (x, y) in enumerate(zip(old, new, strict=False)) if x != y]
            lines.append(_short(f"~ {section}: {key!r}: " + "; ".join(fields), 600))
        lines += [_short(f"- {section}: {row!r}") for row in sorted(only_left.values(), key=repr)]
        lines += [_short(f"+ {section}: {row!r}") for row in sorted(only_right.values(), key=repr)]
    if len(lines) > limit:
        lines = [*lines[:limit], f"... and {len(lines) - limit} more"]
    return "\n".join(lines)


_PARTITION = re.compile(r"^\w+_\d{4}_\d{2}(_\w+)?$")
_PARTITION_REF = re.compile(r"\bexchange\.\w+_\d{4}_\d{2}\b")


def without_partitions(snap: dict[str, list[tuple[Any, ...]]]) -> dict[str, list[tuple[Any, ...]]]:
    """The snapshot less the monthly partitions and what hangs on them (their columns,
    indexes, constraints, triggers): for comparing states where partitions legitimately
    differ (the partitions change's revert keeps the partitions it made; they go with their
    parent tables)."""
    def keep(row: tuple[Any, ...]) -> bool:
        return not (any(isinstance(v, str) and _PARTITION.match(v) for v in row[:2])
                    or any(isinstance(v, str) and _PARTITION_REF.search(v) for v in row))

    return {section: [r for r in rows if keep(r)] for section, rows in snap.items()
            if section != "partitions"}


#: Positions of the owner and ACL fields in each section's rows (see SECTIONS).
_PRIVILEGE_FIELDS: dict[str, tuple[int, ...]] = {
    "schema": (1, 2), "relations": (2, 3), "columns": (8,), "functions": (13, 14),
    "types": (5, 6),
}


def without_privileges(snap: dict[str, list[tuple[Any, ...]]]) -> dict[str, list[tuple[Any, ...]]]:
    """The snapshot less owners and grants (for comparing shapes when a change's revert
    deliberately leaves ownership and privileges as they are)."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    for section, rows in snap.items():
        if section == "default_acls":
            continue
        drop = _PRIVILEGE_FIELDS.get(section, ())
        out[section] = sorted((tuple(v for i, v in enumerate(r) if i not in drop) for r in rows),
                              key=repr)
    return out
