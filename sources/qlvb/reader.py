"""Reader of the document system's database (contracts/qlvb-database.md), SQLAlchemy Core.

Keyset paging by `(ngay_cap_nhat, id)`, strictly after the watermark, one `Batch` per chunk;
the batch's watermark is the last key of the chunk as JSON text
`{"ngay_cap_nhat": "<iso local>", "id": <n>}`. The reader only reads: every connection is
made read-only (SQLite `PRAGMA query_only`, PostgreSQL read-only transactions) and no
transaction stays open between chunks, so the live system is never held back.

How this reader reads the contract where it leaves room:
- "read incrementally with `ngay_cap_nhat >= watermark`": the watermark carries the id too,
  so `(ngay_cap_nhat, id) > (watermark)` reads every row after the last one committed and
  none twice. A row updated while the pipeline reads gets a newer `ngay_cap_nhat` and comes
  again later (in this read or the next): landing keys by (id, ngay_cap_nhat).
- Column values are selected raw (no SQLAlchemy type processing) and converted here, so one
  unparseable date rejects one row instead of failing the chunk. On SQLite, where
  timestamps are text, the watermark is written in the text format the table uses (read
  off one stored value) so that the database compares like with like.
- A row without `id` or `ngay_cap_nhat` cannot be placed in the keyset order at all: such
  rows are rejected (`missing_key`) by a separate sweep on a full read (watermark None)
  only, since an incremental read cannot know whether they are new.
- Only enumerations, keys and dates are row rules here (`enum`, `missing_key`,
  `unparseable_date`, `wrong_type`); a null enumeration value is not in the enumeration and
  is rejected; other columns may be null. Logical rules (closed before opened) and unknown
  unit codes are data-quality checks downstream.
- Keyset reading by a timestamp the application writes cannot see a row stamped before the
  watermark but committed after it was read (a long transaction). `lookback_s` (default 0:
  strictly after the watermark, as agreed) re-reads that margin on incremental reads.
- A dropped connection (an error SQLAlchemy flags as a disconnect, or any
  `OperationalError`) closes the connection, disposes of the pool and resumes from the last
  key read, at most `max_reconnects` times in a row; then `QlvbError` names the table and
  the key.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import logging
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError, OperationalError

from sources.batch import Batch, Progress, Rejected, no_progress
from sources.qlvb.schema import KEY_ID, KEY_TS, TABLES, dataset_of, json_safe, validate
from sources.timeutil import format_timestamp, parse_timestamp

log = logging.getLogger(__name__)


_MIN_ID = -(2**63)


class QlvbError(RuntimeError):
    """The document system could not be read (schema, or the connection kept dropping)."""


def make_engine(url: str) -> Engine:
    """A read-only engine for a QLVB URL.

    SQLAlchemy 2.1 maps a bare `postgresql://` URL to psycopg 3; the project ships psycopg2,
    so the bare form falls back to it when psycopg 3 is not installed.
    """
    parsed = make_url(url)
    if parsed.drivername == "postgresql" and importlib.util.find_spec("psycopg") is None:
        parsed = parsed.set(drivername="postgresql+psycopg2")
    backend = parsed.get_backend_name()
    engine = sa.create_engine(parsed, pool_pre_ping=False)

    @sa.event.listens_for(engine, "connect")
    def _read_only(dbapi_conn: Any, _record: Any) -> None:
        cursor = dbapi_conn.cursor()
        try:
            if backend == "sqlite":
                cursor.execute("PRAGMA query_only = ON")
                cursor.execute("PRAGMA busy_timeout = 30000")
            elif backend == "postgresql":
                cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
        finally:
            cursor.close()
        if backend == "postgresql":
            dbapi_conn.commit()

    return engine


def parse_watermark(text: str | None) -> tuple[datetime, int] | None:
    """The (ngay_cap_nhat, id) of a watermark text; None for None."""
    if text is None:
        return None
    try:
        data = json.loads(text)
        return parse_timestamp(data[KEY_TS]), int(data[KEY_ID])
    except (ValueError, TypeError, KeyError) as exc:
        raise ValueError(f"not a QLVB watermark: {text!r}") from exc


def format_watermark(ts: datetime, row_id: int) -> str:
    return json.dumps({KEY_TS: format_timestamp(ts), KEY_ID: row_id})


def _sqlite_text(ts: datetime, sample: str) -> str:
    """`ts` written like `sample` (separator and fraction digits), for text comparison."""
    sep = sample[10] if len(sample) > 10 and sample[10] in " T" else " "
    text = ts.strftime(f"%Y-%m-%d{sep}%H:%M:%S")
    dot = sample.find(".", 19)
    if dot != -1:
        digits = len(sample[dot + 1 :]) - len(sample[dot + 1 :].lstrip("0123456789"))
        if digits:
            text += "." + f"{ts.microsecond:06d}"[: min(6, digits)]
    return text


def _is_disconnect(exc: DBAPIError) -> bool:
    return bool(exc.connection_invalidated) or isinstance(exc, OperationalError)


class QlvbReader:
    """Reads the QLVB tables incrementally; never writes."""

    def __init__(
        self,
        url: str,
        *,
        chunk_size: int = 10_000,
        max_reconnects: int = 5,
        sleep: Callable[[float], None] = time.sleep,
        schema: str | None = None,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        lookback_s: float = 0.0,
    ) -> None:
        if chunk_size < 1:
            raise ValueError("chunk_size must be positive")
        self.url = url
        self.chunk_size = chunk_size
        self.max_reconnects = max_reconnects
        self.schema = schema
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.lookback = timedelta(seconds=lookback_s)
        self._sleep = sleep

    def __repr__(self) -> str:  # the URL may hold a password
        return f"QlvbReader({make_url(self.url).render_as_string(hide_password=True)!r})"

    def connect(self, engine: Engine) -> Connection:
        """A new connection (a hook: tests wrap it to drop connections on purpose)."""
        return engine.connect()

    def read(
        self, table: str, watermark: str | None, *, progress: Progress = no_progress
    ) -> Iterator[Batch]:
        """Rows of `table` changed after `watermark` (all when None), one Batch per chunk."""
        if table not in TABLES:
            raise ValueError(f"unknown QLVB table {table!r}; known: {sorted(TABLES)}")
        start = parse_watermark(watermark)
        if start is not None and self.lookback:
            # Re-read a margin before the watermark: a row stamped earlier but committed later
            # (a long transaction of the live system) is not skipped. Landing is idempotent.
            start = (start[0] - self.lookback, _MIN_ID)
        return self._read(table, start, progress)

    # -- internals ------------------------------------------------------------------------
    def _table(self, table: str) -> sa.TableClause:
        # Untyped columns: values come back exactly as the driver gives them.
        return sa.table(table, *(sa.column(c.name) for c in TABLES[table]), schema=self.schema)

    def _check_schema(self, conn: Connection, table: str) -> None:
        inspector = sa.inspect(conn)
        if not inspector.has_table(table, schema=self.schema):
            raise QlvbError(f"qlvb: table {table!r} not found in the database")
        present = {c["name"] for c in inspector.get_columns(table, schema=self.schema)}
        missing = [c.name for c in TABLES[table] if c.name not in present]
        if missing:
            raise QlvbError(f"qlvb {table}: column(s) missing from the database: {missing}")

    def _bound(self, conn: Connection, t: sa.TableClause, start: tuple[datetime, int]) -> tuple:
        """The watermark as values the database compares correctly with stored keys."""
        ts, row_id = start
        if conn.dialect.name != "sqlite":
            return ts, row_id
        sample = conn.execute(
            sa.select(t.c[KEY_TS]).where(t.c[KEY_TS].is_not(None)).limit(1)
        ).scalar()
        template = sample if isinstance(sample, str) else "2000-01-01 00:00:00.000000"
        return _sqlite_text(ts, template), row_id

    def _backoff(self, attempt: int) -> float:
        return min(self.backoff_max, self.backoff_base * 2 ** (attempt - 1))

    def _read(
        self, table: str, start: tuple[datetime, int] | None, progress: Progress
    ) -> Iterator[Batch]:
        t = self._table(table)
        cols = [t.c[c.name] for c in TABLES[table]]
        key = sa.tuple_(t.c[KEY_TS], t.c[KEY_ID])
        link = _Link(self, table)
        cursor: tuple | None = None  # raw (ngay_cap_nhat, id) of the last row read
        done = 0
        try:
            # The schema check and the watermark's text form need the database itself.
            cursor = link.run(lambda conn: self._prepare(conn, t, table, start), cursor)
            while True:
                stmt = sa.select(*cols).order_by(t.c[KEY_TS], t.c[KEY_ID])
                if cursor is None:
                    stmt = stmt.where(t.c[KEY_TS].is_not(None), t.c[KEY_ID].is_not(None))
                else:
                    stmt = stmt.where(key > sa.tuple_(*map(sa.literal, cursor)))
                query = stmt.limit(self.chunk_size)
                records = link.run(lambda conn, q=query: conn.execute(q).all(), cursor)
                if not records:
                    break
                batch = self._batch(table, [r._asdict() for r in records])
                cursor = (records[-1][-1], records[-1][0])
                done += len(records)
                progress(f"qlvb {table}", done, None)
                yield batch
                if len(records) < self.chunk_size:
                    break
            if start is None:
                # Rows without a key are outside the keyset order: one sweep on a full read.
                sweep = sa.select(*cols).where(sa.or_(t.c[KEY_TS].is_(None), t.c[KEY_ID].is_(None)))
                keyless = link.run(lambda conn: conn.execute(sweep).all(), cursor)
                for i in range(0, len(keyless), self.chunk_size):
                    chunk = keyless[i : i + self.chunk_size]
                    batch = self._batch(table, [r._asdict() for r in chunk])
                    batch.watermark = None  # nothing to commit: the key order did not move
                    yield batch
        finally:
            link.close()

    def _prepare(
        self, conn: Connection, t: sa.TableClause, table: str, start: tuple[datetime, int] | None
    ) -> tuple | None:
        self._check_schema(conn, table)
        return None if start is None else self._bound(conn, t, start)

    def _batch(self, table: str, records: list[dict[str, Any]]) -> Batch:
        rows: list[dict[str, Any]] = []
        rejected: list[Rejected] = []
        last_valid: tuple[datetime, int] | None = None
        for raw in records:
            row, problems = validate(table, raw)
            if row is None:
                rid = raw.get(KEY_ID)
                key = None if rid is None else str(rid)
                rejected.append(Rejected(key, "; ".join(problems), json_safe(raw)))
                # A rejected row still moves the watermark when its key is sound.
                with contextlib.suppress(TypeError, ValueError):
                    last_valid = (parse_timestamp(raw[KEY_TS]), int(raw[KEY_ID]))
                continue
            rows.append(row)
            last_valid = (row[KEY_TS], row[KEY_ID])
        watermark = format_watermark(*last_valid) if last_valid else None
        return Batch(dataset_of(table), rows, rejected, watermark)


class _Link:
    """The connection of one read: re-made after a drop, at most `max_reconnects` times in a row.

    Each query runs in its own short transaction, ended before the rows go to the consumer,
    so that no snapshot is held while a chunk is landed.
    """

    def __init__(self, reader: QlvbReader, table: str) -> None:
        self.reader = reader
        self.table = table
        self.engine = make_engine(reader.url)
        self.conn: Connection | None = None

    def run(self, work: Callable[[Connection], Any], cursor: tuple | None) -> Any:
        reader, failures = self.reader, 0
        while True:
            try:
                if self.conn is None:
                    self.conn = reader.connect(self.engine)
                result = work(self.conn)
                self.conn.rollback()
                return result
            except DBAPIError as exc:
                if not _is_disconnect(exc):
                    raise QlvbError(
                        f"qlvb {self.table}: query failed at key (ngay_cap_nhat, id) = {cursor}: "
                        f"{type(exc.orig).__name__}"
                    ) from exc
                failures += 1
                self.close()
                if failures > reader.max_reconnects:
                    raise QlvbError(
                        f"qlvb {self.table}: connection lost {failures} times in a row; gave up "
                        f"at key (ngay_cap_nhat, id) = {cursor}"
                    ) from exc
                log.warning(
                    "qlvb %s: connection lost at key %s (%d/%d); reconnecting",
                    self.table,
                    cursor,
                    failures,
                    reader.max_reconnects,
                )
                reader._sleep(reader._backoff(failures))

    def close(self) -> None:
        if self.conn is not None:
            try:
                self.conn.close()
            except Exception:  # noqa: BLE001 - a dead connection may fail to close; go on
                log.debug("closing a dropped connection failed", exc_info=True)
            self.conn = None
        self.engine.dispose()
