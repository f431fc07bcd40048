"""quality.check_results, quality.blocked_agencies and the Data Docs."""

from __future__ import annotations

import json
from datetime import datetime

import quality_tables as qt

from expectations.data_docs import build_data_docs
from expectations.rules import CheckOutcome
from warehouse.quality import record_blocked_agencies, record_check_results


def _outcome(name: str, passed: bool, blocked=()) -> CheckOutcome:
    dataset = name.split(".")[0]
    return CheckOutcome(
        dataset, name, "blocking" if blocked else "warning", passed, "3 of 9", "none",
        failed_rows=0 if passed else 3, failed_keys=[] if passed else ["A", "B"],
        blocked=list(blocked),
    )  # fmt: skip


def test_check_results_are_written_per_run(dirty_outcomes):
    conn = qt.connect()
    outcomes = list(dirty_outcomes.values())
    at = datetime(2026, 1, 1, 2, 0)
    assert record_check_results(conn, "run-1", outcomes, checked_at=at) == len(outcomes)
    rows = conn.execute(
        "SELECT run_id, checked_at, dataset, check_name, severity, passed, observed, expected, "
        "failed_rows, failed_keys FROM quality.check_results "
        "WHERE check_name = 'dvc_dossiers.enum_kenh_nop'"
    ).fetchall()
    assert len(rows) == 1
    run_id, checked_at, dataset, _, severity, passed, observed, expected, failed, keys = rows[0]
    assert (run_id, checked_at, dataset, severity, passed) == (
        "run-1", at, "dvc_dossiers", "warning", False)  # fmt: skip
    assert failed == 2 and json.loads(keys) == ["D-fax", "D-q"]  # one landed, one quarantined
    assert observed.startswith("2 of") and expected == "no record breaks the rule"
    # the same checks again in the same run replace their rows; another run appends
    record_check_results(conn, "run-1", outcomes[:5])
    record_check_results(conn, "run-2", outcomes[:5])
    counts = dict(
        conn.execute("SELECT run_id, count(*) FROM quality.check_results GROUP BY 1").fetchall()
    )
    assert counts == {"run-1": len(outcomes), "run-2": 5}


def test_blocked_agencies_replace_the_previous_runs_set():
    conn = qt.connect()
    first = [
        _outcome("dvc_dossiers.invalid_share_within_threshold", False, [(2024, "A"), (2025, "A")]),
        _outcome("qlvb_van_ban.invalid_share_within_threshold", False, [(2025, None)]),
    ]
    assert record_blocked_agencies(conn, "run-1", first) == 3
    # the next run checks the dossiers again: now only agency B; documents were not checked
    second = [_outcome("dvc_dossiers.invalid_share_within_threshold", False, [(2025, "B")])]
    assert record_blocked_agencies(conn, "run-2", second) == 1
    rows = conn.execute(
        "SELECT run_id, dataset, year, agency_code FROM quality.blocked_agencies ORDER BY 2, 3"
    ).fetchall()
    assert rows == [("run-2", "dvc_dossiers", 2025, "B"), ("run-1", "qlvb_van_ban", 2025, None)]
    # a run where the dossiers pass clears them
    record_blocked_agencies(conn, "run-3", [_outcome("dvc_dossiers.enum_kenh_nop", True)])
    assert conn.execute("SELECT count(*) FROM quality.blocked_agencies").fetchone() == (1,)


def test_data_docs_are_built_by_great_expectations(dirty_outcomes, tmp_path):
    portal = [o for o in dirty_outcomes.values() if o.dataset == "dvc_dossiers"]
    index = build_data_docs(portal, tmp_path / "docs", run_id="run-1")
    assert index.exists() and "Great Expectations" in index.read_text()
    pages = list((tmp_path / "docs" / "validations" / "dvc_dossiers").rglob("*.html"))
    assert len(pages) == 1
    page = pages[0].read_text()
    assert "dvc_dossiers.enum_kenh_nop" in page  # expectations are labelled with their check
    # a later build with another dataset keeps the first one in the index
    telecom = [o for o in dirty_outcomes.values() if o.dataset == "telecom_files"]
    build_data_docs(telecom, tmp_path / "docs", run_id="run-2")
    text = index.read_text()
    assert "dvc_dossiers" in text and "telecom_files" in text
