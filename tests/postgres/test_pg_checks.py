"""The quality suites decide the same on PostgreSQL as on DuckDB, rule by rule.

The dirty little warehouse of the quality tests (tests/expectations/quality_tables.py: for
each rule, rows or quarantined records that break it, edge cases included) is written into
both backends through the same writer API; every check of every raw suite must give the same
outcome: passed, failed rows, observed text, sample of keys and blocked agencies. Then the
results are recorded and read back through the alerts' queries on both.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "expectations"))

import quality_tables as qt  # noqa: E402

from expectations.alerts.problems import load_contacts, problems_of_run  # noqa: E402
from expectations.runner import run_all  # noqa: E402
from expectations.settings import QualitySettings  # noqa: E402
from warehouse.connection import open_writer  # noqa: E402
from warehouse.quality import record_blocked_agencies, record_check_results  # noqa: E402

pytestmark = pytest.mark.postgres


def _dirty(target: str):  # type: ignore[no-untyped-def]  # either backend's connection
    conn = open_writer(target)
    qt.fill(conn, qt.clean_rows())
    for rows, _ in qt.DIRTY.values():
        qt.fill(conn, rows)
    qt.fill(conn, qt.generic_dirty_rows())
    return conn


def _summary(outcomes: list) -> list[tuple]:
    return [
        (o.dataset, o.check_name, o.passed, o.failed_rows, o.observed, o.failed_keys, o.blocked)
        for o in outcomes
    ]


def test_every_check_decides_the_same(tmp_path: Path, pg_url: str) -> None:
    settings = QualitySettings(now=qt.DIRTY_NOW)
    results = {}
    for name, target in (("duckdb", str(tmp_path / "dirty.duckdb")), ("postgres", pg_url)):
        conn = _dirty(target)
        try:
            outcomes = run_all(conn, "dirty", settings)
            record_check_results(conn, "dirty", outcomes)
            record_blocked_agencies(conn, "dirty", outcomes)
            problems, _, quarantined = problems_of_run(conn, "dirty", load_contacts(conn))
            results[name] = (_summary(outcomes), sorted(map(repr, problems)), quarantined)
        finally:
            conn.close()
    duckdb_checks, postgres_checks = results["duckdb"][0], results["postgres"][0]
    assert len(duckdb_checks) > 130
    assert sum(not passed for _, _, passed, *_ in duckdb_checks) > 50
    assert [c for c in postgres_checks if "could not" in c[4]] == []
    for on_duckdb, on_postgres in zip(duckdb_checks, postgres_checks, strict=True):
        assert on_postgres == on_duckdb
    assert results["postgres"][1:] == results["duckdb"][1:]
