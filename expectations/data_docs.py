"""Great Expectations Data Docs of the latest checks, built into a (git-ignored) folder.

GX's own site builder renders them from an ephemeral context: the validation results of a
dataset (one merged result per dataset, every check's expectations with their check name,
severity and dimension in `meta`) are put in the context's in-memory stores and the site is
rebuilt. The latest result of every dataset is also kept as JSON in `<folder>/_results/`, so
a run that checks only some datasets (e.g. one Dagster asset check step) still produces an
index of all of them.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

DEFAULT_FOLDER = Path("warehouse/data_docs")
SITE = "cds"
_GENERATED = ("index.html", "validations", "expectations", "static")


def _merge(dataset: str, results: list[Any], run_id: str) -> Any:
    from great_expectations.core.expectation_validation_result import (
        ExpectationSuiteValidationResult,
    )
    from great_expectations.core.run_identifier import RunIdentifier

    items = [_labelled(r) for result in results for r in result.results]
    passed = sum(1 for r in items if r.success)
    return ExpectationSuiteValidationResult(
        success=passed == len(items),
        results=items,
        suite_name=dataset,
        statistics={
            "evaluated_expectations": len(items),
            "successful_expectations": passed,
            "unsuccessful_expectations": len(items) - passed,
            "success_percent": 100.0 * passed / len(items) if items else None,
        },
        meta={
            "run_id": RunIdentifier(run_name=run_id or "cds", run_time=datetime.now(UTC)),
            "validation_time": datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ"),
            "great_expectations_version": _gx_version(),
        },
    )


def _labelled(result: Any) -> Any:
    """A copy of an expectation result whose column names carry the check's name: GX's page
    groups expectations by column, and a frame column alone does not say which check."""
    import copy

    labelled = copy.deepcopy(result)
    config = labelled.expectation_config
    name = (config.meta or {}).get("check_name")
    if name:
        for key in ("column", "column_A", "column_B"):
            if key in config.kwargs:
                config.kwargs[key] = f"{name}: {config.kwargs[key]}"
    return labelled


def _gx_version() -> str:
    import great_expectations as gx

    return str(gx.__version__)


def _load(path: Path) -> Any:
    from great_expectations.core.expectation_validation_result import (
        ExpectationSuiteValidationResultSchema,
    )

    return ExpectationSuiteValidationResultSchema().load(json.loads(path.read_text()))


def _group(results: Iterable[Any]) -> dict[str, list[Any]]:
    """Validation results per dataset, from check outcomes or bare GX results."""
    groups: dict[str, list[Any]] = {}
    for item in results:
        validation = getattr(item, "validation", item)
        if validation is None or not hasattr(validation, "results"):
            continue
        dataset = getattr(item, "dataset", None) or str(validation.suite_name).split(".")[0]
        groups.setdefault(dataset, []).append(validation)
    return groups


def build_data_docs(
    results: Iterable[Any], folder: Path | str = DEFAULT_FOLDER, *, run_id: str = ""
) -> Path:
    """Rebuild the Data Docs in `folder` with these results; returns the index page."""
    from expectations.gx_runtime import new_context

    folder = Path(folder)
    store = folder / "_results"
    store.mkdir(parents=True, exist_ok=True)
    for dataset, validations in _group(results).items():
        merged = _merge(dataset, validations, run_id)
        (store / f"{dataset}.json").write_text(json.dumps(merged.to_json_dict(), default=str))
    for name in _GENERATED:
        target = folder / name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()

    import great_expectations as gx
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    context = new_context()
    context.add_data_docs_site(
        site_name=SITE,
        site_config={
            "class_name": "SiteBuilder",
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(folder.resolve()),
            },
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        },
    )
    for path in sorted(store.glob("*.json")):
        result = _load(path)
        dataset = path.stem
        run = result.meta.get("run_id")
        if isinstance(run, dict):
            run = RunIdentifier(run_name=run.get("run_name"), run_time=run.get("run_time"))
        if not isinstance(run, RunIdentifier):
            run = RunIdentifier(run_name=str(run_id or "cds"), run_time=datetime.now(UTC))
        key = ValidationResultIdentifier(ExpectationSuiteIdentifier(dataset), run, dataset)
        context.validation_results_store.set(key, result)
        suite = gx.ExpectationSuite(name=dataset)
        for r in result.results:
            suite.add_expectation_configuration(r.expectation_config)
        context.suites.add(suite)
    context.build_data_docs(site_names=[SITE])
    return folder / "index.html"
