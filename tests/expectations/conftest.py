"""Fixtures of the quality tests: one clean and one dirty little warehouse, checked once."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import quality_tables as qt  # noqa: E402

from expectations.rules import CheckOutcome  # noqa: E402
from expectations.runner import run_all  # noqa: E402
from expectations.settings import QualitySettings  # noqa: E402


@pytest.fixture(scope="session")
def clean_outcomes() -> dict[str, CheckOutcome]:
    conn = qt.clean_warehouse()
    return {o.check_name: o for o in run_all(conn, "clean", QualitySettings(now=qt.CLEAN_NOW))}


@pytest.fixture(scope="session")
def dirty_outcomes() -> dict[str, CheckOutcome]:
    conn = qt.dirty_warehouse()
    qt.fill(conn, qt.generic_dirty_rows())
    return {o.check_name: o for o in run_all(conn, "dirty", QualitySettings(now=qt.DIRTY_NOW))}
