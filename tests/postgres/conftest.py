"""Fixtures of the PostgreSQL warehouse tests (helpers in `pg_support.py`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pg_support import fresh_database, query

from warehouse.schema import SCHEMAS


@pytest.fixture(scope="module")
def pg_database() -> Iterator[str]:
    """A fresh database on the local server for the module (skipped when unreachable)."""
    with fresh_database() as url:
        yield url


@pytest.fixture
def pg_url(pg_database: str) -> str:
    """The module's database, emptied of the pipeline's schemas for each test."""
    query(pg_database, f"DROP SCHEMA IF EXISTS {', '.join(SCHEMAS)} CASCADE")
    return pg_database


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def warehouse_target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """CDS_WAREHOUSE of each backend: a DuckDB file, then an empty PostgreSQL database."""
    if request.param == "duckdb":
        return str(tmp_path / "cds.duckdb")
    return request.getfixturevalue("pg_url")
