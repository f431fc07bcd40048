"""Fixtures of the connector tests: the simulator's world and small generated sources."""

from __future__ import annotations

import contextlib
import functools
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from sources.simulator.manifest import Manifest
from sources.simulator.world import World, build_world

SEED = 2158
PG_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"


@pytest.fixture(scope="session")
def world() -> World:
    return build_world(SEED)


@pytest.fixture(scope="session")
def reference_dir(world: World, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from sources.simulator.reference import write_reference

    folder = tmp_path_factory.mktemp("reference")
    write_reference(world, folder)
    return folder


@pytest.fixture(scope="session")
def telecom_feeds(world: World, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Manifest]:
    """Five months of feeds with every planted fault (the folder must not be modified)."""
    from sources.simulator.telecom import write_telecom_feeds

    root = tmp_path_factory.mktemp("feeds")
    manifest = Manifest()
    write_telecom_feeds(
        world,
        root / "telecom",
        seed=SEED,
        start=date(2025, 1, 1),
        end=date(2025, 5, 31),
        manifest=manifest,
    )
    return root / "telecom", manifest


@functools.cache
def _postgres_reachable() -> str | None:
    """None when the test server answers, else why not."""
    engine = sa.create_engine(PG_URL, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means: skip, with the reason
        return f"PostgreSQL at {PG_URL} unreachable: {type(exc).__name__}: {exc}".splitlines()[0]
    finally:
        engine.dispose()


@contextlib.contextmanager
def pg_schema() -> Iterator[tuple[str, str]]:
    """(url, schema): an isolated schema on the test server, dropped afterwards.

    The URL sets `search_path` to the schema, so code that knows nothing about schemas (the
    simulator, the reader) works inside it. Skips the test when the server is unreachable.
    """
    reason = _postgres_reachable()
    if reason:
        pytest.skip(reason)
    schema = f"cds_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}", schema
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session")
def make_pg_schema() -> Callable[[], contextlib.AbstractContextManager[tuple[str, str]]]:
    """`pg_schema` for test modules (which cannot import the conftest)."""
    return pg_schema


@pytest.fixture
def pg_schema_url() -> Iterator[tuple[str, str]]:
    with pg_schema() as created:
        yield created
