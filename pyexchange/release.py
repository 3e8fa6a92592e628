"""The rule for functions, enforced for released changes (see docs/migrations.md).

A change is *released* once a sqitch tag (``@v1.0`` line in ``sqitch.plan``) follows it.
``make release-lock`` (``python -m pyexchange.release``) writes ``migrations/release.lock``:
the checksum of every released change's deploy/revert/verify script and of every file those
scripts include (``functions/<domain>/*.sql``). :func:`check` then reports, and a test fails on:

* a released change's script that was edited (released scripts never change; add a change,
  or ``sqitch rework``, which keeps the released text as ``<change>@<tag>.sql``);
* an included file that changed since the release while no change after the last tag
  includes it: databases deployed from the release would never get the new text.

Without a tag there is nothing released and nothing to check.
"""

from __future__ import annotations

import argparse
import hashlib
import re
from pathlib import Path

from pyexchange.migrate import Change, migrations_dir, read_plan

LOCK_NAME = "release.lock"
_INCLUDE = re.compile(r"^\s*\\(?:ir|include_relative)\s+(\S+)\s*$", re.MULTILINE)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _includes(script: Path, seen: frozenset[Path] = frozenset()) -> set[Path]:
    """Every file a script includes with ``\\ir``, recursively."""
    found: set[Path] = set()
    if not script.exists() or script in seen:
        return found
    for target in _INCLUDE.findall(script.read_text(encoding="utf-8")):
        path = (script.parent / target).resolve()
        found.add(path)
        found |= _includes(path, seen | {script})
    return found


def released_count(root: Path) -> int:
    """How many changes, from the start of the plan, a tag follows."""
    count = released = 0
    for raw in (root / "sqitch.plan").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("%", "#")):
            continue
        if line.startswith("@"):
            released = count
        else:
            count += 1
    return released


def _entries(root: Path) -> tuple[list[Change], list[Change]]:
    plan = read_plan(root)
    n = released_count(root)
    return plan[:n], plan[n:]


def _rel(path: Path, base: Path) -> str:
    return path.resolve().relative_to(base.resolve()).as_posix()


def lock_lines(root: Path | None = None) -> list[str]:
    """The lines of ``release.lock`` for the plan as it is now."""
    root = (root or migrations_dir()).resolve()
    base = root.parent
    released, _ = _entries(root)
    lines: list[str] = []
    files: set[Path] = set()
    for index, change in enumerate(released):
        for kind in ("deploy", "revert", "verify"):
            script = change.script(kind, root)
            if script.exists():
                lines.append(f"{index} {change.name} {kind} {_sha(script)}")
                files |= _includes(script)
    lines += [f"file {_rel(f, base)} {_sha(f)}" for f in sorted(files)]
    return lines


def write_lock(root: Path | None = None) -> Path:
    root = root or migrations_dir()
    path = root / LOCK_NAME
    path.write_text("\n".join(lock_lines(root)) + "\n", encoding="utf-8")
    return path


def check(root: Path | None = None) -> list[str]:
    """What breaks the rule for released changes ([] when all is well)."""
    root = (root or migrations_dir()).resolve()
    base = root.parent
    released, unreleased = _entries(root)
    if not released:
        return []
    lock = root / LOCK_NAME
    if not lock.exists():
        return [f"{len(released)} change(s) are released (tagged) but {LOCK_NAME} is missing: "
                "run `make release-lock` when tagging"]
    problems: list[str] = []
    later_includes: set[Path] = set()
    for change in unreleased:
        later_includes |= _includes(change.script("deploy", root))
    for line in lock.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "file":
            path = (base / parts[1]).resolve()
            if not path.exists():
                if path not in later_includes:
                    problems.append(f"{parts[1]} is included by a released change but is gone")
                continue
            if _sha(path) != parts[2] and path not in later_includes:
                problems.append(
                    f"{parts[1]} changed since the release, but no change after the last tag "
                    "includes it: add a change whose deploy script includes it "
                    "(docs/migrations.md, the rule for functions)")
            continue
        index, name, kind, digest = int(parts[0]), parts[1], parts[2], parts[3]
        if index >= len(released) or released[index].name != name:
            problems.append(f"released change {name} moved or vanished from the plan")
            continue
        script = released[index].script(kind, root)
        if not script.exists() or _sha(script) != digest:
            problems.append(
                f"released change {name}: {kind}/{script.name} was edited; released scripts "
                "never change (add a change, or `sqitch rework` it)")
    return problems


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write or check migrations/release.lock.")
    parser.add_argument("command", choices=["lock", "check"])
    args = parser.parse_args(argv)
    if args.command == "lock":
        print(f"wrote {write_lock()}")
        return
    problems = check()
    for p in problems:
        print(p)
    raise SystemExit(1 if problems else 0)


if __name__ == "__main__":
    main()
