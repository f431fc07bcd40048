"""Problems: ownership from the data, stable keys, rule kinds, what each one affects."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from alerts_support import (
    BUILDING,
    HEALTH,
    HEALTH_MAIL,
    PII,
    SCIENCE,
    add_check,
    add_quarantine,
)

from expectations.alerts import load_contacts, problems_of_run
from expectations.alerts.catalogue import affects_ranking, rule_kind
from expectations.alerts.problems import failure_problems, parse_failed_keys, parse_problem_key


@pytest.fixture
def conn(warehouse: Path) -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect(str(warehouse))
    yield connection
    connection.close()


def _problems(conn: duckdb.DuckDBPyConnection, run_id: str = "p") -> list:
    problems, _, _ = problems_of_run(conn, run_id, load_contacts(conn))
    return problems


def test_contacts_are_the_latest_reference_rows(conn: duckdb.DuckDBPyConnection) -> None:
    contacts = load_contacts(conn)
    assert contacts[HEALTH].email == HEALTH_MAIL and contacts[HEALTH].name == "Sở Y tế"
    assert contacts[BUILDING].email is None


def test_a_complete_key_list_is_split_exactly_per_agency(conn: duckdb.DuckDBPyConnection) -> None:
    add_check(
        conn, "p", "dvc_dossiers", "unique_ma_ho_so", passed=False, failed_rows=5,
        failed_keys=["HS-001", "HS-002", "HS-003", "HS-006", "HS-007"],
    )  # fmt: skip
    by_owner = {p.agency_code: p for p in _problems(conn)}
    assert set(by_owner) == {HEALTH, SCIENCE}
    assert by_owner[HEALTH].failed_rows == 3 and by_owner[SCIENCE].failed_rows == 2
    assert by_owner[SCIENCE].example_keys == ("HS-006", "HS-007")
    assert by_owner[HEALTH].key == "dvc_dossiers|unique_ma_ho_so|000.00.05.H23"


def test_a_mixed_sample_stays_with_the_engineers(conn: duckdb.DuckDBPyConnection) -> None:
    add_check(
        conn, "p", "dvc_dossiers", "date_order", passed=False, failed_rows=500,
        failed_keys=["HS-001", "HS-006", "HS-404"],
    )  # fmt: skip
    (problem,) = _problems(conn)
    assert problem.agency_code is None and problem.failed_rows == 500
    assert problem.key == "dvc_dossiers|date_order|*"


def test_blocked_agencies_name_the_owners(conn: duckdb.DuckDBPyConnection) -> None:
    add_check(conn, "p", "dvc_dossiers", "invalid_share", passed=False, severity="blocking")
    for agency in (HEALTH, SCIENCE):
        conn.execute(
            "INSERT INTO quality.blocked_agencies VALUES ('p', 'dvc_dossiers', 'invalid_share', "
            "2026, ?)",
            [agency],
        )
    problems = _problems(conn)
    assert {(p.agency_code, p.severity) for p in problems} == {
        (HEALTH, "blocking"),
        (SCIENCE, "blocking"),
    }


def test_quarantined_ratings_find_their_agency_through_the_dossier(
    conn: duckdb.DuckDBPyConnection,
) -> None:
    payload = {"ma_danh_gia": "DG-1", "ma_ho_so": "HS-006", "muc_do": "TUYET_VOI", **PII}
    add_quarantine(
        conn, "p", "dvc_ratings", "DG-1", "enum: muc_do='TUYET_VOI' not in [...]", payload
    )
    (problem,) = _problems(conn)
    assert problem.agency_code == SCIENCE and problem.example_keys == ("DG-1",)
    assert problem.fields == ("muc_do",)
    assert problem.affected_indicators == ("CQ-10",)


def test_an_unknown_agency_code_is_no_owner_and_is_not_shown(
    conn: duckdb.DuckDBPyConnection,
) -> None:
    payload = {"ma_ho_so": "HS-900", "ma_co_quan": "Nguyen Van A 0987654321"}
    add_quarantine(conn, "p", "dvc_dossiers", "HS-900", "unknown_code: ma_co_quan", payload)
    (problem,) = _problems(conn)
    assert problem.agency_code is None
    assert "Nguyen" not in repr(problem)


def test_a_row_rule_is_counted_per_agency_with_the_suites_sql(
    conn: duckdb.DuckDBPyConnection,
) -> None:
    # The check's sample has one key only; the suite's SQL finds who owns all five.
    add_check(
        conn, "p", "dvc_dossiers", "dvc_dossiers.date_order_finished_after_received",
        passed=False, failed_rows=5, failed_keys=["HS-001"],
    )  # fmt: skip
    by_owner = {p.agency_code: p for p in _problems(conn)}
    assert set(by_owner) == {HEALTH, SCIENCE}
    assert by_owner[HEALTH].failed_rows == 4
    assert by_owner[HEALTH].example_keys == ("HS-001", "HS-002", "HS-003")
    assert (by_owner[SCIENCE].failed_rows, by_owner[SCIENCE].example_keys) == (1, ("HS-006",))
    assert by_owner[HEALTH].kind.name == "date_order"


def test_quarantined_records_per_agency_and_unknown_codes_to_the_engineers(
    conn: duckdb.DuckDBPyConnection,
) -> None:
    add_check(
        conn, "p", "dvc_dossiers", "dvc_dossiers.quarantined_records", passed=False,
        failed_rows=3, failed_keys=["HS-901", "HS-902", "HS-903"],
    )  # fmt: skip
    for key, agency in (("HS-901", HEALTH), ("HS-902", HEALTH), ("HS-903", "XX.Nguyen Van A")):
        payload = {"ma_ho_so": key, "ma_co_quan": agency, **PII}
        add_quarantine(conn, "p", "dvc_dossiers", key, "enum: kenh_nop='FAX'", payload)
    problems = {p.agency_code: p for p in _problems(conn)}
    assert problems[HEALTH].failed_rows == 2 and problems[None].failed_rows == 1
    assert problems[None].example_keys == ("HS-903",)
    assert "Nguyen" not in repr(problems)


def test_the_quarantine_of_a_checked_dataset_is_left_to_its_checks(
    conn: duckdb.DuckDBPyConnection,
) -> None:
    add_check(conn, "p", "dvc_dossiers", "dvc_dossiers.key_present", passed=True)
    payload = {"ma_ho_so": "HS-901", "ma_co_quan": HEALTH}
    add_quarantine(conn, "p", "dvc_dossiers", "HS-901", "enum: kenh_nop='FAX'", payload)
    problems, checks, quarantined = problems_of_run(conn, "p", load_contacts(conn))
    assert problems == [] and len(checks) == 1 and quarantined == {"dvc_dossiers": 1}


def test_failed_keys_formats() -> None:
    assert parse_failed_keys(None) == []
    assert parse_failed_keys('["a", 2]') == [("a", None), ("2", None)]
    assert parse_failed_keys('[{"key": "a", "agency_code": "X"}]') == [("a", "X")]
    assert parse_failed_keys('{"X": ["a", "b"]}') == [("a", "X"), ("b", "X")]
    assert parse_failed_keys("a, b\nc") == [("a", None), ("b", None), ("c", None)]


def test_keys_round_trip() -> None:
    assert parse_problem_key("telecom_coverage|missing|month|*") == (
        "telecom_coverage",
        "missing|month",
        None,
    )
    assert parse_problem_key("dvc_dossiers|enum|000.00.05.H23") == (
        "dvc_dossiers",
        "enum",
        "000.00.05.H23",
    )


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("date_order", "date_order"),
        ("expect_column_pair_values_a_to_be_greater_than_b", "date_order"),
        ("expect_column_values_to_be_in_set", "enum"),
        ("expect_column_values_to_not_be_null", "not_null"),
        ("expect_column_values_to_be_unique", "duplicate"),
        ("expect_table_columns_to_match_set", "schema"),
        ("expect_table_row_count_to_be_between", "volume"),
        ("volume_collapse", "volume"),
        ("freshness", "freshness"),
        ("missing_carrier_month", "completeness"),
        ("unknown_village", "unknown_village"),
        ("unknown_code", "unknown_code"),
        ("negative_count", "range"),
        ("smartphone_exceeds_subscribers", "range"),
        ("truncated_file", "file"),
        ("legacy_encoding", "file"),
        ("invalid_share", "invalid_share"),
        ("wrong_type", "wrong_type"),
        ("unparseable_date", "unparseable"),
        ("missing_key", "missing_key"),
        ("something_else", "generic"),
    ],
)
def test_rule_kinds(name: str, kind: str) -> None:
    assert rule_kind(name).name == kind


def test_what_each_dataset_affects() -> None:
    assert affects_ranking("dvc_dossiers") and affects_ranking("stg_qlvb__documents")
    assert not affects_ranking("telecom_coverage")
    assert not affects_ranking("qlvb_cuoc_hop")  # CQ-04 has no weight in the index
    (failure,) = failure_problems(["ingest_qlvb: database unreachable"])
    assert (failure.check_name, failure.observed, failure.kind.name) == (
        "ingest_qlvb",
        "database unreachable",
        "run_failure",
    )
