"""Fixtures of the ingestion tests: sources generated once, warehouses made per test."""

from __future__ import annotations

import contextlib
import functools
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pytest
import sqlalchemy as sa
from ingest_support import (
    END,
    PG_URL,
    SCALE,
    SEED,
    START,
    Generated,
    copy_sqlite,
    settings_for,
    warehouse,
)

from orchestration.ingest import ingest_reference
from sources.simulator.generate import DemoSources, generate
from sources.simulator.manifest import Manifest
from warehouse.landing import Lander


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    """Every source at a tiny scale over four months, with every planted anomaly.

    Shared by all the tests of the folder: a test that changes a source works on a copy.
    """
    demo = DemoSources.at(tmp_path_factory.mktemp("sources"))
    generate(demo, seed=SEED, scale=SCALE, start=START, end=END)
    return Generated(demo, Manifest.read(demo.manifest_path))


@pytest.fixture(scope="session")
def reference_warehouse(generated: Generated, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse with the reference data landed (the feeds need `thon_ban`)."""
    path = tmp_path_factory.mktemp("base") / "reference.duckdb"
    with warehouse(path) as conn:
        ingest_reference(settings_for(generated.demo), Lander(conn, "reference"))
        conn.execute("CHECKPOINT")
    return path


@pytest.fixture
def wh(reference_warehouse: Path, tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """The writer connection of a fresh warehouse of the test's own (reference landed)."""
    path = tmp_path / "warehouse.duckdb"
    shutil.copy(reference_warehouse, path)
    with warehouse(path) as conn:
        yield conn


@pytest.fixture
def own_store(generated: Generated, tmp_path: Path) -> Path:
    """A copy of the portal's store that the test may change."""
    return copy_sqlite(generated.demo.portal_store, tmp_path / "portal.sqlite")


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
def pg_schema(application_name: str = "cds_ingest_tests") -> Iterator[tuple[str, str]]:
    """(url, schema): a schema of its own on the test server, dropped afterwards.

    The URL sets `search_path` to the schema (code that knows nothing of schemas works in it)
    and an `application_name`, so a test can find the reader's sessions in pg_stat_activity.
    """
    reason = postgres_unreachable()
    if reason:
        pytest.skip(reason)
    schema = f"cds_ingest_{uuid.uuid4().hex[:10]}"
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
    return pg_schema
