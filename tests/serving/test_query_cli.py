"""`cds query`: answers from the published snapshot, refuses bad input in one line."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from warehouse.publish import published_dir
from warehouse.query import QueryError, QueryResult, display_width, format_table, run_query

from .marts_fixture import FULL, NAMES, cds


def _state(warehouse: Path) -> dict[str, str]:
    """Every file of the warehouse and its snapshots, with its content hash."""
    files = [warehouse, *sorted(published_dir(warehouse).iterdir())]
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in files if p.is_file()}


def test_prints_an_aligned_table_with_vietnamese_text(published: Path, tmp_path: Path) -> None:
    sql = (
        "SELECT agency_code, name, ranking_group FROM marts.dim_agency "
        "WHERE ranking_group = 'SO_NGANH' ORDER BY agency_code"
    )
    done = cds(["query", sql], published, tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.rstrip("\n").splitlines()
    assert lines[0].split(" │ ") == ["agency_code  ", "name                    ", "ranking_group"]
    assert lines[-1] == "(4 rows)"
    assert "Sở Khoa học và Công nghệ" in done.stdout
    # Columns line up: every separator sits at the same display column on every row.
    positions = {
        tuple(display_width(line[:i]) for i, c in enumerate(line) if c in "│┼")
        for line in lines[:-1]
    }
    assert len(positions) == 1


def test_csv_json_and_stdin(published: Path, tmp_path: Path) -> None:
    sql = (
        f"SELECT agency_code, index_score FROM marts.agency_index WHERE year = {FULL} AND rank = 1"
    )
    as_json = cds(["query", "--format", "json", sql], published, tmp_path)
    as_csv = cds(["query", "--format", "csv", "-"], published, tmp_path, input=sql)
    assert as_json.returncode == 0 and as_csv.returncode == 0, as_json.stderr + as_csv.stderr

    conn = duckdb.connect(str(published), read_only=True)
    expected = conn.execute(sql + " ORDER BY agency_code").fetchall()
    conn.close()
    records = sorted(json.loads(as_json.stdout), key=lambda r: r["agency_code"])
    assert [(r["agency_code"], r["index_score"]) for r in records] == expected
    rows = sorted(csv.DictReader(io.StringIO(as_csv.stdout)), key=lambda r: r["agency_code"])
    assert [(r["agency_code"], float(r["index_score"])) for r in rows] == expected


MARTS = (
    "marts.agency_index, marts.agency_index_breakdown, marts.award_shortlist, "
    "marts.dim_admin_unit, marts.dim_agency, marts.dim_indicator, marts.fct_indicator_values, "
    "marts.indicator_coverage"
)


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        (
            "UPDATE marts.agency_index SET rank = 1",
            "the published warehouse is read-only: UPDATE statements are refused "
            "(cds query runs SELECT, EXPLAIN, PRAGMA and CALL only)",
        ),
        (
            "INSERT INTO marts.dim_agency VALUES ('x', 'x', 'x', 'x', NULL, NULL)",
            "the published warehouse is read-only: INSERT statements are refused "
            "(cds query runs SELECT, EXPLAIN, PRAGMA and CALL only)",
        ),
        (
            "SELEC * FROM marts.agency_index",
            'syntax error: syntax error at or near "SELEC"',
        ),
        (
            "SELECT * FROM marts.ranking",
            f"table marts.ranking does not exist; tables in marts: {MARTS}",
        ),
    ],
)
def test_bad_queries_fail_in_one_line_and_change_nothing(
    published: Path, tmp_path: Path, sql: str, message: str
) -> None:
    before = _state(published)
    done = cds(["query", sql], published, tmp_path)
    assert done.returncode != 0
    assert done.stdout == ""
    assert done.stderr == f"cds: error: {message}\n"
    assert _state(published) == before


@pytest.mark.parametrize(
    ("sql", "needle"),
    [
        ("DELETE FROM marts.agency_index", "read-only: DELETE statements are refused"),
        ("DROP TABLE marts.agency_index", "read-only: DROP statements are refused"),
        ("CREATE TEMP TABLE x AS SELECT 1", "read-only: CREATE statements are refused"),
        ("COPY marts.dim_agency TO 'out.csv'", "read-only: COPY statements are refused"),
        ("ATTACH 'other.duckdb' AS other", "read-only: ATTACH statements are refused"),
        ("SET threads = 1", "read-only: SET statements are refused"),
        ("SELECT 1; UPDATE marts.agency_index SET rank = 1", "read-only: UPDATE statements"),
        ("COPY (SELECT 1) TO 'out.parquet'", "read-only: COPY statements are refused"),
        ("SELECT * FROM read_csv('/etc/passwd')", "access to other files is disabled"),
        ("SELECT nope FROM marts.agency_index", "query error: Binder Error"),
        ("   ", "empty query"),
    ],
)
def test_every_other_write_or_error_is_refused_in_one_line(
    published: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sql: str, needle: str
) -> None:
    monkeypatch.chdir(tmp_path)
    before = _state(published)
    with pytest.raises(QueryError) as caught:
        run_query(str(published), sql)
    assert needle in str(caught.value) and "\n" not in str(caught.value)
    assert _state(published) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["warehouse"]  # no out.csv, no file


def test_no_snapshot_yet(tmp_path: Path) -> None:
    done = cds(["query", "SELECT 1"], tmp_path / "warehouse" / "cds.duckdb", tmp_path)
    assert done.returncode != 0 and done.stdout == ""
    assert len(done.stderr.splitlines()) == 1
    assert "no published warehouse yet" in done.stderr
    assert "run `cds demo` or `cds run` first" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_answers_while_another_process_holds_the_writer_lock(
    published: Path, tmp_path: Path
) -> None:
    writer_code = (
        "import sys, time, duckdb\n"
        "conn = duckdb.connect(sys.argv[1])\n"
        "conn.execute('CREATE TABLE IF NOT EXISTS marts.scratch (i INTEGER)')\n"
        "print('locked', flush=True)\n"
        "for i in range(600):\n"
        "    conn.execute('INSERT INTO marts.scratch VALUES (?)', [i])\n"
        "    time.sleep(0.05)\n"
    )
    writer = subprocess.Popen(
        [sys.executable, "-c", writer_code, str(published)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "locked"
        # The main file really is locked: a reader of it would fail (or wait) ...
        with pytest.raises(duckdb.IOException):
            duckdb.connect(str(published), read_only=True)
        # ... but `cds query` reads the snapshot and answers at once.
        started = time.monotonic()
        done = cds(
            ["query", "SELECT name FROM marts.dim_agency WHERE agency_code = '000.00.12.H23'"],
            published,
            tmp_path,
        )
        assert done.returncode == 0, done.stderr
        assert NAMES["000.00.12.H23"] in done.stdout
        assert time.monotonic() - started < 30
        assert writer.poll() is None  # the writer held its lock the whole time
    finally:
        writer.kill()
        writer.wait(timeout=10)


def test_a_postgresql_warehouse_that_refuses_connections(tmp_path: Path) -> None:
    url = "postgresql://analyst:secret@127.0.0.1:1/cds"
    done = cds(["query", "SELECT 1"], url, tmp_path)
    assert done.returncode != 0 and done.stdout == ""
    assert len(done.stderr.splitlines()) == 1
    assert (
        "cannot connect to the PostgreSQL warehouse postgresql://analyst:***@127.0.0.1:1/cds"
        in (done.stderr)
    )
    assert "secret" not in done.stderr


@pytest.mark.postgres
def test_a_postgresql_warehouse_is_read_in_a_read_only_transaction(tmp_path: Path) -> None:
    url = "postgresql://postgres@127.0.0.1:5432/test"
    done = cds(["query", "--format", "json", "SELECT 1 AS one, 'Điện Biên' AS ten"], url, tmp_path)
    if done.returncode != 0 and "cannot connect" in done.stderr:
        pytest.skip(f"PostgreSQL is not reachable: {done.stderr.strip()}")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [{"one": 1, "ten": "Điện Biên"}]
    # A SELECT passes the statement filter; the read-only transaction stops what it tries.
    write = cds(["query", "SELECT set_config('transaction_read_only', 'off', true)"], url, tmp_path)
    assert write.returncode != 0 and len(write.stderr.splitlines()) == 1
    assert "the published warehouse is read-only" in write.stderr


def test_format_table_counts_and_truncates() -> None:
    result = QueryResult(["n", "tên"], [(i, "Mường Phăng") for i in range(5)])
    text = format_table(result, max_rows=2)
    assert text.splitlines()[-1] == "(5 rows, first 2 shown; use --format csv for all)"
    assert format_table(QueryResult(["x"], [(1.5,)])).splitlines()[-1] == "(1 row)"
