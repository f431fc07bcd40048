"""Read-only access to the published warehouse: `cds query` and the officials' report.

A DuckDB warehouse is read through its published snapshot (warehouse/publish.py), opened
read-only with file access switched off, so a query can neither change the warehouse nor
write or read other files. A PostgreSQL warehouse is read in a read-only transaction. Only
reading statements are accepted; every failure is a `QueryError` with a one-line message.
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

import duckdb

from warehouse.connection import is_postgres
from warehouse.publish import NoSnapshotError, current_snapshot

# Statement types that only read. Everything else (INSERT, CREATE, COPY, ATTACH, SET, ...) is
# refused before it reaches the database.
READING_STATEMENTS = frozenset(
    {
        duckdb.StatementType.SELECT,
        duckdb.StatementType.EXPLAIN,
        duckdb.StatementType.PRAGMA,
        duckdb.StatementType.CALL,
    }
)
READ_ONLY_MESSAGE = "the published warehouse is read-only"


class QueryError(RuntimeError):
    """A query that cannot run; the message is one line, for the terminal."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]


class Reader(Protocol):
    """A read-only connection to the published warehouse."""

    description: str

    def execute(self, sql: str) -> QueryResult: ...

    def tables(self, schema: str) -> list[str]: ...

    def close(self) -> None: ...


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _statement_types(sql: str) -> list[str]:
    """The type names of the statements in `sql`, refusing any that would write."""
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.ParserException as exc:
        raise QueryError(f"syntax error: {_syntax_message(exc)}") from None
    if not statements:
        raise QueryError("empty query: give one SELECT statement, e.g. cds query 'SELECT 1'")
    for statement in statements:
        if statement.type not in READING_STATEMENTS:
            kind = statement.type.name.replace("_", " ")
            raise QueryError(
                f"{READ_ONLY_MESSAGE}: {kind} statements are refused "
                "(cds query runs SELECT, EXPLAIN, PRAGMA and CALL only)"
            )
    return [s.type.name for s in statements]


def _syntax_message(exc: BaseException) -> str:
    line = _first_line(exc)
    return re.sub(r"^(Parser Error|syntax error):\s*", "", line, flags=re.IGNORECASE)


class DuckDBReader:
    """The current DuckDB snapshot, opened read-only, without access to other files."""

    def __init__(self, warehouse_path: Path) -> None:
        self.conn = self._open(Path(warehouse_path))

    def _open(self, warehouse_path: Path) -> duckdb.DuckDBPyConnection:
        config = {"enable_external_access": False, "lock_configuration": True}
        # A publish may prune the resolved snapshot between resolving and opening it: the
        # second attempt resolves the pointer again.
        for attempt in range(2):
            snapshot = current_snapshot(warehouse_path)
            try:
                conn = duckdb.connect(str(snapshot), read_only=True, config=config)
            except duckdb.IOException as exc:
                if attempt == 0 and not snapshot.exists():
                    continue
                raise QueryError(
                    f"cannot open the published warehouse {snapshot}: {_first_line(exc)}"
                ) from None
            self.description = str(snapshot)
            return conn
        raise NoSnapshotError("the published warehouse changed while opening it: try again")

    def execute(self, sql: str) -> QueryResult:
        _statement_types(sql)
        try:
            relation = self.conn.execute(sql)
            columns = [d[0] for d in relation.description or []]
            rows = relation.fetchall() if columns else []
        except duckdb.CatalogException as exc:
            raise self._catalog_error(exc, sql) from None
        except duckdb.ParserException as exc:
            raise QueryError(f"syntax error: {_syntax_message(exc)}") from None
        except duckdb.InvalidInputException as exc:
            if "read-only" in str(exc):
                raise QueryError(f"{READ_ONLY_MESSAGE}: {_first_line(exc)}") from None
            raise QueryError(f"query error: {_first_line(exc)}") from None
        except duckdb.PermissionException:
            raise QueryError(
                "cds query reads the published warehouse only: access to other files is disabled"
            ) from None
        except duckdb.Error as exc:
            raise QueryError(f"query error: {_first_line(exc)}") from None
        return QueryResult(columns, rows)

    def _catalog_error(self, exc: duckdb.CatalogException, sql: str) -> QueryError:
        line = _first_line(exc)
        missing = re.search(r"Table with name (\S+) does not exist", line)
        if not missing:
            return QueryError(f"query error: {line}")
        name = missing.group(1)
        # DuckDB names the table without its schema: show it as the query wrote it.
        written = re.search(rf"[\w\"]+\.{re.escape(name)}\b", sql)
        return missing_table_error(written.group(0) if written else name, self.tables("marts"))

    def tables(self, schema: str) -> list[str]:
        rows = self.conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = ? "
            "ORDER BY table_name",
            [schema],
        ).fetchall()
        return [r[0] for r in rows]

    def close(self) -> None:
        self.conn.close()


def missing_table_error(name: str, marts_tables: Sequence[str]) -> QueryError:
    available = ", ".join(f"marts.{t}" for t in marts_tables) or "none yet (run `cds run`)"
    return QueryError(f"table {name} does not exist; tables in marts: {available}")


