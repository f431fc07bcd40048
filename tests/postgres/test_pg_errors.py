"""A PostgreSQL warehouse that refuses connections: one clear line, non-zero exit, nothing
changed; and the placeholder translation the PostgreSQL connection relies on."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from warehouse.connection import WarehouseError, open_writer
from warehouse.postgres import to_pyformat

REFUSING = "postgresql://analyst:s3cret@127.0.0.1:1/cds"


def _cds(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    script = Path(sys.executable).with_name("cds")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "orchestration.cli"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CDS_", "DAGSTER_"))}
    env["CDS_WAREHOUSE"] = REFUSING
    return subprocess.run(
        [*command, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def _one_clear_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    line = lines[0]
    assert line.startswith("cds: error: cannot connect to the PostgreSQL warehouse"), line
    assert "127.0.0.1" in line and "port 1" in line, line
    assert "s3cret" not in line and "analyst:***@" in line, line
    return line


def test_open_writer_names_the_server_and_masks_the_password() -> None:
    with pytest.raises(WarehouseError) as caught:
        open_writer(REFUSING)
    message = str(caught.value)
    assert "\n" not in message
    assert "host 127.0.0.1, port 1" in message and "s3cret" not in message


@pytest.mark.parametrize(
    # `cds run` now stops at the up-front settings check before any connection
    # (tests/operate); `cds query` needs only the warehouse URL, so it reaches PostgreSQL.
    "args",
    [["query", "SELECT count(*) FROM marts.agency_index"]],
    ids=["query"],
)
def test_refused_connection_is_one_line_and_changes_nothing(tmp_path: Path, args: list) -> None:
    result = _cds(args, tmp_path)
    assert result.returncode != 0
    _one_clear_line(result.stderr)
    assert list(tmp_path.iterdir()) == []  # no log, no outbox, no warehouse file


def test_placeholders_become_pyformat_outside_quotes() -> None:
    sql = "SELECT '?', \"a?b\", x LIKE '%?%' FROM t WHERE a = ? AND b % 2 = ? -- why?\n"
    assert to_pyformat(sql) == (
        "SELECT '?', \"a?b\", x LIKE '%%?%%' FROM t WHERE a = %s AND b %% 2 = %s -- why?\n"
    )
    assert to_pyformat("SELECT 'it''s ?', ?") == "SELECT 'it''s ?', %s"
