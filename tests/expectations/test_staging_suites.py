"""Suites of the key dbt staging models, on hand-made staging tables of the same columns."""

from __future__ import annotations

import pytest
import quality_tables as qt

from expectations.registry import STAGING_SPECS
from expectations.runner import run_suite
from expectations.settings import QualitySettings

SETTINGS = QualitySettings(now=qt.CLEAN_NOW)
DOSSIERS = """
    CREATE TABLE staging.stg_dvc__dossiers AS
    SELECT ma_ho_so AS dossier_id, ma_thu_tuc AS procedure_code, ma_co_quan AS agency_code,
           ma_dvhc AS admin_unit_code, kenh_nop AS channel, ngay_tiep_nhan AS received_at,
           han_xu_ly AS due_at, ngay_hoan_thanh AS finished_at, trang_thai AS status
    FROM raw.dvc_dossiers
"""


def _staging(columns: tuple[tuple[str, str], ...], model: str) -> str:
    listed = ", ".join(f'"{c}" {t}' for c, t in columns)
    return f"CREATE TABLE staging.{model} ({listed})"


@pytest.mark.parametrize("model", sorted(STAGING_SPECS))
def test_an_empty_model_with_the_expected_columns_passes(model):
    conn = qt.clean_warehouse()
    conn.execute("CREATE SCHEMA staging")
    schema = next(r for r in STAGING_SPECS[model].rules if r.short_name == "schema_readable")
    (outcome,) = run_suite(conn, model, "t", SETTINGS, only={schema.name})
    assert not outcome.passed and "not found" in outcome.observed
    conn.execute(_staging(STAGING_SPECS[model].columns, model))
    failed = [o.check_name for o in run_suite(conn, model, "t", SETTINGS) if not o.passed]
    assert failed == []


def test_dossiers_model_rules_and_blocking_key():
    conn = qt.clean_warehouse()
    conn.execute("CREATE SCHEMA staging")
    conn.execute(DOSSIERS)
    assert all(o.passed for o in run_suite(conn, "stg_dvc__dossiers", "t", SETTINGS))
    conn.execute(
        "INSERT INTO staging.stg_dvc__dossiers SELECT * REPLACE ('FAX' AS channel) "
        "FROM staging.stg_dvc__dossiers"
    )
    outcomes = {o.check_name: o for o in run_suite(conn, "stg_dvc__dossiers", "t", SETTINGS)}
    unique = outcomes["stg_dvc__dossiers.key_unique"]
    assert not unique.passed and unique.blocks and unique.failed_keys == ["D-clean"]
    assert unique.blocked == [(None, None)]
    channel = outcomes["stg_dvc__dossiers.enum_channel"]
    assert not channel.passed and not channel.blocks and channel.affected == [(2024, qt.SO)]
