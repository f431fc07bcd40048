"""The SQL that differs between the two warehouses (DuckDB and PostgreSQL), one helper each.

Queries on the warehouse are written once, in SQL both engines run (`EXTRACT`,
`generate_series`, `INTERVAL '1 day'`, `~` for a regular expression, `CAST(x AS JSON) ->> 'f'`,
aliased subqueries, no `GROUP BY ALL` / `QUALIFY` / `any_value`). What has no common spelling
is one function here: the portable ones return the same SQL for both engines, the others take
the dialect of the connection the query runs on (`dialect_of`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

DUCKDB = "duckdb"
POSTGRES = "postgres"


def dialect_of(conn: Any) -> str:
    """`postgres` for the PostgreSQL writer (warehouse/postgres.py), else `duckdb`."""
    return getattr(conn, "dialect", DUCKDB)


def try_int(expr: str) -> str:
    """`expr` (text) as INTEGER, NULL when it is not a whole number (DuckDB's `try_cast`)."""
    return f"CASE WHEN {expr} ~ '^ *[-+]?[0-9]{{1,9}} *$' THEN CAST({expr} AS INTEGER) END"


def try_bigint(expr: str) -> str:
    """`expr` (text) as BIGINT, NULL when it is not a whole number."""
    return f"CASE WHEN {expr} ~ '^ *[-+]?[0-9]{{1,18}} *$' THEN CAST({expr} AS BIGINT) END"


def try_month_start(expr: str) -> str:
    """The first day of the month `expr` writes as YYYY-MM (DATE), NULL when it does not."""
    return (
        f"CASE WHEN {expr} ~ '^[0-9]{{4}}-(0?[1-9]|1[0-2])$' THEN CAST({expr} || '-01' AS DATE) END"
    )


def json_text(expr: str, field: str) -> str:
    """The text of a top-level field of a JSON text (NULL when missing or null)."""
    return f"(CAST({expr} AS JSON) ->> '{field}')"


def json_valid(expr: str, dialect: str) -> str:
    """True when `expr` is JSON text. PostgreSQL 15 has no test that cannot raise: the
    pipeline writes payloads with `json.dumps` only, so an object's braces are enough."""
    if dialect == POSTGRES:
        return f"({expr} LIKE '{{%}}')"
    return f"json_valid({expr})"


def round_to(expr: str, digits: int, dialect: str) -> str:
    """A float rounded to `digits` decimals, half away from zero (PostgreSQL only rounds
    NUMERIC), as a float on both."""
    if dialect == POSTGRES:
        return f"CAST(round(CAST({expr} AS NUMERIC), {digits}) AS DOUBLE PRECISION)"
    return f"round({expr}, {digits})"


def first_values(expr: str, limit: int) -> str:
    """The `limit` smallest values of a group as a list (DuckDB's `min(x, n)`)."""
    return f"(array_agg({expr} ORDER BY {expr}))[1:{limit}]"


@contextmanager
def hash_join_plans(conn: Any) -> Iterator[None]:
    """Plan the quality checks' whole-table scans with hash joins (PostgreSQL; DuckDB needs
    nothing). PostgreSQL estimates a dbt view's `row_number() ... = 1` filter at a row or
    two and then compares every row with every reference code in a nested loop: a check of
    seconds took minutes. Without nested loops the plans look costly enough to be compiled
    (JIT), which costs seconds more than it saves on these scans: no JIT either."""
    if dialect_of(conn) != POSTGRES:
        yield
        return
    conn.execute("SET enable_nestloop = off")
    conn.execute("SET jit = off")
    try:
        yield
    finally:
        with suppress(Exception):
            conn.execute("RESET enable_nestloop")
            conn.execute("RESET jit")