class PostgresReader:
    """A PostgreSQL warehouse, read in a read-only transaction that is always rolled back."""

    def __init__(self, url: str) -> None:
        import psycopg2

        self._psycopg2 = psycopg2
        self.description = _redact(url)
        try:
            self.conn = psycopg2.connect(url, connect_timeout=5)
        except psycopg2.Error as exc:
            raise QueryError(
                f"cannot connect to the PostgreSQL warehouse {self.description}: {_first_line(exc)}"
            ) from None
        self.conn.set_session(readonly=True, autocommit=False)

    def execute(self, sql: str) -> QueryResult:
        errors = self._psycopg2.errors
        _statement_types(sql)
        try:
            with self.conn.cursor() as cursor:
                cursor.execute(sql)
                columns = [d[0] for d in cursor.description or []]
                rows = [tuple(r) for r in cursor.fetchall()] if columns else []
        except (errors.ReadOnlySqlTransaction, errors.ActiveSqlTransaction) as exc:
            # Also an attempt to switch the transaction to read-write from inside a query.
            raise QueryError(f"{READ_ONLY_MESSAGE}: {_first_line(exc)}") from None
        except errors.SyntaxError as exc:
            raise QueryError(f"syntax error: {_first_line(exc)}") from None
        except errors.UndefinedTable as exc:
            self.conn.rollback()
            found = re.search(r'relation "([^"]+)" does not exist', str(exc))
            name = found.group(1) if found else "?"
            raise missing_table_error(name, self.tables("marts")) from None
        except self._psycopg2.Error as exc:
            raise QueryError(f"query error: {_first_line(exc)}") from None
        finally:
            self.conn.rollback()
        return QueryResult(columns, rows)

    def tables(self, schema: str) -> list[str]:
        with self.conn.cursor() as cursor:
            cursor.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s "
                "ORDER BY table_name",
                (schema,),
            )
            names = [r[0] for r in cursor.fetchall()]
        self.conn.rollback()
        return names

    def close(self) -> None:
        self.conn.close()


def _redact(url: str) -> str:
    return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", url)


def open_reader(warehouse: str) -> Reader:
    """A read-only reader of the warehouse named by CDS_WAREHOUSE (path or PostgreSQL URL)."""
    if is_postgres(warehouse):
        return PostgresReader(warehouse)
    try:
        return DuckDBReader(Path(warehouse))
    except NoSnapshotError as exc:
        raise QueryError(str(exc)) from None


def run_query(warehouse: str, sql: str) -> QueryResult:
    """Run `sql` on the published warehouse and return all its rows."""
    reader = open_reader(warehouse)
    try:
        return reader.execute(sql)
    finally:
        reader.close()


# -- output ------------------------------------------------------------------------------------
def _cell(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, float):
        if value != value or abs(value) >= 1e15 or (value and abs(value) < 1e-4):
            return repr(value)  # nan, inf, huge or tiny: Python's shortest exact form
        text = f"{value:.6f}".rstrip("0")
        return text + "0" if text.endswith(".") else text
    if isinstance(value, datetime | date | time):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def display_width(text: str) -> int:
    """Terminal columns of `text`: combining marks take none, wide characters two."""
    width = 0
    for char in text:
        if unicodedata.combining(char):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


def _fit(text: str, limit: int) -> str:
    text = text.replace("\n", " ")
    if display_width(text) <= limit:
        return text
    out, width = [], 0
    for char in text:
        width += display_width(char)
        if width > limit - 1:
            break
        out.append(char)
    return "".join(out) + "…"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def format_table(result: QueryResult, max_rows: int = 1000, max_width: int = 60) -> str:
    """Aligned columns (numbers to the right), a rule under the header and a row count."""
    if not result.columns:
        return "OK"
    if result.columns == ["explain_key", "explain_value"]:
        return "\n".join(str(row[1]) for row in result.rows)  # a plan is drawn over many lines
    shown = result.rows[:max_rows]
    cells = [[_fit(_cell(v), max_width) for v in row] for row in shown]
    headers = [_fit(c, max_width) for c in result.columns]
    widths = [
        max([display_width(headers[i])] + [display_width(row[i]) for row in cells])
        for i in range(len(headers))
    ]
    numeric = [
        any(_is_number(row[i]) for row in shown)
        and all(_is_number(row[i]) or row[i] is None for row in shown)
        for i in range(len(headers))
    ]

    def line(values: list[str]) -> str:
        parts = []
        for i, text in enumerate(values):
            pad = " " * (widths[i] - display_width(text))
            parts.append(pad + text if numeric[i] else text + pad)
        return " │ ".join(parts).rstrip()

    out = [line(headers), "─┼─".join("─" * w for w in widths)]
    out += [line(row) for row in cells]
    total = len(result.rows)
    count = f"({total:,} row{'s' if total != 1 else ''}"
    count += (
        f", first {len(shown):,} shown; use --format csv for all)" if total > len(shown) else ")"
    )
    out.append(count)
    return "\n".join(out)


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def format_json(result: QueryResult) -> str:
    records = [
        {col: _json_value(v) for col, v in zip(result.columns, row, strict=True)}
        for row in result.rows
    ]
    return json.dumps(records, ensure_ascii=False, indent=2)


def format_csv(result: QueryResult) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(result.columns)
    for row in result.rows:
        writer.writerow(["" if v is None else _json_value(v) for v in row])
    return buffer.getvalue().rstrip("\n")


FORMATTERS = {"table": format_table, "csv": format_csv, "json": format_json}
