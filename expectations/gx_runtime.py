"""One ephemeral Great Expectations context per process, and frame validation with it.

Great Expectations takes seconds to import, so it is imported here, on first use, never at
module import. The context keeps nothing on disk, sends no usage statistics and shows no
progress bars. Frames are validated through a pandas data source (the SQL data source does
not work on DuckDB: see DESIGN.md); big tables are reduced to small frames in SQL first.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

import pandas as pd

ROW = "_row"  # the positional index column through which failing frame rows are identified
_LOCK = threading.Lock()
_STATE: dict[str, Any] = {}


def _gx() -> Any:
    if "gx" not in _STATE:
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
        import great_expectations as gx

        # GX logs every metric it cannot resolve at WARNING; the result says it anyway.
        logging.getLogger("great_expectations").setLevel(logging.ERROR)
        _STATE["gx"] = gx
    return _STATE["gx"]


def expectations_module() -> Any:
    """`great_expectations.expectations` (E.ExpectColumnValuesToBeInSet, ...)."""
    return _gx().expectations


def new_context() -> Any:
    """A fresh ephemeral context: in-memory stores, no analytics, no progress bars."""
    gx = _gx()
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
    )
    return gx.get_context(mode="ephemeral", project_config=config)


def column(name: str) -> Any:
    """A GX row-condition column (`column("cap_thuc_hien") == "TINH"`)."""
    _gx()
    from great_expectations.expectations.row_conditions import Column

    return Column(name)


def context() -> Any:
    """The process's ephemeral context, with one pandas data source for frames."""
    with _LOCK:
        if "context" not in _STATE:
            ctx = new_context()
            _STATE["context"] = ctx
            _STATE["source"] = ctx.data_sources.add_pandas("cds_frames")
            _STATE["batches"] = {}
        return _STATE["context"]


def _batch_definition(asset_name: str) -> Any:
    context()
    batches: dict[str, Any] = _STATE["batches"]
    if asset_name not in batches:
        asset = _STATE["source"].add_dataframe_asset(asset_name)
        batches[asset_name] = asset.add_batch_definition_whole_dataframe("whole_frame")
    return batches[asset_name]


def suite(name: str, expectations: list[Any]) -> Any:
    return _gx().ExpectationSuite(name=name, expectations=expectations)


def validate_frame(
    frame: pd.DataFrame,
    *,
    asset_name: str,
    suite_name: str,
    expectations: list[Any],
    complete: bool = True,
) -> Any:
    """Validate `frame` (which must carry the `_row` column) against the expectations.

    Returns the ExpectationSuiteValidationResult; with `complete`, each failing column-map
    expectation lists its failing `_row` values (`failing_rows`).
    """
    batch = _batch_definition(asset_name).get_batch(batch_parameters={"dataframe": frame})
    result_format: dict[str, Any] = {"result_format": "COMPLETE" if complete else "BASIC"}
    if complete:
        result_format["unexpected_index_column_names"] = [ROW]
        result_format["return_unexpected_index_query"] = False
    return batch.validate(suite(suite_name, expectations), result_format=result_format)


def failing_rows(result: Any) -> set[int]:
    """The `_row` values that some expectation of `result` found unexpected."""
    rows: set[int] = set()
    for r in result.results:
        if r.success:
            continue
        for item in (r.result or {}).get("unexpected_index_list") or []:
            value = item.get(ROW) if isinstance(item, dict) else item
            if value is not None:
                rows.add(int(value))
    return rows


def raised(result: Any) -> str | None:
    """The first exception an expectation raised while validating, if any."""
    for r in result.results:
        info = r.exception_info or {}
        # Either one record, or one record per metric that failed to resolve.
        records = [info] if "raised_exception" in info else list(info.values())
        for record in records:
            if isinstance(record, dict) and record.get("raised_exception"):
                return str(record.get("exception_message"))
    return None


def with_row_index(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.reset_index(drop=True).copy()
    out[ROW] = range(len(out))
    return out
