"""Data-quality gate of the pipeline: Great Expectations suites per dataset (`suites/`).

Public API (imported lazily: Great Expectations itself is imported only when a check runs):
- `validate_batch(batch, refs) -> Batch`, `validate_batches(batches, refs)`: row rules on a
  connector's batches before landing; failing rows become `Rejected` (quarantine).
- `load_reference_sets(conn) -> ReferenceSets`: the codes the row rules check against.
- `run_suite(conn, dataset, run_id, settings) -> list[CheckOutcome]`, `run_all(...)`:
  table-level checks on the warehouse (SQL in DuckDB, small frames validated by GX).
- `build_data_docs(outcomes, folder)`: GX Data Docs of the latest results.
- `QualitySettings`, `CheckOutcome`, `SPECS` (every suite), `DATASETS`.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "validate_batch": "expectations.row_level",
    "validate_batches": "expectations.row_level",
    "load_reference_sets": "expectations.reference",
    "ReferenceSets": "expectations.reference",
    "run_suite": "expectations.runner",
    "run_all": "expectations.runner",
    "blocking_failures": "expectations.runner",
    "build_data_docs": "expectations.data_docs",
    "QualitySettings": "expectations.settings",
    "CheckOutcome": "expectations.rules",
    "SPECS": "expectations.registry",
    "DATASETS": "expectations.registry",
    "match_anomalies": "expectations.anomalies",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'expectations' has no attribute {name!r}")
    return getattr(import_module(module), name)
