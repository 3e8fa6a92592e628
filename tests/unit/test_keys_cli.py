"""``pyexchange keys generate --file``: the README's first session makes its key file so."""

from __future__ import annotations

import stat
from pathlib import Path

from click.testing import CliRunner

from pyexchange.cli import main
from pyexchange.crypto import MasterKeys


def test_generate_file_appends_a_current_key_to_a_private_file(tmp_path: Path) -> None:
    file = tmp_path / "new-dir" / "master.key"
    ids = []
    for _ in range(2):
        out = CliRunner().invoke(main, ["keys", "generate", "--file", str(file)])
        assert out.exit_code == 0, out.output
        assert ":" not in out.output  # only the id is printed, never the key
        ids.append(out.output.split()[2])
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    keys = MasterKeys.parse(file.read_text(encoding="utf-8"), str(file))
    # the first key stays (what it encrypted still opens), the new one is current
    assert sorted(keys.keys) == sorted(ids) and keys.current == ids[1]
