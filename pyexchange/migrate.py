"""Apply the sqitch-layout ``migrations/`` folder through yoyo's Python API.

The sqitch plan gives the order of the changes; each change becomes one yoyo migration whose
apply step is ``deploy/<change>.sql`` and whose rollback step is ``revert/<change>.sql``.
yoyo provides the lock (``_yoyo_lock``) and the history (``_yoyo_migration``). The scripts are
the very files that ``sqitch deploy`` runs through psql, so they may contain the two psql
features that sqitch scripts use here: ``\\ir`` (include a file relative to the script, used to
pull PL/pgSQL from ``functions/``) and the ``BEGIN;``/``COMMIT;`` lines that wrap each script
(yoyo runs every migration in its own transaction, so those lines are dropped).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import psycopg
from psycopg.conninfo import conninfo_to_dict
from yoyo import get_backend
from yoyo.migrations import Migration, MigrationList, StepCollector

from pyexchange.errors import MigrationError

_INCLUDE = re.compile(r"^\s*\\(ir|i|include_relative|include)\s+(\S+)\s*$")
_TXN_LINE = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK)\s*;\s*$", re.IGNORECASE)


def migrations_dir() -> Path:
    """The sqitch project: ``$PYEXCHANGE_MIGRATIONS``, else the repository's ``migrations/``
    (a checkout or an editable install), else the copy an installed wheel carries in
    ``pyexchange/_schema/migrations`` (with ``functions/`` beside it; see setup.py)."""
    env = os.environ.get("PYEXCHANGE_MIGRATIONS")
    if env:
        return Path(env)
    here = Path(__file__).resolve().parent
    repository = here.parent / "migrations"
    if (repository / "sqitch.plan").is_file():
        return repository
    shipped = here / "_schema" / "migrations"
    if (shipped / "sqitch.plan").is_file():
        return shipped
    raise MigrationError(
        f"no migrations found: neither {repository} nor {shipped} holds a sqitch.plan",
        hint="Reinstall pyexchange from a wheel or sdist built by this version, or set "
             "PYEXCHANGE_MIGRATIONS to a checkout's migrations/ folder.")


def expand_script(path: Path, _seen: tuple[Path, ...] = ()) -> str:
    """Return the SQL of a sqitch script with ``\\ir`` includes inlined and the wrapping
    transaction lines removed."""
    path = path.resolve()
    if path in _seen:
        raise MigrationError(f"include cycle through {path}")
    out: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        m = _INCLUDE.match(line)
        if m:
            kind, target = m.groups()
            base = path.parent if kind in ("ir", "include_relative") else Path.cwd()
            out.append(expand_script(base / target, (*_seen, path)))
        elif _TXN_LINE.match(line):
            continue
        elif line.lstrip().startswith("\\"):
            raise MigrationError(f"{path}: psql command not supported here: {line.strip()}")
        else:
            out.append(line)
    return "\n".join(out) + "\n"


@dataclass(frozen=True)
class Change:
    """One change of the sqitch plan."""

    name: str
    requires: tuple[str, ...]
    note: str
    script_name: str  # file stem under deploy/, revert/, verify/ (name or name@tag)

    def script(self, kind: str, root: Path) -> Path:
        return root / kind / f"{self.script_name}.sql"


def read_plan(root: Path | None = None) -> list[Change]:
    """Parse ``sqitch.plan``: changes in order, with reworked changes resolved to the
    ``name@tag`` scripts sqitch keeps for their earlier versions."""
    root = root or migrations_dir()
    entries: list[tuple[str, tuple[str, ...], str]] = []
    tags_after: dict[int, str] = {}
    for raw in (root / "sqitch.plan").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("%") or line.startswith("#"):
            continue
        if line.startswith("@"):
            tags_after.setdefault(len(entries), line.split()[0])
            continue
        m = re.match(r"^(\S+)\s*(?:\[([^\]]*)\])?\s*.*?(?:#\s*(.*))?$", line)
        if not m:
            raise MigrationError(f"cannot parse plan line: {raw}")
        name, deps, note = m.group(1), m.group(2) or "", m.group(3) or ""
        entries.append((name, tuple(d for d in deps.split() if d), note))
    changes: list[Change] = []
    for i, (name, deps, note) in enumerate(entries):
        later = [j for j in range(i + 1, len(entries)) if entries[j][0] == name]
        script_name = name
        if later:
            # an earlier version of a reworked change: its scripts carry the first tag after it
            tag = next((tags_after[k] for k in sorted(tags_after) if i < k <= later[0]), None)
            if tag is None:
                raise MigrationError(f"change {name} is reworked without a tag between")
            script_name = f"{name}{tag}"
        changes.append(Change(name, deps, note, script_name))
    return changes


class _SqitchMigration(Migration):  # type: ignore[misc]
    """A yoyo migration built from one sqitch change."""

    def __init__(self, change: Change, root: Path, previous: _SqitchMigration | None) -> None:
        mid = change.name if change.script_name == change.name else change.script_name
        super().__init__(mid, str(change.script("deploy", root)), str(root))
        self.change = change
        self.root = root
        self.previous = previous

    def load(self) -> None:
        if self.loaded:
            return
        collector = StepCollector(migration=self)
        deploy = expand_script(self.change.script("deploy", self.root))
        revert_path = self.change.script("revert", self.root)
        revert = expand_script(revert_path) if revert_path.exists() else None
        self.source = deploy
        collector.add_step(deploy, revert)
        self._depends = {self.previous} if self.previous is not None else set()
        self.use_transactions = True
        self.steps = collector.create_steps(True)


def build_migrations(root: Path | None = None) -> MigrationList:
    root = root or migrations_dir()
    items: list[_SqitchMigration] = []
    previous: _SqitchMigration | None = None
    for change in read_plan(root):
        m = _SqitchMigration(change, root, previous)
        items.append(m)
        previous = m
    return MigrationList(items)


def yoyo_url(conninfo: str) -> str:
    """A ``postgresql+psycopg://`` URL carrying every libpq parameter of ``conninfo``."""
    params: dict[str, Any] = {k: v for k, v in conninfo_to_dict(conninfo).items() if v is not None}
    dbname = params.pop("dbname", None) or os.environ.get("PGDATABASE") or ""
    if "user" not in params and os.environ.get("PGUSER"):
        params["user"] = os.environ["PGUSER"]
    query = urlencode({k: str(v) for k, v in params.items()})
    return f"postgresql+psycopg:///{quote(str(dbname), safe='')}" + (f"?{query}" if query else "")


