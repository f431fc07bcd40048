"""Landing connector batches into `raw`, atomically with their watermark.

Each batch is one transaction: its new rows, its quarantined records and its watermark
commit together or not at all, so a crash at any point followed by a re-run gives the same
raw content as an uninterrupted run. Rows already landed (same key and version) are skipped:
re-reading is always safe.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import pyarrow as pa

from sources.batch import Batch, Rejected
from warehouse.dialect import POSTGRES, dialect_of
from warehouse.schema import QUALITY_TABLES, RAW_TABLES, Table

QUARANTINE = QUALITY_TABLES["quarantine"]


@dataclass
class LandingStats:
    dataset: str
    rows_read: int = 0
    rows_landed: int = 0
    rows_quarantined: int = 0
    watermark_before: str | None = None
    watermark_after: str | None = None
    batches: int = 0
    reasons: dict[str, int] = field(default_factory=dict)

    def add(self, other: LandingStats) -> None:
        self.rows_read += other.rows_read
        self.rows_landed += other.rows_landed
        self.rows_quarantined += other.rows_quarantined
        self.batches += other.batches
        for reason, n in other.reasons.items():
            self.reasons[reason] = self.reasons.get(reason, 0) + n


def new_load_id() -> str:
    return uuid.uuid4().hex


def _json_default(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def payload_json(payload: dict) -> str:
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, default=_json_default)


def _identity(table: Table, row: dict) -> tuple:
    return tuple(row.get(col) for col in table.key)


def split_duplicates(table: Table, rows: Sequence[dict]) -> tuple[list[dict], list[Rejected]]:
    """Keep one row per key and version; a second row with other content is a duplicate."""
    kept: dict[tuple, dict] = {}
    duplicates: list[Rejected] = []
    for row in rows:
        ident = _identity(table, row)
        first = kept.get(ident)
        if first is None:
            kept[ident] = row
        elif first != row:
            key = "|".join(str(v) for v in ident)
            duplicates.append(
                Rejected(
                    key,
                    f"duplicate: {', '.join(table.key)} = {key} appears twice in one read "
                    "with different content; the first was kept",
                    row,
                )
            )
    return list(kept.values()), duplicates


def _reason_rule(reason: str) -> str:
    return reason.split(":", 1)[0].strip() or "rejected"


class Lander:
    """Writes batches into the warehouse's writer connection (DuckDB, or PostgreSQL through
    `warehouse.postgres.PostgresConnection`)."""

    def __init__(self, conn: Any, run_id: str) -> None:
        self.conn = conn
        self.run_id = run_id

    # -- watermarks ---------------------------------------------------------------------
    def watermark(self, source: str) -> str | None:
        row = self.conn.execute(
            "SELECT watermark FROM ops.watermarks WHERE source = ?", [source]
        ).fetchone()
        return row[0] if row else None

    def _set_watermark(self, source: str, watermark: str, now: datetime) -> None:
        self.conn.execute("DELETE FROM ops.watermarks WHERE source = ?", [source]).fetchall()
        self.conn.execute(
            "INSERT INTO ops.watermarks VALUES (?, ?, ?)", [source, watermark, now]
        ).fetchall()

    def reset_watermark(self, source: str) -> None:
        self.conn.execute("DELETE FROM ops.watermarks WHERE source = ?", [source]).fetchall()

    # -- rows -----------------------------------------------------------------------------
    def insert_new(self, table: Table, rows: Sequence[dict], extra: dict[str, Any]) -> int:
        """Insert the rows whose (key, version) is not in the table yet; return how many."""
        if not rows:
            return 0
        columns = table.column_names
        records = [{**row, **extra} for row in rows]
        arrow = pa.Table.from_pylist(
            [{c: r.get(c) for c in columns} for r in records], schema=table.arrow_schema()
        )
        if dialect_of(self.conn) == POSTGRES:
            return self.conn.insert_new(table, arrow)
        view = f"_landing_{table.name}"
        self.conn.register(view, arrow)
        try:
            bounds = ""
            params: list[Any] = []
            if table.bound:
                lo, hi = self.conn.execute(
                    f'SELECT min("{table.bound}"), max("{table.bound}") FROM {view}'
                ).fetchone()
                bounds = f' AND t."{table.bound}" BETWEEN ? AND ?'
                params = [lo, hi]
            match = " AND ".join(f't."{c}" IS NOT DISTINCT FROM b."{c}"' for c in table.key)
            quoted = ", ".join(f'"{c}"' for c in columns)
            inserted = self.conn.execute(
                f"INSERT INTO {table.qualified} ({quoted}) SELECT {quoted} FROM {view} b "
                f"WHERE NOT EXISTS (SELECT 1 FROM {table.qualified} t WHERE {match}{bounds})",
                params,
            ).fetchone()
            return int(inserted[0]) if inserted else 0
        finally:
            self.conn.unregister(view)

    def quarantine(self, dataset: str, rejected: Iterable[Rejected], now: datetime) -> int:
        rows = []
        for r in rejected:
            payload = payload_json(r.payload)
            digest = hashlib.sha256(f"{r.record_key}\x1f{payload}".encode()).hexdigest()
            rows.append(
                {
                    "dataset": dataset,
                    "record_key": r.record_key,
                    "reason": r.reason,
                    "payload": payload,
                    "run_id": self.run_id,
                    "first_seen": now,
                    "payload_sha256": digest,
                }
            )
        self.insert_new(QUARANTINE, rows, {})
        return len(rows)

    # -- batches --------------------------------------------------------------------------
    def land(self, batches: Iterable[Batch], *, dataset: str) -> LandingStats:
        """Land every batch of one dataset, each atomically with its watermark."""
        table = RAW_TABLES[dataset]
        stats = LandingStats(dataset, watermark_before=self.watermark(dataset))
        stats.watermark_after = stats.watermark_before
        for batch in batches:
            if batch.dataset != dataset:
                raise ValueError(f"batch of {batch.dataset!r} given to the landing of {dataset!r}")
            stats.add(self.land_batch(table, batch))
            if batch.watermark is not None:
                stats.watermark_after = batch.watermark
        return stats

    def land_batch(
        self, table: Table, batch: Batch, *, extra_sql: Sequence[tuple[str, list]] = ()
    ) -> LandingStats:
        """One transaction: new rows, quarantined records, watermark and `extra_sql`."""
        now = datetime.now()
        rows, duplicates = split_duplicates(table, batch.rows)
        rejected = [*batch.rejected, *duplicates]
        stats = LandingStats(batch.dataset, batches=1)
        stats.rows_read = len(batch.rows) + len(batch.rejected)
        self.conn.execute("BEGIN TRANSACTION").fetchall()
        try:
            stats.rows_landed = self.insert_new(
                table, rows, {"_load_id": self.run_id, "_loaded_at": now}
            )
            stats.rows_quarantined = self.quarantine(batch.dataset, rejected, now)
            if batch.watermark is not None:
                self._set_watermark(batch.dataset, batch.watermark, now)
            for sql, params in extra_sql:
                self.conn.execute(sql, params).fetchall()
            self.conn.execute("COMMIT").fetchall()
        except BaseException:
            self.conn.execute("ROLLBACK").fetchall()
            raise
        for r in rejected:
            rule = _reason_rule(r.reason)
            stats.reasons[rule] = stats.reasons.get(rule, 0) + 1
        return stats
