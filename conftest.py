"""Fixtures every test folder shares: a schema of its own on the PostgreSQL test server."""

from __future__ import annotations

import contextlib
import functools
import threading
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import sqlalchemy as sa

from tests.alerts.alerts_support import Collector, Receiver, SmtpServer, serve_smtp

PG_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"


@functools.cache
def postgres_unreachable() -> str | None:
    """None when the PostgreSQL test server answers, else why not."""
    engine = sa.create_engine(PG_URL, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means: skip, naming the reason
        return f"PostgreSQL at {PG_URL} unreachable: {type(exc).__name__}: {exc}".splitlines()[0]
    finally:
        engine.dispose()


@contextlib.contextmanager
def pg_schema(application_name: str = "cds_tests") -> Iterator[tuple[str, str]]:
    """(url, schema): a schema of its own on the test server, dropped afterwards.

    The URL sets `search_path` to the schema (code that knows nothing of schemas works in it)
    and an `application_name`, so a test can find the reader's sessions in pg_stat_activity.
    Skips the test when the server is unreachable.
    """
    reason = postgres_unreachable()
    if reason:
        pytest.skip(reason)
    schema = f"cds_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield (
            f"{PG_URL}?options=-csearch_path%3D{schema}&application_name={application_name}",
            schema,
        )
    finally:
        with admin.begin() as conn:
            # Sessions left by a failed test would block the DROP.
            conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = :name AND pid <> pg_backend_pid()"
                ),
                {"name": application_name},
            )
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session")
def make_pg_schema() -> Callable[..., contextlib.AbstractContextManager[tuple[str, str]]]:
    """`pg_schema` for test modules (which cannot import a conftest)."""
    return pg_schema


@pytest.fixture
def pg_schema_url() -> Iterator[tuple[str, str]]:
    with pg_schema() as created:
        yield created


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A real SMTP server on loopback that keeps what it receives."""
    yield from serve_smtp(Collector())


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
