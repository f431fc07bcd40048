"""The officials' scorecard (`cds report`): an HTML page and an Excel workbook of one year.

Read from the published warehouse (never the writer's file), rendered in memory, and written
only once both outputs are complete, each through a temporary file and a rename: a failure
leaves nothing behind and never a half-written report.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from warehouse.query import QueryError, open_reader
from warehouse.report.data import ReportData, ReportError, default_year, load_report_data
from warehouse.report.excel import build_workbook
from warehouse.report.page import render_html

__all__ = [
    "ReportData",
    "ReportError",
    "ReportFiles",
    "build_report",
    "default_year",
    "load_report_data",
    "render_html",
    "build_workbook",
]


@dataclass(frozen=True)
class ReportFiles:
    year: int
    html: Path
    xlsx: Path
    data: ReportData


def report_stem(year: int) -> str:
    return f"bao-cao-chuyen-doi-so-{year}"


def _write_atomically(files: dict[Path, bytes]) -> None:
    temps: list[Path] = []
    try:
        for path, content in files.items():
            temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            temps.append(temp)
            temp.write_bytes(content)
        for path, temp in zip(files, temps, strict=True):
            os.replace(temp, path)
    finally:
        for temp in temps:
            with contextlib.suppress(OSError):
                temp.unlink(missing_ok=True)


def build_report(
    warehouse: str, year: int | None, out_dir: Path, today: date | None = None
) -> ReportFiles:
    """Write the HTML scorecard and the workbook of `year` (default: the latest full year)."""
    try:
        reader = open_reader(warehouse)
    except QueryError as exc:
        raise ReportError(str(exc)) from None
    try:
        data = load_report_data(reader, year, today)
    finally:
        reader.close()
    html = render_html(data).encode("utf-8")
    xlsx = build_workbook(data)
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        paths = (
            out_dir / f"{report_stem(data.year)}.html",
            out_dir / f"{report_stem(data.year)}.xlsx",
        )
        _write_atomically({paths[0]: html, paths[1]: xlsx})
    except OSError as exc:
        raise ReportError(f"cannot write the report to {out_dir}: {exc}") from None
    return ReportFiles(data.year, paths[0], paths[1], data)
