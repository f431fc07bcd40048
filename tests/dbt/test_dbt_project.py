"""Build the dbt project on a hand-made raw warehouse and check the marts against hand counts.

The fixture rows and the reasoning behind every expected number are in raw_fixture.py.
One `dbt build` (models, seeds, data tests and unit tests) runs in-process for the module;
a second, incremental run checks that late versions and deletions reach the marts.
"""

from __future__ import annotations

import filecmp
import os
import sys
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from raw_fixture import SOURCE_TABLES, build_fixture_warehouse, insert_rows  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
PROJECT = REPO / "dbt_project"
CONTRACTS = REPO.parent / "shared" / "contracts"


def run_dbt(args: list[str], work: Path) -> Any:
    """Run dbt in-process with this project; artefacts go to `work`, not dbt_project/."""
    from dbt.cli.main import dbtRunner

    result = dbtRunner().invoke(
        [
            *args,
            "--project-dir",
            str(PROJECT),
            "--profiles-dir",
            str(PROJECT),
            "--target-path",
            str(work / "target"),
            "--log-path",
            str(work / "logs"),
            "--quiet",
        ]
    )
    failures = [
        f"{r.node.unique_id}: {r.status} {r.message}"
        for r in (result.result or [])
        if str(r.status) not in ("success", "pass")
    ]
    assert result.success, f"dbt {args[0]} failed: {result.exception} {failures}"
    return result


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    work = tmp_path_factory.mktemp("dbt")
    path = build_fixture_warehouse(work / "cds.duckdb")
    previous = os.environ.get("CDS_WAREHOUSE")
    os.environ["CDS_WAREHOUSE"] = str(path)
    try:
        run_dbt(["build"], work)
        yield path
    finally:
        if previous is None:
            os.environ.pop("CDS_WAREHOUSE", None)
        else:
            os.environ["CDS_WAREHOUSE"] = previous


def query(path: Path, sql: str, *params: Any) -> list[tuple]:
    # dbt-duckdb keeps the file open in this process after an in-process run; DuckDB only
    # shares an open file with connections of the same configuration (read-write).
    connection = duckdb.connect(str(path))
    try:
        return connection.execute(sql, list(params)).fetchall()
    finally:
        connection.close()


def value_row(path: Path, indicator: str, unit: str, grain: str, start: str) -> dict[str, Any]:
    columns = [
        "numerator",
        "denominator",
        "value",
        "target",
        "target_op",
        "meets_target",
        "gap_pp",
        "basis",
    ]
    rows = query(
        path,
        f"select {', '.join(columns)} from marts.fct_indicator_values "
        "where indicator_code = ? and unit_code = ? and period_grain = ? and period_start = ?",
        indicator,
        unit,
        grain,
        date.fromisoformat(start),
    )
    assert len(rows) == 1, (indicator, unit, grain, start, rows)
    return dict(zip(columns, rows[0], strict=True))


def test_seeds_are_the_contract_files() -> None:
    if not CONTRACTS.is_dir():
        pytest.skip("../shared/contracts is not here")
    for name in ("indicators.csv", "targets.csv"):
        assert filecmp.cmp(PROJECT / "seeds" / name, CONTRACTS / name, shallow=False), name


def test_sources_declare_the_landing_columns() -> None:
    """Every dbt source table lists exactly the columns warehouse/schema.py creates."""
    import yaml

    declared: dict[str, list[str]] = {}
    for path in (PROJECT / "models").rglob("_*__sources.yml"):
        for source in yaml.safe_load(path.read_text(encoding="utf-8"))["sources"]:
            for table in source["tables"]:
                qualified = f"{source['schema']}.{table['name']}"
                declared[qualified] = [column["name"] for column in table["columns"]]
    assert declared, "no source declared"
    for qualified, columns in declared.items():
        assert columns == SOURCE_TABLES[qualified].column_names, qualified
    raw_tables = {name for name in SOURCE_TABLES if name.startswith("raw.")}
    assert raw_tables <= set(declared)


