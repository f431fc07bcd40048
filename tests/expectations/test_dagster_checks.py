"""The suites as Dagster asset checks on the raw assets (wiring, run in process)."""

from __future__ import annotations

import json

import dagster as dg
import duckdb
import quality_tables as qt

from expectations.registry import SPECS, STAGING_SPECS
from orchestration.defs.ingestion import RAW_ASSETS
from orchestration.defs.quality import QUALITY_CHECKS, STAGING_CHECKS, check_name
from orchestration.resources import PipelineResource

CHECKED = (dg.AssetKey(["raw", "dvc_dossiers"]), dg.AssetKey(["raw", "dvc_ratings"]))


def _definitions() -> dg.Definitions:
    # Only the checks (not the assets) of two assets: the run reads the warehouse as it is.
    job = dg.define_asset_job(
        "quality_only", selection=dg.AssetSelection.checks_for_assets(*CHECKED)
    )
    return dg.Definitions(
        assets=RAW_ASSETS,
        asset_checks=QUALITY_CHECKS,
        jobs=[job],
        resources={"pipeline": PipelineResource()},
    )


def test_every_rule_is_an_asset_check_on_its_asset():
    defs = _definitions()
    graph = defs.resolve_asset_graph()
    keys = {(k.asset_key.to_user_string(), k.name) for k in graph.asset_check_keys}
    expected = {
        ("/".join(spec.asset_key), check_name(rule, spec.asset_key[-1]))
        for spec in SPECS.values()
        for rule in spec.rules
    }
    assert keys == expected
    assert ("raw/telecom_coverage", "files__carrier_month_present") in keys
    blocking = {spec.name for c in QUALITY_CHECKS for spec in c.check_specs if spec.blocking}
    assert blocking >= {"schema_readable", "invalid_share_within_threshold", "file_loaded"}
    staged = {k.asset_key.to_user_string() for c in STAGING_CHECKS for k in c.check_keys}
    assert staged == {f"staging/{m}" for m in STAGING_SPECS}


def test_checks_run_record_and_block(tmp_path, monkeypatch):
    path = tmp_path / "cds.duckdb"
    conn = qt.clean_warehouse(str(path))
    conn.execute('ALTER TABLE raw.dvc_ratings DROP COLUMN "muc_do"')  # staging cannot read it
    conn.close()
    monkeypatch.setenv("CDS_WAREHOUSE", str(path))
    monkeypatch.chdir(tmp_path)
    result = _definitions().resolve_job_def("quality_only").execute_in_process(raise_on_error=False)
    evaluations = {
        (e.asset_key.to_user_string(), e.check_name): e
        for e in result.get_asset_check_evaluations()
    }
    assert len(evaluations) == sum(len(SPECS[k.path[-1]].rules) for k in CHECKED)
    schema = evaluations[("raw/dvc_ratings", "schema_readable")]
    assert not schema.passed and schema.severity == dg.AssetCheckSeverity.ERROR
    assert "muc_do: (missing)" in schema.metadata["observed"].value
    stale = evaluations[("raw/dvc_dossiers", "fresh")]  # 2024 data, checked today
    assert not stale.passed and stale.severity == dg.AssetCheckSeverity.WARN
    ok = evaluations[("raw/dvc_dossiers", "enum_kenh_nop")]
    assert ok.passed and ok.metadata["failed_rows"].value == 0
    conn = duckdb.connect(str(path), read_only=True)
    written = conn.execute(
        "SELECT count(*), count(*) FILTER (WHERE NOT passed) FROM quality.check_results"
    ).fetchone()
    assert written[0] == len(evaluations) and written[1] >= 2
    blocked = conn.execute("SELECT dataset, check_name, year, agency_code FROM "
                           "quality.blocked_agencies ORDER BY 2").fetchall()  # fmt: skip
    # the invalid share cannot be computed without the column either: blocked as well
    assert blocked == [
        ("dvc_ratings", "dvc_ratings.invalid_share_within_threshold", None, None),
        ("dvc_ratings", "dvc_ratings.schema_readable", None, None),
    ]
    keys = conn.execute("SELECT failed_keys FROM quality.check_results "
                        "WHERE check_name = 'dvc_ratings.schema_readable'").fetchone()  # fmt: skip
    assert json.loads(keys[0]) == ["muc_do"]
    assert (tmp_path / "data_docs" / "index.html").exists()
