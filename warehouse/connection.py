"""Where the warehouse lives and how the pipeline's single writer connects to it."""

from __future__ import annotations

from pathlib import Path

import duckdb

from warehouse.schema import create_all_ddl


class WarehouseError(RuntimeError):
    """The warehouse cannot be opened or written."""


def is_postgres(target: str) -> bool:
    return target.startswith(("postgresql://", "postgres://"))


def open_writer(target: str) -> duckdb.DuckDBPyConnection:
    """The writer connection, with every pipeline table created (idempotent)."""
    if is_postgres(target):
        raise WarehouseError("a PostgreSQL warehouse is not supported by this build yet")
    path = Path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = duckdb.connect(str(path))
    except duckdb.IOException as exc:
        raise WarehouseError(f"cannot open the warehouse {path}: {exc}") from exc
    for statement in create_all_ddl():
        conn.execute(statement)
    return conn
