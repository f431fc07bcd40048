"""Writes the quality step's results: `quality.check_results` and `quality.blocked_agencies`.

The only writer of those two tables. Takes the `CheckOutcome`s of `expectations.runner`
(any objects with the same attributes).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Protocol

from warehouse.schema import QUALITY_TABLES

CHECK_RESULTS = QUALITY_TABLES["check_results"]
BLOCKED_AGENCIES = QUALITY_TABLES["blocked_agencies"]


class Outcome(Protocol):
    dataset: str
    check_name: str
    severity: str
    passed: bool
    observed: str
    expected: str
    failed_rows: int
    failed_keys: list[str]
    blocked: list[tuple[int | None, str | None]]


def _rows(run_id: str, outcomes: Iterable[Outcome], now: datetime) -> list[list[Any]]:
    return [
        [
            run_id,
            now,
            o.dataset,
            o.check_name,
            o.severity,
            bool(o.passed),
            o.observed,
            o.expected,
            int(o.failed_rows or 0),
            json.dumps(list(o.failed_keys or []), ensure_ascii=False),
        ]
        for o in outcomes
    ]


def _insert(conn: Any, table: str, width: int, rows: list[list[Any]]) -> None:
    if rows:
        placeholders = ", ".join("?" for _ in range(width))
        conn.executemany(f"INSERT INTO {table} VALUES ({placeholders})", rows)


def record_check_results(
    conn: Any, run_id: str, outcomes: Sequence[Outcome], *, checked_at: datetime | None = None
) -> int:
    """Append one row per check outcome of the run; returns how many."""
    rows = _rows(run_id, outcomes, checked_at or datetime.now())
    conn.execute("BEGIN TRANSACTION").fetchall()
    try:
        # Re-running the same checks in the same run replaces their rows (idempotent).
        for dataset in sorted({o.dataset for o in outcomes}):
            names = [o.check_name for o in outcomes if o.dataset == dataset]
            marks = ", ".join("?" for _ in names)
            conn.execute(
                f"DELETE FROM {CHECK_RESULTS.qualified} WHERE run_id = ? AND dataset = ? "
                f"AND check_name IN ({marks})",
                [run_id, dataset, *names],
            ).fetchall()
        _insert(conn, CHECK_RESULTS.qualified, len(CHECK_RESULTS.columns), rows)
        conn.execute("COMMIT").fetchall()
    except BaseException:
        conn.execute("ROLLBACK").fetchall()
        raise
    return len(rows)


def record_blocked_agencies(conn: Any, run_id: str, outcomes: Sequence[Outcome]) -> int:
    """Replace the blocked set of every dataset the outcomes cover with this run's.

    One row per (dataset, check, year, agency) that a failed blocking check takes out of the
    ranking; a null year or agency stands for every year or every agency. A dataset whose
    checks all passed loses its rows from earlier runs. Returns the rows written.
    """
    rows: list[list[Any]] = []
    for o in outcomes:
        for year, agency in sorted(set(o.blocked or []), key=lambda p: (p[0] or 0, p[1] or "")):
            rows.append([run_id, o.dataset, o.check_name, year, agency])
    datasets = sorted({o.dataset for o in outcomes})
    conn.execute("BEGIN TRANSACTION").fetchall()
    try:
        if datasets:
            marks = ", ".join("?" for _ in datasets)
            conn.execute(
                f"DELETE FROM {BLOCKED_AGENCIES.qualified} WHERE dataset IN ({marks})", datasets
            ).fetchall()
        _insert(conn, BLOCKED_AGENCIES.qualified, len(BLOCKED_AGENCIES.columns), rows)
        conn.execute("COMMIT").fetchall()
    except BaseException:
        conn.execute("ROLLBACK").fetchall()
        raise
    return len(rows)
