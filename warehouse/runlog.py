"""The run log: one row per source read of a run (`ops.run_log`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from warehouse.landing import LandingStats


def record_run(
    conn: Any,
    *,
    run_id: str,
    source: str,
    started_at: datetime,
    stats: LandingStats | None,
    status: str,
    error: str | None = None,
) -> None:
    finished_at = datetime.now()
    conn.execute(
        "INSERT INTO ops.run_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            run_id,
            source,
            started_at,
            finished_at,
            stats.rows_read if stats else 0,
            stats.rows_landed if stats else 0,
            stats.rows_quarantined if stats else 0,
            stats.watermark_before if stats else None,
            stats.watermark_after if stats else None,
            (finished_at - started_at).total_seconds(),
            status,
            error,
        ],
    ).fetchall()


def run_summary(conn: Any, run_id: str) -> list[tuple[str, int, int, int, str]]:
    """(source, rows read, landed, quarantined, status) of one run, in the order they ran."""
    return conn.execute(
        "SELECT source, rows_read, rows_landed, rows_quarantined, status FROM ops.run_log "
        "WHERE run_id = ? ORDER BY started_at",
        [run_id],
    ).fetchall()
