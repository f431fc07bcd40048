"""Row rules on a batch before it lands: failing rows become `Rejected` and go to quarantine.

The batch's rows become a pandas frame (in chunks, to bound memory), the rules' derived
columns are added (e.g. whether an agency code is in force on the record's date), and Great
Expectations validates the frame against the dataset's row suite. A failing row leaves the
batch with the reason `"<rule name>: <message naming field and value>"` (several rules:
joined by "; "), so quarantine and the table-level checks can count it per rule.

Great Expectations costs about 25 ms per expectation and validation whatever the number of
rows, so small batches are best validated together: `validate_batches` merges consecutive
batches up to `min_rows` before validating (the merged batch commits with the last
watermark, which keeps landing atomic and restartable).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import pandas as pd

from expectations import gx_runtime
from expectations.reference import ReferenceSets
from expectations.registry import SPECS
from expectations.rules import DatasetSpec, RowRule
from sources.batch import Batch, Rejected
from warehouse.schema import RAW_TABLES

CHUNK_ROWS = 100_000
MIN_ROWS = 50_000


def landing_rules(spec: DatasetSpec, refs: ReferenceSets) -> list[RowRule]:
    """The dataset's rules checked at landing; a rule whose reference set is empty (never
    loaded) is skipped rather than rejecting everything (the warehouse checks report it)."""
    return [r for r in spec.row_rules if r.at_landing and all(refs.has(n) for n in r.needs)]


def _frame(dataset: str, rows: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(rows)
    for column in RAW_TABLES[dataset].column_names:
        if column not in frame.columns:
            frame[column] = None
    return gx_runtime.with_row_index(frame)


def _expectations(rules: list[RowRule]) -> list[Any]:
    E = gx_runtime.expectations_module()  # noqa: N806
    built: list[Any] = []
    for rule in rules:
        made = rule.expect(E) if rule.expect else []
        for expectation in made if isinstance(made, list) else [made]:
            expectation.meta = {"rule": rule.name}
            expectation.notes = rule.description
            built.append(expectation)
    return built


def _message(rule: RowRule, row: dict[str, Any], refs: ReferenceSets) -> str:
    if callable(rule.message):
        return rule.message(row, refs)
    try:
        return rule.message.format(**row) if rule.message else "rule broken"
    except (KeyError, IndexError, ValueError):
        return rule.message


def failures(dataset: str, rows: list[dict[str, Any]], refs: ReferenceSets) -> dict[int, list[str]]:
    """Row position -> the names of the rules it breaks (positions within `rows`)."""
    spec = SPECS[dataset]
    rules = landing_rules(spec, refs)
    found: dict[int, list[str]] = {}
    if not rules or not rows:
        return found
    for start in range(0, len(rows), CHUNK_ROWS):
        chunk = rows[start : start + CHUNK_ROWS]
        frame = _frame(dataset, chunk)
        for rule in rules:
            if rule.derive is not None:
                rule.derive(frame, refs)
        result = gx_runtime.validate_frame(
            frame,
            asset_name=f"batch_{dataset}",
            suite_name=f"{dataset}.rows",
            expectations=_expectations(rules),
        )
        error = gx_runtime.raised(result)
        if error is not None:
            raise RuntimeError(f"row rules of {dataset} could not run: {error}")
        for r in result.results:
            if r.success:
                continue
            name = r.expectation_config.meta["rule"]
            for item in (r.result or {}).get("unexpected_index_list") or []:
                position = start + int(item[gx_runtime.ROW])
                names = found.setdefault(position, [])
                if name not in names:
                    names.append(name)
    return found


def validate_batch(batch: Batch, context: ReferenceSets) -> Batch:
    """A new batch: the rows that pass the dataset's row rules, and the others as rejected."""
    spec = SPECS.get(batch.dataset)
    if spec is None or not batch.rows:
        return batch
    broken = failures(batch.dataset, batch.rows, context)
    if not broken:
        return Batch(batch.dataset, list(batch.rows), list(batch.rejected), batch.watermark)
    by_name = {r.name: r for r in spec.row_rules}
    rows: list[dict[str, Any]] = []
    rejected = list(batch.rejected)
    for position, row in enumerate(batch.rows):
        names = broken.get(position)
        if not names:
            rows.append(row)
            continue
        reason = "; ".join(f"{n}: {_message(by_name[n], row, context)}" for n in names)
        rejected.append(Rejected(spec.row_key(row) if spec.row_key else None, reason, row))
    return Batch(batch.dataset, rows, rejected, batch.watermark)


def _merge(batches: list[Batch]) -> Batch:
    watermark = next((b.watermark for b in reversed(batches) if b.watermark is not None), None)
    return Batch(
        batches[0].dataset,
        [row for b in batches for row in b.rows],
        [r for b in batches for r in b.rejected],
        watermark,
    )


def validate_batches(
    batches: Iterable[Batch], context: ReferenceSets, *, min_rows: int = MIN_ROWS
) -> Iterator[Batch]:
    """Validate a connector's batches, merging consecutive ones up to `min_rows` rows first."""
    pending: list[Batch] = []
    size = 0
    for batch in batches:
        pending.append(batch)
        size += len(batch.rows) + len(batch.rejected)
        if size >= min_rows:
            yield validate_batch(_merge(pending), context)
            pending, size = [], 0
    if pending:
        yield validate_batch(_merge(pending), context)
