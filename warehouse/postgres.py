"""A PostgreSQL warehouse behind the small connection API the pipeline uses on DuckDB.

`PostgresConnection` wraps a psycopg2 connection in autocommit mode, so that, as on DuckDB,
each statement commits on its own unless the caller opened a transaction with
`BEGIN TRANSACTION` (and a failed statement outside one poisons nothing). `execute(sql, params)`
takes DuckDB's `?` placeholders and returns a result with `fetchone`, `fetchall`, `df` and
`description`; a statement without rows answers `[(rowcount,)]` like DuckDB's.

Landing (`insert_new`) copies a batch into a temporary table with `COPY ... FROM STDIN (FORMAT
csv)` and inserts the rows whose key is not in the raw table yet, with the same bounded
anti-join as on DuckDB; an index on each raw table's key keeps that lookup fast.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pandas as pd
import psycopg2
import psycopg2.extensions
import psycopg2.extras
import pyarrow as pa
import pyarrow.csv as pa_csv

from warehouse.schema import ALL_TABLES, SCHEMAS, Table, create_all_ddl

ANALYST_ROLE = "cds_analyst"
ANALYST_SCHEMAS = ("marts", "quality")
CONNECT_TIMEOUT_S = 5

# numpy scalars reach queries from pandas frames: send them as plain numbers.
for _type in (np.int64, np.int32, np.int16, np.float64, np.float32):
    psycopg2.extensions.register_adapter(_type, psycopg2.extensions.AsIs)
psycopg2.extensions.register_adapter(np.bool_, lambda v: psycopg2.extensions.AsIs(bool(v)))


def _numeric(value: str | None, _cursor: Any) -> int | float | None:
    """NUMERIC (PostgreSQL's sum of BIGINT, its division...) as DuckDB returns it: an integer
    when it has no fraction, else a float."""
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:  # a fraction, or NaN
        return float(value)


NUMERIC = psycopg2.extensions.new_type((1700,), "CDS_NUMERIC", _numeric)
NUMERIC_ARRAY = psycopg2.extensions.new_array_type((1231,), "CDS_NUMERIC_ARRAY", NUMERIC)

# Arrow types of PostgreSQL type OIDs, for DuckDB-identical pandas frames (`df`).
_ARROW_OF_OID: dict[int, pa.DataType] = {
    16: pa.bool_(),
    20: pa.int64(),
    21: pa.int16(),
    23: pa.int32(),
    700: pa.float32(),
    701: pa.float64(),
    1700: pa.float64(),
    25: pa.string(),
    1043: pa.string(),
    1042: pa.string(),
    19: pa.string(),
    114: pa.string(),
    3802: pa.string(),
    1082: pa.date32(),
    1114: pa.timestamp("us"),
    1009: pa.list_(pa.string()),
    1015: pa.list_(pa.string()),
    1007: pa.list_(pa.int32()),
    1016: pa.list_(pa.int64()),
}


def redact(url: str) -> str:
    """The URL with its password masked, for messages."""
    return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", url)


def describe(url: str) -> str:
    """The URL, password masked, and the server it names (host and port always shown)."""
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    return f"{redact(url)} (host {host}, port {parts.port or 5432})"


@lru_cache(maxsize=512)
def to_pyformat(sql: str) -> str:
    """DuckDB's `?` placeholders as psycopg2's `%s` (and a literal `%` as `%%`), leaving
    string literals, quoted identifiers and comments alone."""
    out: list[str] = []
    i, n = 0, len(sql)
    while i < n:
        char = sql[i]
        if char in ("'", '"'):
            end = i + 1
            while end < n:
                if sql[end] == char:
                    if end + 1 < n and sql[end + 1] == char:  # an escaped quote
                        end += 2
                        continue
                    break
                end += 1
            out.append(sql[i : end + 1].replace("%", "%%"))
            i = end + 1
        elif sql.startswith("--", i):
            end = sql.find("\n", i)
            end = n if end < 0 else end
            out.append(sql[i:end].replace("%", "%%"))
            i = end
        elif char == "?":
            out.append("%s")
            i += 1
        elif char == "%":
            out.append("%%")
            i += 1
        else:
            out.append(char)
            i += 1
    return "".join(out)


class PostgresResult:
    """What `PostgresConnection.execute` returns: the rows of one statement."""

    def __init__(self, cursor: Any) -> None:
        self.cursor = cursor
        self.description = cursor.description

    def _count(self) -> list[tuple[int]]:
        return [(self.cursor.rowcount,)] if self.cursor.rowcount >= 0 else []

    def fetchall(self) -> list[tuple[Any, ...]]:
        if self.description is None:
            return self._count()
        return [tuple(row) for row in self.cursor.fetchall()]

    def fetchone(self) -> tuple[Any, ...] | None:
        if self.description is None:
            count = self._count()
            return count[0] if count else None
        row = self.cursor.fetchone()
        return tuple(row) if row is not None else None

    def arrow(self) -> pa.Table:
        columns = [d[0] for d in self.description or []]
        rows = self.fetchall() if self.description is not None else []
        arrays = []
        for i, column in enumerate(self.description or []):
            values = [row[i] for row in rows]
            kind = _ARROW_OF_OID.get(column.type_code)
            if kind is not None and pa.types.is_floating(kind):
                values = [None if v is None else float(v) for v in values]
            arrays.append(pa.array(values, type=kind))
        return pa.Table.from_arrays(arrays, names=_unique(columns))

    def df(self) -> pd.DataFrame:
        """The rows as the same pandas frame DuckDB's `.df()` makes of the same result (the
        checks compute on these frames: same dtypes, same decisions)."""
        import duckdb

        with duckdb.connect() as local:
            return local.from_arrow(self.arrow()).df()


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        count = seen.get(name, 0)
        seen[name] = count + 1
        out.append(name if count == 0 else f"{name}_{count}")
    return out


class PostgresConnection:
    """The pipeline's writer connection to a PostgreSQL warehouse (see the module doc)."""

    dialect = "postgres"

    def __init__(self, raw: Any, url: str) -> None:
        self.raw = raw
        self.url = url

    # -- the DuckDB-like API -------------------------------------------------------------
    def execute(self, sql: str, params: Sequence[Any] | None = None) -> PostgresResult:
        cursor = self.raw.cursor()
        if params:
            cursor.execute(to_pyformat(sql), list(params))
        else:
            cursor.execute(sql)
        return PostgresResult(cursor)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self.raw.cursor() as cursor:
            psycopg2.extras.execute_batch(cursor, to_pyformat(sql), rows, page_size=500)

    def begin(self) -> None:
        self.execute("BEGIN TRANSACTION")

    def commit(self) -> None:
        if self.in_transaction:
            self.execute("COMMIT")

    def rollback(self) -> None:
        if self.in_transaction:
            self.execute("ROLLBACK")

    @property
    def in_transaction(self) -> bool:
        return self.raw.get_transaction_status() != psycopg2.extensions.TRANSACTION_STATUS_IDLE

    def close(self) -> None:
        self.raw.close()

    # -- landing ---------------------------------------------------------------------------
    def insert_new(self, table: Table, batch: pa.Table) -> int:
        """Insert the batch's rows whose (key, version) is not in `table` yet; how many.

        Same rows as DuckDB's `INSERT ... WHERE NOT EXISTS (... IS NOT DISTINCT FROM ...)`:
        the rows with a complete key are matched by equality (an index or hash lookup), the
        rare ones with a null key part null-safely.
        """
        own = not self.in_transaction
        if own:
            self.begin()
        try:
            inserted = self._insert_new(table, batch)
        except BaseException:
            if own:
                self.rollback()
            raise
        if own:
            self.commit()
        return inserted

    def _insert_new(self, table: Table, batch: pa.Table) -> int:
        staging = f"_landing_{table.schema}_{table.name}"
        self.execute(f"CREATE TEMP TABLE IF NOT EXISTS {staging} (LIKE {table.qualified})")
        self.execute(f"TRUNCATE {staging}")
        columns = ", ".join(f'"{c}"' for c in table.column_names)
        buffer = io.BytesIO()
        options = pa_csv.WriteOptions(include_header=False, quoting_style="all_valid")
        pa_csv.write_csv(batch, buffer, write_options=options)
        buffer.seek(0)
        with self.raw.cursor() as cursor:
            cursor.copy_expert(f"COPY {staging} ({columns}) FROM STDIN WITH (FORMAT csv)", buffer)
        bounds, params = "", []
        if table.bound:
            lo, hi = self.execute(
                f'SELECT min("{table.bound}"), max("{table.bound}") FROM {staging}'
            ).fetchone()
            bounds = f' AND t."{table.bound}" BETWEEN %s AND %s'
            params = [lo, hi]
        complete = " AND ".join(f'b."{c}" IS NOT NULL' for c in table.key) or "TRUE"
        equal = " AND ".join(f't."{c}" = b."{c}"' for c in table.key) or "TRUE"
        same = " AND ".join(f't."{c}" IS NOT DISTINCT FROM b."{c}"' for c in table.key) or "TRUE"
        inserted = 0
        with self.raw.cursor() as cursor:
            for where, match in ((complete, equal), (f"NOT ({complete})", same)):
                cursor.execute(
                    f"INSERT INTO {table.qualified} ({columns}) SELECT {columns} FROM {staging} b "
                    f"WHERE {where} AND NOT EXISTS "
                    f"(SELECT 1 FROM {table.qualified} t WHERE {match}{bounds})",
                    params,
                )
                inserted += max(cursor.rowcount, 0)
        return inserted


