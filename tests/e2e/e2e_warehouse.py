"""What the pipeline left in the warehouse, read once (read-only, after `cds demo` ended), and
the record-by-record comparison of its values with the independent ones."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
from independent import Value, ValueKey

MARTS = (
    "dim_indicator",
    "dim_agency",
    "dim_admin_unit",
    "fct_indicator_values",
    "agency_index",
    "agency_index_breakdown",
    "award_shortlist",
    "indicator_coverage",
)
TOLERANCE = 1e-9


@dataclass(frozen=True)
class Table:
    columns: list[str]
    rows: list[tuple[Any, ...]]

    def dicts(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


@dataclass(frozen=True)
class WarehouseState:
    marts: dict[str, Table]
    quarantine: Table
    blocked: set[tuple[int | None, str | None]]
    run_log: Table


def _table(conn: duckdb.DuckDBPyConnection, sql: str) -> Table:
    cursor = conn.execute(sql)
    columns = [d[0] for d in cursor.description]
    return Table(columns, cursor.fetchall())


def read_warehouse(path: Path) -> WarehouseState:
    conn = duckdb.connect(str(path), read_only=True)
    try:
        marts = {name: _table(conn, f"SELECT * FROM marts.{name}") for name in MARTS}
        quarantine = _table(conn, "SELECT dataset, record_key, reason FROM quality.quarantine")
        blocked = {
            (year, agency)
            for year, agency in conn.execute(
                "SELECT year, agency_code FROM quality.blocked_agencies"
            ).fetchall()
        }
        run_log = _table(conn, "SELECT * FROM ops.run_log")
    finally:
        conn.close()
    return WarehouseState(marts, quarantine, blocked, run_log)


def pipeline_values(state: WarehouseState) -> dict[ValueKey, Value]:
    values = {}
    for r in state.marts["fct_indicator_values"].dicts():
        key = (r["indicator_code"], r["unit_type"], r["unit_code"], r["period_grain"])
        values[(*key, r["period_start"])] = Value(
            r["numerator"],
            r["denominator"],
            r["value"],
            r["target"],
            r["target_op"],
            r["meets_target"],
            r["gap_pp"],
            r.get("basis", "actual"),
        )
    return values


def close(expected: float | None, actual: float | None) -> bool:
    if expected is None or actual is None:
        return expected is None and actual is None
    return math.isclose(expected, actual, rel_tol=0.0, abs_tol=TOLERANCE)


def same_count(expected: float, actual: float | None) -> bool:
    """Counts of whole records must be equal exactly; shares of split communes to 1e-9."""
    if actual is None:
        return False
    if float(expected).is_integer():
        return float(actual) == float(expected)
    return close(expected, actual)


def describe(key: ValueKey) -> str:
    indicator, unit_type, unit, grain, start = key
    return f"{indicator} {unit_type} {unit} {grain} {start.isoformat()}"


def value_differences(
    expected: dict[ValueKey, Value],
    actual: dict[ValueKey, Value],
    *,
    check_basis: bool = False,
) -> list[str]:
    """One line per field of an expected value that the pipeline has otherwise."""
    lines = []
    for key, want in sorted(expected.items()):
        got = actual.get(key)
        if got is None:
            lines.append(f"{describe(key)}: missing in marts.fct_indicator_values")
            continue
        checks = [
            ("numerator", same_count(want.numerator, got.numerator)),
            ("denominator", same_count(want.denominator, got.denominator)),
            ("value", close(want.value, got.value)),
            ("target", close(want.target, got.target)),
            ("target_op", want.target_op == got.target_op),
            ("meets_target", want.meets_target == got.meets_target),
            ("gap_pp", close(want.gap_pp, got.gap_pp)),
        ]
        if check_basis:
            checks.append(("basis", want.basis == got.basis))
        for name, ok in checks:
            if not ok:
                lines.append(
                    f"{describe(key)}: {name} expected {getattr(want, name)!r}, "
                    f"pipeline {getattr(got, name)!r}"
                )
    return lines


def report(lines: list[str], what: str, limit: int = 25) -> str:
    shown = "\n  ".join(lines[:limit])
    more = f"\n  ... and {len(lines) - limit} more" if len(lines) > limit else ""
    return f"{len(lines)} difference(s) in {what}:\n  {shown}{more}"


def comparable(table: Table) -> list[tuple[Any, ...]]:
    """Rows in a stable order, floats left as they are (compared with a tolerance)."""

    def order(row: tuple[Any, ...]) -> tuple[str, ...]:
        return tuple("" if isinstance(v, float) else repr(v) for v in row)

    return sorted(table.rows, key=order)


def same_rows(a: Table, b: Table) -> bool:
    if a.columns != b.columns or len(a.rows) != len(b.rows):
        return False
    for x, y in zip(comparable(a), comparable(b), strict=True):
        for u, v in zip(x, y, strict=True):
            if isinstance(u, float) and isinstance(v, float):
                if not math.isclose(u, v, rel_tol=1e-12, abs_tol=TOLERANCE):
                    return False
            elif u != v:
                return False
    return True


def first_day(year: int) -> date:
    return date(year, 1, 1)
