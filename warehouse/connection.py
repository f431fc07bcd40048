"""Where the warehouse lives and how the pipeline's single writer connects to it.

`CDS_WAREHOUSE` is a DuckDB file (the default) or a `postgresql://` URL. Either way
`open_writer` returns a connection with the same small API (`execute(sql, params)` with `?`
placeholders, `fetchone`/`fetchall`/`df`, `BEGIN TRANSACTION`/`COMMIT`/`ROLLBACK`, `close`):
DuckDB's own connection, or `warehouse.postgres.PostgresConnection`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import duckdb

from warehouse.schema import create_all_ddl

DBT_PG_OPTIONS = "-c enable_nestloop=off -c jit=off"


class WarehouseError(RuntimeError):
    """The warehouse cannot be opened or written."""


def is_postgres(target: str) -> bool:
    return target.startswith(("postgresql://", "postgres://"))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0].strip() if text else type(exc).__name__


def open_writer(target: str) -> Any:
    """The writer connection, with every pipeline table created (idempotent).

    A warehouse that cannot be opened (a locked DuckDB file, a PostgreSQL server that
    refuses the connection) raises `WarehouseError` with a one-line message, having changed
    nothing.
    """
    if is_postgres(target):
        return _open_postgres(target)
    path = Path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = duckdb.connect(str(path))
    except duckdb.IOException as exc:
        raise WarehouseError(f"cannot open the warehouse {path}: {exc}") from exc
    for statement in create_all_ddl():
        conn.execute(statement)
    return conn


def _open_postgres(url: str) -> Any:
    import psycopg2

    from warehouse.postgres import connect, describe

    try:
        return connect(url)
    except psycopg2.Error as exc:
        raise WarehouseError(
            f"cannot connect to the PostgreSQL warehouse {describe(url)}: {_first_line(exc)}"
        ) from None


def _with_options(current: str, extra: str) -> str:
    return current if extra in current else f"{current} {extra}".strip()


def dbt_environment(target: str) -> dict[str, str]:
    """The variables `dbt_project/profiles.yml` reads, derived from the one setting."""
    if not is_postgres(target):
        return {"CDS_DBT_TARGET": "duckdb", "CDS_WAREHOUSE": str(Path(target).resolve())}
    from urllib.parse import unquote, urlsplit

    url = urlsplit(target)
    return {
        # dbt rebuilds whole tables: hash joins, never nested loops, which PostgreSQL picks
        # when it estimates a staging view's `row_number() ... = 1` filter at a row or two
        # (a model of 0.5 s took 20 s); without JIT, which those plans would trigger.
        "PGOPTIONS": _with_options(os.environ.get("PGOPTIONS", ""), DBT_PG_OPTIONS),
        "CDS_DBT_TARGET": "postgres",
        "CDS_WAREHOUSE": target,
        "CDS_PG_HOST": url.hostname or "127.0.0.1",
        "CDS_PG_PORT": str(url.port or 5432),
        "CDS_PG_USER": unquote(url.username or "postgres"),
        "CDS_PG_PASSWORD": unquote(url.password or ""),
        "CDS_PG_DBNAME": (url.path or "/").lstrip("/") or "postgres",
    }
