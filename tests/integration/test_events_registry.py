"""The event types: the registry table, docs/events.md and the functions agree."""

from __future__ import annotations

import re
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[2]
ROW = re.compile(r"^\| `([a-z_]+)` \| ([a-z_]+) \| ([a-z_, ]+) \| ([a-z_, ]*) \|", re.MULTILINE)


def documented() -> dict[str, tuple[str, list[str], list[str]]]:
    text = (ROOT / "docs" / "events.md").read_text(encoding="utf-8")
    block = text.split("<!-- event-types:begin -->")[1].split("<!-- event-types:end -->")[0]
    return {m[1]: (m[2], [k.strip() for k in m[3].split(",")],
                   [k.strip() for k in m[4].split(",") if k.strip()])
            for m in ROW.finditer(block)}


def test_docs_list_exactly_the_registered_event_types(template_dsn: str) -> None:
    with psycopg.connect(template_dsn) as conn:
        registry = {t: (a, list(p), list(r)) for t, a, p, r in conn.execute(
            "SELECT event_type, aggregate_type, payload_keys, recipient_keys "
            "FROM exchange.event_types")}
    assert len(registry) >= 14
    assert documented() == registry


def test_every_event_type_written_by_a_function_is_registered(template_dsn: str) -> None:
    with psycopg.connect(template_dsn) as conn:
        registered = {t for (t,) in conn.execute("SELECT event_type FROM exchange.event_types")}
    written: dict[str, set[str]] = {}
    for path in sorted((ROOT / "functions").glob("*/*.sql")):
        text = path.read_text(encoding="utf-8")
        for m in re.finditer(r"_emit_event\(\s*'[a-z_]+',[^;]*?'([a-z_]+)'", text, re.DOTALL):
            written.setdefault(m[1], set()).add(path.name)
        for m in re.finditer(r"e_type := array_append\(e_type, '([a-z_]+)'\)", text):
            written.setdefault(m[1], set()).add(path.name)
        for m in re.finditer(r"VALUES \('[a-z_]+', [^,]+, '([a-z_]+)'", text):
            if "outbox_events" in text:
                written.setdefault(m[1], set()).add(path.name)
    assert written, "found no event written by any function"
    unknown = {t: sorted(f) for t, f in written.items() if t not in registered}
    assert not unknown, f"event types written but not registered in docs/events.md: {unknown}"