def test_agency_flow_indicators(warehouse: Path) -> None:
    # S1, March 2024: 4 received, 3 online
    assert value_row(warehouse, "CQ-06", "S1", "month", "2024-03-01")["value"] == 75
    # finished in March: D1 exactly at its deadline (on time), D2 late
    row = value_row(warehouse, "CQ-07", "S1", "month", "2024-03-01")
    assert (row["numerator"], row["denominator"]) == (1, 2)
    # the year is recomputed from counts: + D3 refused in April without deadline
    row = value_row(warehouse, "CQ-07", "S1", "year", "2024-01-01")
    assert (row["numerator"], row["denominator"]) == (2, 3)
    # fee dossiers (P1): D1 paid online, D2 and D4 not; D3 (P2) has no fee
    row = value_row(warehouse, "CQ-08", "S1", "year", "2024-01-01")
    assert (row["numerator"], row["denominator"]) == (1, 3)
    assert value_row(warehouse, "CQ-10", "S1", "month", "2024-03-01")["value"] == 50
    # drafts, secret documents and deleted documents count nowhere
    row = value_row(warehouse, "CQ-01", "S1", "month", "2024-03-01")
    assert (row["numerator"], row["denominator"], row["meets_target"]) == (2, 3, False)
    row = value_row(warehouse, "CQ-02", "S1", "month", "2024-03-01")
    assert (row["numerator"], row["denominator"], row["target"]) == (1, 2, None)
    # secret work files are left out; a department is judged on the TINH target (90)
    row = value_row(warehouse, "CQ-03", "S1", "year", "2024-01-01")
    assert (row["value"], row["target"], row["gap_pp"]) == (50, 90, 40)


def test_procedure_catalogue_is_a_state(warehouse: Path) -> None:
    # March 2024 precedes the first catalogue load (20 April): it takes the first load
    assert value_row(warehouse, "CQ-05", "S1", "month", "2024-03-01")["value"] == 50
    assert value_row(warehouse, "CQ-05", "S1", "month", "2024-05-01")["value"] == 50
    # P2 became fully online in the load of 15 June 2024
    assert value_row(warehouse, "CQ-05", "S1", "month", "2024-06-01")["value"] == 100
    row = value_row(warehouse, "CQ-05", "S1", "quarter", "2024-04-01")
    assert (row["numerator"], row["denominator"], row["meets_target"]) == (2, 2, True)
    # province: every eligible procedure in force (P6 not eligible, P7 abolished)
    row = value_row(warehouse, "CQ-05", "11", "year", "2024-01-01")
    assert (row["numerator"], row["denominator"]) == (5, 6)


def test_strict_target_and_zero_denominator(warehouse: Path) -> None:
    # CQ-04 (province only): 1 of 2 three-level meetings online = 50, target "> 50"
    row = value_row(warehouse, "CQ-04", "11", "year", "2024-01-01")
    assert (row["value"], row["target"], row["target_op"]) == (50, 50, ">")
    assert row["meets_target"] is False and row["gap_pp"] == 0
    # S5 has no dossier: 0 / 0 is not applicable, not zero
    row = value_row(warehouse, "CQ-06", "S5", "year", "2024-01-01")
    assert (row["denominator"], row["value"], row["meets_target"]) == (0, None, None)
    assert query(
        warehouse,
        "select count(*) from marts.fct_indicator_values "
        "where denominator = 0 and value is not null",
    ) == [(0,)]


def test_agency_that_ceased_mid_year(warehouse: Path) -> None:
    # H1 (until 30 June 2025): its September dossier is not its own, but the province's
    row = value_row(warehouse, "CQ-06", "H1", "year", "2025-01-01")
    assert (row["numerator"], row["denominator"]) == (1, 1)
    row = value_row(warehouse, "CQ-06", "11", "year", "2025-01-01")
    assert (row["numerator"], row["denominator"]) == (1, 2)
    assert query(
        warehouse,
        "select count(*) from marts.fct_indicator_values "
        "where unit_code = 'H1' and period_end > date '2025-06-30' and period_grain <> 'year'",
    ) == [(0,)]


