"""Quality checks as Dagster asset checks: wiring only, the rules live in `expectations/`.

One multi-asset check per asset runs the suites of the datasets it holds (the telecom asset
holds `telecom_coverage` and the file registry `telecom_files`), records the results in
`quality.check_results` and `quality.blocked_agencies`, rebuilds the Data Docs, and reports
each rule as an asset check: blocking rules as blocking checks (severity ERROR when they
fail: the downstream assets are not materialised), warnings with severity WARN. Metadata:
the observed value, the expectation, the failing records and a sample of their keys.
"""

import json
import logging
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import dagster as dg

from expectations.registry import ALL_SPECS, SPECS, STAGING_SPECS
from expectations.rules import BLOCKING, CheckOutcome, Rule
from orchestration.resources import PipelineResource

log = logging.getLogger(__name__)

# The asset key prefix of dbt staging models (orchestration/defs/transform.py: [layer, model]).
STAGING_KEY_PREFIX: tuple[str, ...] = ("staging",)


def data_docs_folder(warehouse: str) -> Path:
    """Beside the DuckDB file (`warehouse/cds.duckdb` -> `warehouse/data_docs/`)."""
    if warehouse.startswith(("postgresql://", "postgres://")):
        return Path("warehouse/data_docs")
    return Path(warehouse).parent / "data_docs"


def check_name(rule: Rule, asset_dataset: str) -> str:
    """Dagster names allow [A-Za-z0-9_]: the rule's short name on its own asset, prefixed with
    the dataset when the asset holds another dataset's checks too."""
    if rule.dataset == asset_dataset:
        return rule.short_name
    return f"{rule.dataset.removeprefix('telecom_')}__{rule.short_name}"


def _metadata(outcome: CheckOutcome) -> dict[str, dg.MetadataValue]:
    return {
        "check_name": dg.MetadataValue.text(outcome.check_name),
        "severity": dg.MetadataValue.text(outcome.severity),
        "dimension": dg.MetadataValue.text(outcome.dimension),
        "observed": dg.MetadataValue.text(outcome.observed),
        "expected": dg.MetadataValue.text(outcome.expected),
        "failed_rows": dg.MetadataValue.int(int(outcome.failed_rows)),
        "failed_keys_sample": dg.MetadataValue.json(list(outcome.failed_keys)),
        "agencies": dg.MetadataValue.json(outcome.agency_codes),
        "years": dg.MetadataValue.json(outcome.years),
    }


def _result(outcome: CheckOutcome, key: dg.AssetKey, name: str) -> dg.AssetCheckResult:
    severity = (
        dg.AssetCheckSeverity.ERROR if outcome.severity == BLOCKING else dg.AssetCheckSeverity.WARN
    )
    return dg.AssetCheckResult(
        check_name=name,
        asset_key=key,
        passed=outcome.passed,
        severity=severity,
        metadata=_metadata(outcome),
        description=outcome.description,
    )


def _asset_checks(key: tuple[str, ...], datasets: list[str]) -> dg.AssetChecksDefinition:
    asset_key = dg.AssetKey(list(key))
    asset_dataset = key[-1]
    names: dict[str, str] = {}  # rule name -> Dagster check name
    specs = []
    for dataset in datasets:
        for rule in ALL_SPECS[dataset].rules:
            name = check_name(rule, asset_dataset)
            names[rule.name] = name
            specs.append(
                dg.AssetCheckSpec(
                    name,
                    asset=asset_key,
                    blocking=rule.severity == BLOCKING,
                    description=f"[{rule.severity}] {rule.description}",
                    metadata={"rule": rule.name, "dimension": rule.dimension},
                )
            )

    @dg.multi_asset_check(
        name=f"quality__{'__'.join(key)}",
        specs=specs,
        can_subset=True,
        description=f"Quality suites of {', '.join(datasets)} (expectations/suites).",
    )
    def _checks(
        context: dg.AssetCheckExecutionContext, pipeline: PipelineResource
    ) -> Iterator[dg.AssetCheckResult]:
        from expectations.data_docs import build_data_docs
        from expectations.runner import run_suite
        from expectations.settings import QualitySettings
        from warehouse.quality import record_blocked_agencies, record_check_results

        selected = {k.name for k in context.selected_asset_check_keys}
        wanted = {rule for rule, name in names.items() if name in selected}
        settings = QualitySettings.load()
        outcomes: list[CheckOutcome] = []
        run_id = context.run.run_id
        with pipeline.lander(run_id) as lander:
            for dataset in datasets:
                outcomes += run_suite(lander.conn, dataset, run_id, settings, only=wanted)
            record_check_results(lander.conn, run_id, outcomes)
            record_blocked_agencies(lander.conn, run_id, outcomes)
        try:
            folder = data_docs_folder(pipeline.settings().warehouse)
            index = build_data_docs(outcomes, folder, run_id=run_id)
            context.log.info(f"Data Docs: {index}")
        except Exception:  # noqa: BLE001 - documentation never fails the checks
            log.warning("Data Docs could not be built", exc_info=True)
        failed = [o.check_name for o in outcomes if not o.passed]
        context.log.info(
            f"{len(outcomes)} checks, {len(failed)} failed"
            + (f": {json.dumps(failed)}" if failed else "")
        )
        for outcome in outcomes:
            yield _result(outcome, asset_key, names[outcome.check_name])

    return _checks


def _by_asset(specs: dict, prefix: tuple[str, ...] | None = None) -> dict[tuple[str, ...], list]:
    grouped: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for dataset, spec in specs.items():
        key = spec.asset_key if prefix is None else (*prefix, spec.asset_key[-1])
        grouped[tuple(key)].append(dataset)
    return grouped


# Checks of the raw assets (keys ["raw", <dataset>]).
QUALITY_CHECKS: list[dg.AssetChecksDefinition] = [
    _asset_checks(key, datasets) for key, datasets in _by_asset(SPECS).items()
]
# Checks of the dbt staging models (keys STAGING_KEY_PREFIX + [<model>]).
STAGING_CHECKS: list[dg.AssetChecksDefinition] = [
    _asset_checks(key, datasets)
    for key, datasets in _by_asset(STAGING_SPECS, STAGING_KEY_PREFIX).items()
]
