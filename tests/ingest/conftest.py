"""Fixtures of the ingestion tests: sources generated once, warehouses made per test."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from ingest_support import (
    END,
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