def test_index_ranks_and_insufficient_data(warehouse: Path) -> None:
    rows = query(
        warehouse,
        "select agency_code, index_score, rank, status from marts.agency_index "
        "where year = 2024 and ranking_group = 'SO_NGANH' order by agency_code",
    )
    assert rows == [
        # all 9 weighted indicators applicable (worked out in raw_fixture.py)
        ("S1", 62.92, 1, "ranked"),
        ("S2", 35.0, 4, "ranked"),
        # tie: both 50.00, rank 2 shared, next rank 4
        ("S3", 50.0, 2, "ranked"),
        ("S4", 50.0, 2, "ranked"),
        ("S5", None, None, "insufficient_data"),
    ]
    # S3: exactly half of the weight applicable, weights scaled up (CQ-06: 15 → 30)
    breakdown = dict(
        query(
            warehouse,
            "select indicator_code, effective_weight from marts.agency_index_breakdown "
            "where year = 2024 and agency_code = 'S3'",
        )
    )
    assert breakdown["CQ-06"] == pytest.approx(30)
    assert breakdown["CQ-01"] == 0
    assert sum(breakdown.values()) == pytest.approx(100)
    # the district committee is ranked on January-June 2025
    assert query(
        warehouse,
        "select index_score, rank from marts.agency_index where year = 2025 and agency_code = 'H1'",
    ) == [(90.0, 1)]


def test_award_shortlist(warehouse: Path) -> None:
    rows = query(
        warehouse,
        "select award_round, position, agency_code, index_score, is_provisional, reason "
        "from marts.award_shortlist order by award_round, position",
    )
    by_round: dict[str, list[tuple]] = {}
    for row in rows:
        by_round.setdefault(row[0], []).append(row)
    # S1 (highest in 2024) is blocked for 2024 by the latest quality run; S2's block
    # belongs to an older run and no longer holds; S5 has not enough data
    assert [r[2] for r in by_round["2024"]] == ["S3", "S4", "S2"]
    assert by_round["2024"][0][5].startswith("Chỉ số 50,00 — hạng 2/4 nhóm Sở, ngành năm 2024")
    assert [r[2] for r in by_round["2025"]] == ["H1"]
    # 2026 is the current year: provisional
    (row_2026,) = by_round["2026"]
    assert row_2026[2:5] == ("S1", 86.67, True)
    assert "tạm tính" in row_2026[5]
    assert not any("tạm tính" in r[5] for r in by_round["2024"])
    # phase I (2023-2025) has its last year; phase II does not
    assert [(r[2], r[3]) for r in by_round["phase_1"]] == [
        ("H1", 90.0),
        ("S3", 50.0),
        ("S4", 50.0),
        ("S2", 35.0),
    ]
    assert "phase_2" not in by_round


def test_telecom_indicators(warehouse: Path) -> None:
    # the vtl correction of 2025-03 supersedes the first file; caps at households
    row = value_row(warehouse, "HT-01", "11", "month", "2025-03-01")
    assert (row["numerator"], row["denominator"]) == (3, 4)
    row = value_row(warehouse, "HT-02", "11", "month", "2025-03-01")
    assert (row["numerator"], row["denominator"], row["meets_target"]) == (16, 50, False)
    row = value_row(warehouse, "HT-05", "11", "month", "2025-03-01")
    assert (row["numerator"], row["denominator"], row["meets_target"]) == (87, 120, True)
    # a year takes its last reported month (August: villages nobody reported uncovered)
    row = value_row(warehouse, "HT-01", "11", "year", "2025-01-01")
    assert (row["numerator"], row["denominator"]) == (2, 4)
    # districts and old communes only up to June 2025
    assert value_row(warehouse, "HT-01", "094", "year", "2025-01-01")["value"] == 75
    assert value_row(warehouse, "HT-01", "00001", "month", "2025-03-01")["value"] == 50
    assert query(
        warehouse,
        "select count(*) from marts.fct_indicator_values "
        "where unit_code in ('094', '00001', '00002') and period_start >= date '2025-07-01'",
    ) == [(0,)]


