"""Fixtures of the alert tests (helpers in `alerts_support.py`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alerts_support import (
    Collector,
    SmtpServer,
    new_warehouse,
    reject_all,
    seed_reference,
    start_smtp,
)


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator[Path]:
    """The path of a small warehouse file with reference data (reopen it to 'restart')."""
    path = tmp_path / "cds.duckdb"
    conn = new_warehouse(path)
    seed_reference(conn)
    conn.close()
    yield path


def _serve(handler: Collector, **kwargs: Any) -> Iterator[SmtpServer]:
    controller, port = start_smtp(handler, **kwargs)
    try:
        yield SmtpServer(handler, port)
    finally:
        controller.stop()


@pytest.fixture
def refusing_smtp_server() -> Iterator[SmtpServer]:
    """A server that answers 550 to every recipient."""
    yield from _serve(Collector(refuse="550 5.7.1 Relaying denied"))


@pytest.fixture
def auth_smtp_server() -> Iterator[SmtpServer]:
    """A server that requires a login and rejects every credential."""
    yield from _serve(
        Collector(), authenticator=reject_all, auth_required=True, auth_require_tls=False
    )