@dataclass(frozen=True)
class ChangeStatus:
    name: str
    applied: bool
    note: str


@contextmanager
def _failing_change(name: str, kind: str, done: list[str]) -> Iterator[None]:
    """Turn a database error of one change's script into a MigrationError naming it."""
    try:
        yield
    except psycopg.Error as exc:
        diag = exc.diag
        where = f" ({diag.context.strip().splitlines()[-1]})" if diag.context else ""
        raise MigrationError(
            f"{kind}/{name}.sql failed: {diag.message_primary or exc}{where}",
            detail=(f"SQLSTATE {exc.sqlstate}. "
                    + (f"Done before it: {', '.join(done)}. " if done else "")
                    + f"{name} was rolled back; nothing after it ran."),
            hint=diag.message_hint or (
                "A change that was edited after this database applied it leaves the database "
                "behind its scripts: see docs/migrations.md (the rule for functions)."
                if exc.sqlstate in ("42P01", "42703", "42883", "42704") else None),
        ) from exc


class Migrator:
    """``pyexchange db migrate | rollback | status | verify`` on one database."""

    def __init__(self, conninfo: str, root: Path | None = None) -> None:
        self.conninfo = conninfo
        self.root = root or migrations_dir()

    @contextmanager
    def _backend(self) -> Iterator[Any]:
        backend = get_backend(yoyo_url(self.conninfo))
        try:
            yield backend
        finally:
            backend.connection.close()

    def migrate(self, *, to: str | None = None) -> list[str]:
        """Apply every pending change in plan order (or only those up to and including
        ``to``); return their names."""
        migrations = build_migrations(self.root)
        ids = [m.id for m in migrations]
        if to is not None and to not in ids:
            raise MigrationError(f"unknown change: {to}")
        with self._backend() as backend, backend.lock():
            todo = backend.to_apply(migrations)
            if to is not None:
                allowed = set(ids[: ids.index(to) + 1])
                todo = MigrationList([m for m in todo if m.id in allowed])
            done: list[str] = []
            for m in todo:  # one at a time, so that a failure names its change
                with _failing_change(m.id, "deploy", done):
                    backend.apply_migrations(MigrationList([m]))
                done.append(m.id)
            return done

    def rollback(self, *, to: str | None = None, all_: bool = False) -> list[str]:
        """Revert the last change, every change after ``to``, or everything (``all_``)."""
        migrations = build_migrations(self.root)
        ids = [m.id for m in migrations]
        if to is not None and to not in ids:
            raise MigrationError(f"unknown change: {to}")
        with self._backend() as backend, backend.lock():
            applied = backend.to_rollback(migrations)  # newest first
            if to is not None:
                keep = set(ids[: ids.index(to) + 1])
                todo = [m for m in applied if m.id not in keep]
            elif all_:
                todo = list(applied)
            else:
                todo = list(applied[:1])
            done: list[str] = []
            for m in todo:
                with _failing_change(m.id, "revert", done):
                    backend.rollback_migrations(MigrationList([m]))
                done.append(m.id)
            return done

    def status(self) -> list[ChangeStatus]:
        migrations = build_migrations(self.root)
        with self._backend() as backend:
            applied = set(backend.get_applied_migration_hashes())
        return [ChangeStatus(m.id, m.hash in applied, m.change.note) for m in migrations]

    def verify(self) -> list[tuple[str, str | None]]:
        """Run each applied change's verify script in a rolled-back transaction;
        return (change, error or None)."""
        results: list[tuple[str, str | None]] = []
        applied = {s.name for s in self.status() if s.applied}
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            for change in read_plan(self.root):
                name = change.name if change.script_name == change.name else change.script_name
                if name not in applied:
                    continue
                sql = expand_script(change.script("verify", self.root))
                try:
                    with conn.transaction(force_rollback=True):
                        conn.execute(sql.encode())
                    results.append((name, None))
                except psycopg.Error as exc:
                    results.append((name, str(exc).strip().splitlines()[0]))
        return results
