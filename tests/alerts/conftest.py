"""Fixtures of the alert tests (helpers in `alerts_support.py`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alerts_support import (
    Collector,
    SmtpServer,
    new_warehouse,
    reject_all,
    seed_reference,
    serve_smtp,
)


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator[Path]:
    """The path of a small warehouse file with reference data (reopen it to 'restart')."""
    path = tmp_path / "cds.duckdb"
    conn = new_warehouse(path)
    seed_reference(conn)
    conn.close()
    yield path


@pytest.fixture
def refusing_smtp_server() -> Iterator[SmtpServer]:
    """A server that answers 550 to every recipient."""
    yield from serve_smtp(Collector(refuse="550 5.7.1 Relaying denied"))


@pytest.fixture
def auth_smtp_server() -> Iterator[SmtpServer]:
    """A server that requires a login and rejects every credential."""
    yield from serve_smtp(
        Collector(), authenticator=reject_all, auth_required=True, auth_require_tls=False
    )
