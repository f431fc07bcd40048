"""Table rules with dedicated data: schema, files loaded, invalid share and the blocked
agencies, completeness of agencies, units and villages."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
import quality_tables as qt

from expectations.registry import SPECS
from expectations.runner import run_suite
from expectations.settings import QualitySettings
from warehouse.quality import record_blocked_agencies
from warehouse.schema import RAW_TABLES

SETTINGS = QualitySettings(now=qt.CLEAN_NOW)


def _one(conn, dataset, rule, settings=SETTINGS):
    (outcome,) = run_suite(conn, dataset, "t", settings, only={f"{dataset}.{rule}"})
    return outcome


@pytest.mark.parametrize("dataset", sorted(SPECS))
def test_schema_readable_is_blocking_on_a_missing_or_retyped_column(dataset):
    conn = qt.connect()
    assert _one(conn, dataset, "schema_readable").passed
    table = RAW_TABLES[dataset]
    dropped, retyped = table.column_names[1], table.column_names[-2]
    conn.execute(f'ALTER TABLE {table.qualified} DROP COLUMN "{dropped}"')
    kind = "INTEGER" if table.columns[-2][1] != "INTEGER" else "VARCHAR"
    conn.execute(f'ALTER TABLE {table.qualified} ALTER COLUMN "{retyped}" TYPE {kind}')
    outcome = _one(conn, dataset, "schema_readable")
    assert not outcome.passed and outcome.blocks
    assert set(outcome.failed_keys) == {dropped, retyped}
    assert f"{dropped}: (missing)" in outcome.observed
    assert outcome.blocked == ([(None, None)] if SPECS[dataset].ranks_agencies else [])


@pytest.mark.parametrize("dataset", [d for d in SPECS if d.startswith("ref_")])
def test_reference_file_loaded(dataset):
    assert not _one(qt.connect(), dataset, "file_loaded").passed
    assert _one(qt.clean_warehouse(), dataset, "file_loaded").passed


def _dossiers(agency: str, count: int, bad: int, year: int = 2024) -> list[dict]:
    start = datetime(year, 3, 4, 9, 0)
    return [
        {
            **qt.clean_rows()["dvc_dossiers"][0],
            "ma_ho_so": f"{agency}-{i:04d}",
            "ma_co_quan": agency,
            "ngay_tiep_nhan": start + timedelta(hours=i),
            "ngay_hoan_thanh": start + timedelta(hours=i + 30),
            "ngay_tra_ket_qua": start + timedelta(hours=i + 40),
            "kenh_nop": "FAX" if i < bad else "TRUC_TUYEN",
        }
        for i in range(count)
    ]


def test_invalid_share_blocks_only_the_agency_above_the_threshold():
    conn = qt.connect()
    qt.fill(conn, qt.clean_rows() | {"dvc_dossiers": []})
    qt.insert(conn, "dvc_dossiers", _dossiers(qt.SO, 60, 10) + _dossiers(qt.HUYEN, 200, 0))
    outcome = _one(conn, "dvc_dossiers", "invalid_share_within_threshold")
    # 10 of 260 (3.8%) in the dataset, but 10 of 60 (16.7%) of the department's records
    assert not outcome.passed and outcome.blocks
    assert outcome.blocked == [(2024, qt.SO)]
    assert outcome.failed_keys == [f"{qt.SO}|2024"]
    assert outcome.failed_rows == 10
    assert record_blocked_agencies(conn, "run-1", [outcome]) == 1
    assert conn.execute("SELECT * FROM quality.blocked_agencies").fetchall() == [
        ("run-1", "dvc_dossiers", "dvc_dossiers.invalid_share_within_threshold", 2024, qt.SO)
    ]


def test_invalid_share_over_the_dataset_blocks_every_agency_of_the_year():
    conn = qt.connect()
    qt.fill(conn, qt.clean_rows() | {"dvc_dossiers": []})
    qt.insert(conn, "dvc_dossiers", _dossiers(qt.SO, 30, 3) + _dossiers(qt.HUYEN, 30, 3))
    outcome = _one(conn, "dvc_dossiers", "invalid_share_within_threshold")
    assert not outcome.passed
    assert outcome.blocked == [(2024, None)]  # each agency alone has too few records to judge
    relaxed = QualitySettings(now=qt.CLEAN_NOW, invalid_share_per_dataset={"dvc_dossiers": 0.2})
    assert _one(conn, "dvc_dossiers", "invalid_share_within_threshold", relaxed).passed


def test_invalid_share_of_territorial_data_blocks_no_agency():
    conn = qt.clean_warehouse()
    rows = [qt.clean_rows()["telecom_coverage"][0] | {"ma_thon": f"X{i}", "row_number": 100 + i}
            for i in range(60)]  # fmt: skip
    qt.insert(conn, "telecom_coverage", rows)
    outcome = _one(conn, "telecom_coverage", "invalid_share_within_threshold")
    assert not outcome.passed and outcome.blocks
    assert outcome.blocked == []
    assert outcome.affected == [(2024, None)]


def test_every_agency_present_flags_an_agency_whose_usual_volume_vanished():
    conn = qt.connect()
    qt.fill(conn, qt.clean_rows() | {"dvc_dossiers": []})
    # The department files all year 2024; the district committee only in 2023.
    qt.insert(conn, "dvc_dossiers", _dossiers(qt.SO, 300, 0) + _dossiers(qt.HUYEN, 300, 0, 2023))
    qt.insert(conn, "dvc_dossiers", [_dossiers(qt.SO, 1, 0)[0] | {
        "ma_ho_so": "late", "ngay_tiep_nhan": datetime(2024, 12, 20, 9, 0)}])  # fmt: skip
    qt.insert(conn, "dvc_dossiers", [_dossiers(qt.SO, 1, 0)[0] | {
        "ma_ho_so": "early", "ngay_tiep_nhan": datetime(2023, 1, 3, 9, 0)}])  # fmt: skip
    outcome = _one(conn, "dvc_dossiers", "every_agency_present")
    assert not outcome.passed
    assert outcome.failed_keys == [f"{qt.HUYEN}|2024"]
    assert outcome.affected == [(2024, qt.HUYEN)]


def test_every_agency_registered_in_the_document_system(dirty_outcomes, clean_outcomes):
    assert clean_outcomes["qlvb_don_vi.every_agency_registered"].passed
    outcome = dirty_outcomes["qlvb_don_vi.every_agency_registered"]
    assert not outcome.passed
    assert qt.XA_NEW in outcome.failed_keys  # in force in 2026, no unit in don_vi


def test_every_village_reported_monthly_by_some_carrier():
    conn = qt.clean_warehouse()
    may = [qt.clean_rows()["telecom_coverage"][0] | {"ky_bao_cao": "2024-05", "row_number": 7,
                                                      "file_sha256": "sha-may"}]  # fmt: skip
    qt.insert(conn, "telecom_coverage", may)
    # a village in thon_ban that no carrier ever reported is not covered: listed, not failed
    qt.insert(conn, "ref_thon_ban", [qt.reference_rows()["ref_thon_ban"][0] | {"ma_thon": "X"}])
    outcome = _one(conn, "telecom_coverage", "every_village_reported_monthly")
    assert not outcome.passed
    assert outcome.failed_keys == ["2024-05|03127002"]
    assert "1 villages never reported by any carrier (not covered): X" in outcome.observed


def test_quarantined_records_superseded_by_a_later_valid_version_are_closed():
    conn = qt.clean_warehouse()
    qt.insert(conn, "quarantine", [{
        "dataset": "dvc_dossiers", "record_key": "D-clean", "reason": "enum: kenh_nop='FAX'",
        "first_seen": qt.LOADED_AT - timedelta(days=1), "payload_sha256": "x"}])  # fmt: skip
    assert _one(conn, "dvc_dossiers", "quarantined_records").passed  # D-clean landed later
    conn.execute("UPDATE quality.quarantine SET first_seen = ?", [qt.LOADED_AT])
    outcome = _one(conn, "dvc_dossiers", "enum_kenh_nop")
    assert not outcome.passed and outcome.failed_keys == ["D-clean"]
    assert outcome.affected == [(None, None)]  # the payload names neither agency nor date


def test_a_check_that_cannot_run_fails_with_its_error():
    conn = qt.clean_warehouse()
    conn.execute("DROP TABLE raw.dvc_ratings")
    outcomes = {o.check_name: o for o in run_suite(conn, "dvc_ratings", "t", SETTINGS)}
    assert not outcomes["dvc_ratings.schema_readable"].passed
    assert "not found" in outcomes["dvc_ratings.schema_readable"].observed
    broken = outcomes["dvc_ratings.enum_muc_do"]
    assert not broken.passed and broken.error and "could not run" in broken.observed


def test_row_rules_count_rows_already_in_the_warehouse():
    conn = qt.clean_warehouse()
    row = qt.clean_rows()["qlvb_cuoc_hop"][0] | {"id": 7, "ngay_hop": date(2026, 1, 5)}
    qt.insert(conn, "qlvb_cuoc_hop", [row])  # in force: yes (the department never ends)
    assert _one(conn, "qlvb_cuoc_hop", "unit_code_valid_at_date").passed
    qt.insert(conn, "qlvb_cuoc_hop", [row | {"id": 8, "ma_don_vi_chu_tri": qt.HUYEN}])
    outcome = _one(conn, "qlvb_cuoc_hop", "unit_code_valid_at_date")
    assert outcome.failed_keys == ["8"] and outcome.affected == [(2026, qt.HUYEN)]
    assert "1 in the warehouse" in outcome.observed
