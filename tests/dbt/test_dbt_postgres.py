"""The same project on the `postgres` target: the SQL must stay portable.

Builds the hand-made raw warehouse in a throw-away database of the local PostgreSQL server
(postgresql://postgres@127.0.0.1:5432), runs `dbt build --target postgres` and checks a few
marts against the hand counts of raw_fixture.py. Skipped when the server is not reachable.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from raw_fixture import build_fixture_postgres  # noqa: E402
from test_dbt_project import run_dbt  # noqa: E402

pytestmark = pytest.mark.postgres

SERVER = {"host": "127.0.0.1", "port": "5432", "user": "postgres", "password": ""}


def _admin_connection():  # type: ignore[no-untyped-def]
    psycopg2 = pytest.importorskip("psycopg2")
    try:
        connection = psycopg2.connect(
            host=SERVER["host"], port=SERVER["port"], user=SERVER["user"], dbname="postgres",
            connect_timeout=3,
        )  # fmt: skip
    except psycopg2.OperationalError as error:
        pytest.skip(f"PostgreSQL not reachable: {error}")
    connection.autocommit = True
    return connection


@pytest.fixture(scope="module")
def pg_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    name = f"cds_dbt_{uuid.uuid4().hex[:8]}"
    admin = _admin_connection()
    with admin.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE {name}")
    variables = {
        "CDS_PG_HOST": SERVER["host"],
        "CDS_PG_PORT": SERVER["port"],
        "CDS_PG_USER": SERVER["user"],
        "CDS_PG_PASSWORD": SERVER["password"],
        "CDS_PG_DBNAME": name,
    }
    previous = {key: os.environ.get(key) for key in variables}
    os.environ.update(variables)
    try:
        build_fixture_postgres(
            f"postgresql://{SERVER['user']}@{SERVER['host']}:{SERVER['port']}/{name}"
        )
        # models and seeds only: the data and unit tests already run on DuckDB (same SQL)
        run_dbt(
            ["build", "--target", "postgres", "--exclude", "test_type:data", "test_type:unit"],
            tmp_path_factory.mktemp("dbt_pg"),
        )
        yield name
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        with admin.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()


def _query(database: str, sql: str) -> list[tuple]:
    import psycopg2

    connection = psycopg2.connect(
        host=SERVER["host"], port=SERVER["port"], user=SERVER["user"], dbname=database
    )
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchall()
    finally:
        connection.close()


def test_postgres_marts_match_hand_counts(pg_database: str) -> None:
    assert _query(
        pg_database,
        "select agency_code, index_score, rank, status from marts.agency_index "
        "where year = 2024 and ranking_group = 'SO_NGANH' order by agency_code",
    ) == [
        ("S1", 62.92, 1, "ranked"),
        ("S2", 35.0, 4, "ranked"),
        ("S3", 50.0, 2, "ranked"),
        ("S4", 50.0, 2, "ranked"),
        ("S5", None, None, "insufficient_data"),
    ]
    assert _query(
        pg_database,
        "select award_round, agency_code from marts.award_shortlist "
        "where award_round in ('2024', '2026') order by award_round, position",
    ) == [("2024", "S3"), ("2024", "S4"), ("2024", "S2"), ("2026", "S1")]
    ((numerator, denominator, basis),) = _query(
        pg_database,
        "select numerator, denominator, basis from marts.fct_indicator_values "
        "where indicator_code = 'HT-01' and unit_code = '10002' and period_grain = 'month' "
        "and period_start = date '2025-03-01'",
    )
    assert (numerator, denominator, basis) == (
        pytest.approx(0.8),
        pytest.approx(0.8),
        "reexpressed_new_communes",
    )
    assert _query(pg_database, "select count(*) from marts.indicator_coverage") == [(35,)]
