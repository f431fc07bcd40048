"""Fixtures of the alert tests (helpers in `alerts_support.py`)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from alerts_support import (
    Collector,
    Receiver,
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
def smtp_server() -> Iterator[SmtpServer]:
    yield from _serve(Collector())


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


@pytest.fixture
def webhook() -> Iterator[Receiver]:
    """An HTTP receiver on loopback; set `statuses` to choose its answers."""
    bodies: list[tuple[str | None, bytes]] = []
    statuses: list[int] = [200]

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            length = int(self.headers.get("Content-Length") or 0)
            bodies.append((self.headers.get("Content-Type"), self.rfile.read(length)))
            status = statuses.pop(0) if len(statuses) > 1 else statuses[0]
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Receiver(f"http://127.0.0.1:{server.server_address[1]}/hooks/cds", bodies, statuses)
    finally:
        server.shutdown()
        server.server_close()
