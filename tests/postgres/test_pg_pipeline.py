"""The whole demo pipeline on PostgreSQL gives the same warehouse as on DuckDB.

The demo sources are generated once (a tiny scale, six months) and `cds demo --data` runs
on them twice at the same time: once with CDS_WAREHOUSE a fresh PostgreSQL database, once a
DuckDB file. Then every `marts` table must hold the same rows on both (sorted, floats to
1e-9), the quality checks must have decided the same (dataset, check, passed, failed rows),
the analysts' role must exist and be unable to write, and `cds query` must read PostgreSQL.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
from pg_support import admin_connection, fresh_database, query

from orchestration.demo import _pii_key
from sources.simulator.generate import DemoSources, generate
from warehouse.postgres import ANALYST_ROLE

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.timeout(900)]

SEED, SCALE, START, END = 2158, 0.004, date(2025, 3, 1), date(2025, 8, 31)


@dataclass
class Runs:
    pg_url: str
    duckdb_path: Path
    outputs: dict[str, str]


def _cds() -> list[str]:
    script = Path(sys.executable).with_name("cds")
    return [str(script)] if script.exists() else [sys.executable, "-m", "orchestration.cli"]


def _environment(warehouse: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CDS_", "DAGSTER_"))}
    env["CDS_WAREHOUSE"] = warehouse
    return env


def _sources(root: Path) -> Path:
    """Six months of sources, stamped the way `cds demo` stamps its own so that it reuses
    them (its default window starts in 2023: more feed files than this test needs)."""
    data = root / "sources"
    generate(DemoSources.at(data), seed=SEED, scale=SCALE, start=START, end=END)
    stamp = {"seed": SEED, "scale": SCALE, "end": END.isoformat()}
    (data / "params.json").write_text(json.dumps(stamp) + "\n")
    _pii_key(data)  # made before both runs start, so they pseudonymise alike
    return data


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runs]:
    root = tmp_path_factory.mktemp("pg_pipeline")
    data = _sources(root)
    with fresh_database("cds_pipeline") as pg_url:
        role_existed = _role_exists()
        targets = {"postgres": pg_url, "duckdb": str(root / "duckdb" / "cds.duckdb")}
        processes = {}
        for name, warehouse in targets.items():
            folder = root / name
            folder.mkdir(exist_ok=True)
            command = [*_cds(), "demo", "--scale", str(SCALE), "--seed", str(SEED)]
            command += ["--end", END.isoformat(), "--data", str(data)]
            with (folder / "demo.log").open("w") as log:
                processes[name] = subprocess.Popen(
                    command, cwd=folder, env=_environment(warehouse), stdout=log,
                    stderr=subprocess.STDOUT,
                )  # fmt: skip
        outputs = {}
        for name, process in processes.items():
            process.wait(timeout=800)
            outputs[name] = (root / name / "demo.log").read_text()
            assert process.returncode == 0, f"cds demo on {name} failed:\n{outputs[name][-3000:]}"
        yield Runs(pg_url, Path(targets["duckdb"]), outputs)
    if not role_existed:
        _drop_role()


def _role_exists() -> bool:
    admin = admin_connection()
    try:
        with admin.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (ANALYST_ROLE,))
            return cursor.fetchone() is not None
    finally:
        admin.close()


def _drop_role() -> None:
    import psycopg2

    admin = admin_connection()
    try:
        with admin.cursor() as cursor:
            cursor.execute(f"DROP ROLE IF EXISTS {ANALYST_ROLE}")
    except psycopg2.Error:
        pass  # another database still grants it something: it stays
    finally:
        admin.close()


def _value(value: Any) -> Any:
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float):
        return "nan" if math.isnan(value) else round(value, 9) + 0.0
    return value


def _sort_key(row: tuple) -> tuple:
    return tuple((v is None, type(v).__name__, "" if v is None else v) for v in row)


def _rows(columns_and_rows: tuple[list[str], list[tuple]]) -> tuple[list[str], list[tuple]]:
    columns, rows = columns_and_rows
    return columns, sorted((tuple(_value(v) for v in row) for row in rows), key=_sort_key)


def _duckdb_table(path: Path, sql: str) -> tuple[list[str], list[tuple]]:
    conn = duckdb.connect(str(path), read_only=True)
    try:
        cursor = conn.execute(sql)
        return [d[0] for d in cursor.description], cursor.fetchall()
    finally:
        conn.close()


def _pg_table(url: str, sql: str) -> tuple[list[str], list[tuple]]:
    import psycopg2

    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cursor:
            cursor.execute(sql)
            return [d[0] for d in cursor.description], cursor.fetchall()
    finally:
        conn.close()


MARTS = "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts' ORDER BY 1"


def test_every_mart_is_identical_on_both_warehouses(runs: Runs) -> None:
    tables = [name for (name,) in _duckdb_table(runs.duckdb_path, MARTS)[1]]
    assert tables == [name for (name,) in query(runs.pg_url, MARTS)]
    assert {"agency_index", "fct_indicator_values", "award_shortlist"} <= set(tables)
    for table in tables:
        sql = f"SELECT * FROM marts.{table}"
        on_duckdb = _rows(_duckdb_table(runs.duckdb_path, sql))
        on_postgres = _rows(_pg_table(runs.pg_url, sql))
        assert on_postgres[0] == on_duckdb[0], f"columns of marts.{table}"
        assert len(on_postgres[1]) == len(on_duckdb[1]), f"rows of marts.{table}"
        assert on_postgres[1] == on_duckdb[1], f"marts.{table} differs"
    ranked = query(runs.pg_url, "SELECT count(*) FROM marts.agency_index WHERE status = 'ranked'")
    assert ranked[0][0] > 0


def test_checks_decide_the_same_on_both_warehouses(runs: Runs) -> None:
    sql = "SELECT dataset, check_name, passed, failed_rows FROM quality.check_results"
    on_duckdb = _rows(_duckdb_table(runs.duckdb_path, sql))[1]
    on_postgres = _rows(_pg_table(runs.pg_url, sql))[1]
    assert len(on_duckdb) > 100
    assert on_postgres == on_duckdb
    assert any(not passed for _, _, passed, _ in on_postgres)  # the planted anomalies
    for table in ("quarantine", "blocked_agencies", "alerts"):
        count = f"SELECT count(*) FROM quality.{table}"
        assert query(runs.pg_url, count) == [_duckdb_table(runs.duckdb_path, count)[1][0]]


def test_analyst_role_reads_and_cannot_write(runs: Runs) -> None:
    import psycopg2

    ((can_login,),) = query(
        runs.pg_url, "SELECT rolcanlogin FROM pg_roles WHERE rolname = %s", (ANALYST_ROLE,)
    )
    assert can_login is False
    assert f"read-only role {ANALYST_ROLE}" in runs.outputs["postgres"]
    conn = psycopg2.connect(runs.pg_url)
    try:
        with conn.cursor() as cursor:
            cursor.execute(f"SET ROLE {ANALYST_ROLE}")
            cursor.execute("SELECT count(*) FROM marts.agency_index")
            assert cursor.fetchone()[0] > 0
            cursor.execute("SELECT count(*) FROM quality.check_results")
            assert cursor.fetchone()[0] > 0
        conn.commit()
        for statement in (
            "INSERT INTO marts.award_shortlist (award_round) VALUES ('x')",
            "DELETE FROM quality.check_results",
            "CREATE TABLE marts.mine (x int)",
            "SELECT count(*) FROM raw.dvc_dossiers",
        ):
            with conn.cursor() as cursor:
                cursor.execute(f"SET ROLE {ANALYST_ROLE}")
                with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                    cursor.execute(statement)
            conn.rollback()
    finally:
        conn.close()


def test_cds_query_reads_the_postgres_warehouse(runs: Runs, tmp_path: Path) -> None:
    result = subprocess.run(
        [*_cds(), "query", "--format", "csv", "SELECT count(*) AS n FROM marts.dim_agency"],
        cwd=tmp_path, env=_environment(runs.pg_url), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    expected = _duckdb_table(runs.duckdb_path, "SELECT count(*) FROM marts.dim_agency")[1][0][0]
    assert result.stdout.split() == ["n", str(expected)]
