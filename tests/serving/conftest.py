"""Fixtures of the serving tests: a hand-made warehouse, published (marts_fixture.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from warehouse.publish import publish_snapshot

from .marts_fixture import build_warehouse


@pytest.fixture(scope="session")
def _published_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Built once: creating and publishing a warehouse takes a couple of seconds.
    path = tmp_path_factory.mktemp("template") / "warehouse" / "cds.duckdb"
    build_warehouse(path)
    publish_snapshot(path)
    return path


@pytest.fixture
def published(_published_template: Path, tmp_path: Path) -> Path:
    """A warehouse file with its marts, published once; returns the warehouse path.

    Each test gets its own copy (files only: the pointer names its snapshot relatively).
    """
    shutil.copytree(_published_template.parent, tmp_path / "warehouse")
    return tmp_path / "warehouse" / _published_template.name
