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


def dbt_environment(target: str) -> dict[str, str]:
    """The variables `dbt_project/profiles.yml` reads, derived from the one setting."""
    if not is_postgres(target):
        return {"CDS_DBT_TARGET": "duckdb", "CDS_WAREHOUSE": str(Path(target).resolve())}
    from urllib.parse import unquote, urlsplit

    url = urlsplit(target)
    return {
        "CDS_DBT_TARGET": "postgres",
        "CDS_WAREHOUSE": target,
        "CDS_PG_HOST": url.hostname or "127.0.0.1",
        "CDS_PG_PORT": str(url.port or 5432),
        "CDS_PG_USER": unquote(url.username or "postgres"),
        "CDS_PG_PASSWORD": unquote(url.password or ""),
        "CDS_PG_DBNAME": (url.path or "/").lstrip("/") or "postgres",
    }