def _key_index_ddl() -> list[str]:
    """An index on the key of every table landing deduplicates by (raw and quarantine)."""
    statements = []
    for table in ALL_TABLES:
        if table.key:
            columns = ", ".join(f'"{c}"' for c in table.key)
            statements.append(
                f"CREATE INDEX IF NOT EXISTS {table.name}_key ON {table.qualified} ({columns})"
            )
    return statements


def schema_ddl() -> list[str]:
    return [*create_all_ddl("postgres"), *_key_index_ddl()]


def _schema_complete(conn: PostgresConnection) -> bool:
    """Every pipeline table and key index exists (the usual case: no DDL, no lock)."""
    found = conn.execute(
        "SELECT schemaname || '.' || tablename FROM pg_tables WHERE schemaname = ANY(?) "
        "UNION ALL SELECT schemaname || '.' || indexname FROM pg_indexes "
        "WHERE schemaname = ANY(?)",
        [list(SCHEMAS), list(SCHEMAS)],
    ).fetchall()
    wanted = {t.qualified for t in ALL_TABLES}
    wanted |= {f"{t.schema}.{t.name}_key" for t in ALL_TABLES if t.key}
    return wanted <= {name for (name,) in found}


def _own_options() -> dict[str, str]:
    """PGOPTIONS without the planner settings meant for dbt's subprocess, which the dbt step
    leaves in this process's environment: landing wants its index lookups (nested loops)."""
    from warehouse.connection import DBT_PG_OPTIONS

    current = os.environ.get("PGOPTIONS", "")
    if DBT_PG_OPTIONS not in current:
        return {}  # libpq reads PGOPTIONS (or the URL's options) itself
    return {"options": " ".join(current.replace(DBT_PG_OPTIONS, " ").split())}


