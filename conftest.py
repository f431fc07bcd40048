"""Fixtures every test folder shares: a schema of its own on the PostgreSQL test server."""

from __future__ import annotations

import contextlib
import functools
import uuid
from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa

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