def test_split_commune_is_reexpressed(warehouse: Path) -> None:
    # 00002 (villages V3, V4, both fiber) split 0.6 → 10001, 0.4 → 10002
    row = value_row(warehouse, "HT-01", "10002", "month", "2025-03-01")
    assert row["numerator"] == pytest.approx(0.8)
    assert row["denominator"] == pytest.approx(0.8)
    assert row["basis"] == "reexpressed_new_communes"
    # 10001 = 00001 whole (1 of 2) + 0.6 × 00002 (2 of 2)
    row = value_row(warehouse, "HT-01", "10001", "month", "2025-03-01")
    assert row["numerator"] == pytest.approx(2.2)
    assert row["denominator"] == pytest.approx(3.2)
    # from July 2025 the new communes are actual
    row = value_row(warehouse, "HT-01", "10001", "month", "2025-08-01")
    assert row["basis"] == "actual" and row["value"] == pytest.approx(50)
    assert value_row(warehouse, "HT-01", "10001", "year", "2025-01-01")["basis"] == "actual"


def test_indicator_coverage(warehouse: Path) -> None:
    rows = query(
        warehouse,
        "select status, count(*) from marts.indicator_coverage group by status order by status",
    )
    assert rows == [("computed", 15), ("no_source", 20)]
    assert query(
        warehouse,
        "select latest_period from marts.indicator_coverage where indicator_code = 'HT-01'",
    ) == [(date(2025, 8, 1),)]


def test_incremental_run_takes_late_versions_and_deletions(warehouse: Path) -> None:
    """Runs after the other tests (it changes the warehouse): late versions only."""
    work = warehouse.parent
    late = datetime(2026, 3, 1, 2, 0)
    connection = duckdb.connect(str(warehouse))
    try:
        (d4,) = connection.execute(
            "select * from raw.dvc_dossiers where ma_ho_so = 'D4'"
        ).fetchall()
        columns = [c[0] for c in connection.description]
        finished = dict(zip(columns, d4, strict=True))
        finished.update(
            ngay_hoan_thanh=datetime(2024, 4, 5, 9, 0),
            trang_thai="DA_HOAN_THANH",
            updated_at=datetime(2024, 4, 5, 9, 0),
            _load_id="load-late",
            _loaded_at=late,
        )
        (doc2,) = connection.execute("select * from raw.qlvb_van_ban where id = 2").fetchall()
        columns = [c[0] for c in connection.description]
        deleted = dict(zip(columns, doc2, strict=True))
        deleted.update(
            da_xoa=True, ngay_cap_nhat=datetime(2026, 2, 28), _load_id="load-late", _loaded_at=late
        )
        insert_rows(connection, "raw", "dvc_dossiers", [finished])
        insert_rows(connection, "raw", "qlvb_van_ban", [deleted])
    finally:
        connection.close()

    run_dbt(["run"], work)

    documents = query(
        warehouse, "select count(*) from staging.stg_qlvb__documents where document_id = 2"
    )
    assert documents == [(0,)]
    # D4 finished in April without deadline: April has 2 of 2 on time
    row = value_row(warehouse, "CQ-07", "S1", "month", "2024-04-01")
    assert (row["numerator"], row["denominator"]) == (2, 2)
    # document 2 (electronic, unsigned) is gone: CQ-01 1/2, CQ-02 1/1
    row = value_row(warehouse, "CQ-01", "S1", "month", "2024-03-01")
    assert (row["numerator"], row["denominator"]) == (1, 2)
    row = value_row(warehouse, "CQ-02", "S1", "month", "2024-03-01")
    assert (row["numerator"], row["denominator"]) == (1, 1)

    # the incremental tables equal what a full rebuild gives
    tables = ("staging.stg_dvc__dossiers", "staging.stg_qlvb__documents")
    before = {t: sorted(query(warehouse, f"select * from {t}"), key=repr) for t in tables}
    run_dbt(["run", "--full-refresh", "--select", "stg_dvc__dossiers", "stg_qlvb__documents"], work)
    for table in tables:
        assert sorted(query(warehouse, f"select * from {table}"), key=repr) == before[table]