def connect(url: str) -> PostgresConnection:
    """The writer connection, with every pipeline table and index created (idempotent).

    Raises psycopg2.OperationalError when the server cannot be reached.
    """
    raw = psycopg2.connect(
        url, connect_timeout=CONNECT_TIMEOUT_S, application_name="cds", **_own_options()
    )
    raw.autocommit = True
    psycopg2.extensions.register_type(NUMERIC, raw)
    psycopg2.extensions.register_type(NUMERIC_ARRAY, raw)
    conn = PostgresConnection(raw, url)
    try:
        if not _schema_complete(conn):
            # Several steps may open the writer at once: one creates, the others wait.
            conn.begin()
            conn.execute("SELECT pg_advisory_xact_lock(2158)")
            for statement in schema_ddl():
                conn.execute(statement)
            conn.commit()
    except BaseException:
        with contextlib.suppress(psycopg2.Error):
            conn.rollback()
        conn.close()
        raise
    return conn


def grant_analyst_role(conn: PostgresConnection, role: str = ANALYST_ROLE) -> list[str]:
    """Create the analysts' read-only group role (NOLOGIN) if needed and let it read every
    table of `marts` and `quality`, now and later. Idempotent; returns the schemas granted.

    Analysts log in with roles of their own that are members of it
    (`GRANT cds_analyst TO alice`).
    """
    conn.execute(
        f"DO $$ BEGIN CREATE ROLE {role} NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$"
    )
    present = [
        name
        for (name,) in conn.execute(
            "SELECT schema_name FROM information_schema.schemata WHERE schema_name = ANY(?) "
            "ORDER BY schema_name",
            [list(ANALYST_SCHEMAS)],
        ).fetchall()
    ]
    for schema in present:
        conn.execute(f"GRANT USAGE ON SCHEMA {schema} TO {role}")
        conn.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {role}")
        conn.execute(
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT SELECT ON TABLES TO {role}"
        )
    return present
